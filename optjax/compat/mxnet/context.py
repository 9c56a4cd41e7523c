"""``mx.cpu()`` / ``mx.gpu(i)``: MXNet contexts mapped onto JAX devices."""

from __future__ import annotations

import jax


class Context:
    """An MXNet device context (``device_type`` ``'cpu'`` or ``'gpu'``, ``device_id``).

    ``ctx.jax_device`` is the JAX device it stands for: ``cpu(i)`` is JAX's CPU
    device ``i`` when there are several (``--xla_force_host_platform_device_count``,
    for data parallelism over simulated devices) and the first CPU device otherwise
    (MXNet's CPU ids all share host memory); ``gpu(i)`` is ``jax.devices('gpu')[i]``
    and raises ``MXNetError`` when there is none, as MXNet does.
    """

    _default_ctx = None

    def __init__(self, device_type="cpu", device_id=0):
        if isinstance(device_type, Context):
            device_type, device_id = device_type.device_type, device_type.device_id
        if device_type not in ("cpu", "gpu", "cpu_pinned", "cpu_shared"):
            raise ValueError(f"unknown device_type {device_type!r}")
        self.device_type = device_type
        self.device_id = int(device_id)

    @property
    def jax_device(self):
        if self.device_type == "gpu":
            from optjax.compat.mxnet.base import MXNetError
            try:
                devs = jax.devices("gpu")
            except RuntimeError as e:
                raise MXNetError(f"{self} requested but JAX sees no GPU (CUDA: no device)") from e
            if self.device_id >= len(devs):
                raise MXNetError(f"{self} requested but JAX sees {len(devs)} GPU(s)")
            return devs[self.device_id]
        devs = jax.devices("cpu")
        return devs[self.device_id] if self.device_id < len(devs) else devs[0]

    def __eq__(self, other):
        return (isinstance(other, Context) and self.device_type == other.device_type
                and self.device_id == other.device_id)

    def __hash__(self):
        return hash((self.device_type, self.device_id))

    def __repr__(self):
        return f"{self.device_type}({self.device_id})"

    def __enter__(self):
        # a stack per instance: the same Context object may be entered again inside itself
        # (a gluon block's forward inside its parent's, both on the input's context)
        self.__dict__.setdefault("_olds", []).append(Context._default_ctx)
        Context._default_ctx = self
        return self

    def __exit__(self, *exc):
        Context._default_ctx = self._olds.pop()

    @staticmethod
    def default_ctx():
        return Context._default_ctx or Context("cpu", 0)


def cpu(device_id=0):
    return Context("cpu", device_id)


def gpu(device_id=0):
    return Context("gpu", device_id)


def cpu_pinned(device_id=0):
    return Context("cpu_pinned", device_id)


def cpu_shared(device_id=0):
    return Context("cpu_shared", device_id)


def num_gpus():
    try:
        return len(jax.devices("gpu"))
    except RuntimeError:
        return 0


def current_context():
    return Context.default_ctx()


def context_of(array) -> Context:
    """The Context of a JAX array's (first) device."""
    try:
        dev = next(iter(array.devices()))
    except Exception:  # tracers
        return Context("cpu", 0)
    if dev.platform == "cpu":
        return Context("cpu", dev.id)
    return Context("gpu", dev.id)
