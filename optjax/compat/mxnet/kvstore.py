"""``mx.kv`` / ``mx.kvstore``: MXNet 1.9.1's single-process key-value stores.

``create('local')`` and ``create('device')`` (and MXNet's legacy aliases
``local_update_cpu``, ``local_allreduce_cpu``, ``local_allreduce_device``) return a
:class:`KVStore` that keeps one NDArray per key. ``push(key, values)`` sums the
values pushed for the key (one per device, as the local and device stores reduce
gradients) and then either replaces the stored value with the sum or, after
``set_optimizer``, applies the optimizer's updater ``updater(key, sum, stored)``;
``pull(key, out)`` copies the stored value into every output. All devices here are
JAX devices of one process, so ``'local'`` and ``'device'`` compute the same numbers;
distributed stores (``dist_*``, ``horovod``, ``byteps``) and ``nccl`` are not supported.

Example:
    >>> import optjax.compat.mxnet as mx
    >>> kv = mx.kv.create('local')
    >>> kv.init(3, mx.nd.ones((2,)))
    >>> kv.push(3, [mx.nd.ones((2,)) * 2, mx.nd.ones((2,)) * 3])
    >>> out = mx.nd.zeros((2,))
    >>> kv.pull(3, out=out)
    >>> out.asnumpy().tolist()
    [5.0, 5.0]
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from optjax.compat.mxnet import ndarray as nd
from optjax.compat.mxnet.base import MXNetError

__all__ = ["KVStore", "KVStoreBase", "create"]

_TYPES = {"local": "local", "local_update_cpu": "local_update_cpu",
          "local_allreduce_cpu": "local_allreduce_cpu", "device": "device",
          "local_allreduce_device": "local_allreduce_device"}
_UNSUPPORTED = ("dist_sync", "dist_async", "dist_device_sync", "dist_sync_device",
                "dist_device_async", "dist", "nccl", "horovod", "byteps", "p3")


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


class KVStore:
    """A single-process key-value store (see the module docstring)."""

    OPTIMIZER = "optimizer"

    def __init__(self, kv_type: str = "local"):
        self._type = kv_type
        self._store: Dict[Any, nd.NDArray] = {}
        self._key_type: Optional[type] = None
        self._updater: Optional[Callable] = None
        self._compression: Dict[str, Any] = {}

    @property
    def type(self) -> str:
        """The store's type name, as given to :func:`create`."""
        return self._type

    @property
    def rank(self) -> int:
        """This worker's rank: always 0 (one process)."""
        return 0

    @property
    def num_workers(self) -> int:
        """The number of workers: always 1."""
        return 1

    @staticmethod
    def is_capable(capability: str) -> bool:
        """Whether the store can run the optimizer (``KVStore.OPTIMIZER``): yes."""
        if capability.lower() == KVStore.OPTIMIZER:
            return True
        raise ValueError("Unknown capability: {}".format(capability))

    def _pairs(self, key, value, what: str):
        keys = _as_list(key)
        if isinstance(key, (list, tuple)):
            values = list(value) if isinstance(value, (list, tuple)) else [value]
            if len(values) != len(keys):
                raise ValueError("%s: %d keys but %d values" % (what, len(keys), len(values)))
            values = [_as_list(v) for v in values]
        else:
            values = [_as_list(value)]
        for k in keys:
            if not isinstance(k, (int, str)):
                raise TypeError("%s: keys must be int or str, got %r" % (what, k))
            kt = str if isinstance(k, str) else int
            if self._key_type is None:
                self._key_type = kt
            elif self._key_type is not kt:
                raise MXNetError("%s: mixed key types are not allowed (key %r is a %s, the store "
                                 "holds %s keys)" % (what, k, kt.__name__, self._key_type.__name__))
        return list(zip(keys, values))

    def _stored(self, key, what: str) -> nd.NDArray:
        if key not in self._store:
            raise MXNetError("%s: key %r doesn't exist. Did you init?" % (what, key))
        return self._store[key]

    def init(self, key, value) -> None:
        """Store an initial value per key (a list of values: the first one is kept)."""
        pairs = self._pairs(key, value, "init")
        for k, _ in pairs:
            if k in self._store:
                raise MXNetError("init: duplicate init of key %r" % (k,))
        for k, vals in pairs:
            self._store[k] = vals[0].copy()

    @staticmethod
    def _reduce(vals: List[nd.NDArray]) -> nd.NDArray:
        total = vals[0].copy()
        for v in vals[1:]:
            total += v.as_in_context(total.context)
        return total

    def push(self, key, value, priority: int = 0) -> None:
        """Sum the values pushed for each key and store (or, with an optimizer, apply) it."""
        pairs = self._pairs(key, value, "push")
        for k, _ in pairs:
            self._stored(k, "push")
        for k, vals in pairs:
            merged = self._reduce(vals)
            if self._updater is not None:
                self._updater(k, merged, self._store[k])
            else:
                self._store[k] = merged

    def pull(self, key, out=None, priority: int = 0, ignore_sparse: bool = True) -> None:
        """Copy each key's stored value into ``out`` (an NDArray or a list, one per device)."""
        if out is None:
            raise ValueError("pull: out must be given (an NDArray or a list of NDArrays)")
        pairs = self._pairs(key, out, "pull")
        for k, _ in pairs:
            self._stored(k, "pull")
        for k, outs in pairs:
            for o in outs:
                self._store[k].copyto(o)

    def pushpull(self, key, value, out=None, priority: int = 0) -> None:
        """``push(key, value)`` then ``pull(key, out)`` (``out=None``: into ``value``)."""
        self.push(key, value, priority)
        self.pull(key, value if out is None else out, priority)

    def broadcast(self, key, value, out, priority: int = 0) -> None:
        """``init(key, value)`` then ``pull(key, out)``."""
        self.init(key, value)
        self.pull(key, out, priority)

    def row_sparse_pull(self, key, out=None, priority: int = 0, row_ids=None) -> None:
        """Dense stores only: the same as :meth:`pull`."""
        self.pull(key, out, priority)

    def set_gradient_compression(self, compression_params: Dict[str, Any]) -> None:
        """Accepted and recorded; gradients are never compressed here."""
        self._compression = dict(compression_params)

    def set_optimizer(self, optimizer) -> None:
        """Apply ``optimizer`` (through its updater) to every later push."""
        from optjax.compat.mxnet import optimizer as opt  # pylint: disable=import-outside-toplevel
        self._set_updater(opt.get_updater(optimizer))

    def _set_updater(self, updater: Callable) -> None:
        self._updater = updater

    def save_optimizer_states(self, fname: str, dump_optimizer: bool = False) -> None:
        """Write the updater's states (optjax's pickle-free format) to ``fname``."""
        if self._updater is None:
            raise MXNetError("save_optimizer_states: call set_optimizer first")
        with open(fname, "wb") as fout:
            fout.write(self._updater.get_states(dump_optimizer))

    def load_optimizer_states(self, fname: str) -> None:
        """Read states written by :meth:`save_optimizer_states`."""
        if self._updater is None:
            raise MXNetError("load_optimizer_states: call set_optimizer first")
        with open(fname, "rb") as fin:
            self._updater.set_states(fin.read())

    def _barrier(self) -> None:
        pass

    def __repr__(self):
        return "<KVStore type=%s keys=%d>" % (self._type, len(self._store))


KVStoreBase = KVStore


def create(name: str = "local") -> KVStore:
    """A new :class:`KVStore` of type ``name`` (``'local'``, ``'device'``, or MXNet's
    ``local_update_cpu``/``local_allreduce_cpu``/``local_allreduce_device``)."""
    if not isinstance(name, str):
        raise TypeError("name must be a string")
    key = name.lower()
    if key in _TYPES:
        return KVStore(_TYPES[key])
    if key in _UNSUPPORTED or key.startswith("dist"):
        raise MXNetError("kvstore %r: distributed and NCCL stores are not supported; use "
                         "'local' or 'device'" % name)
    raise ValueError("kvstore: unknown type %r; known types: %s" % (name, ", ".join(_TYPES)))
