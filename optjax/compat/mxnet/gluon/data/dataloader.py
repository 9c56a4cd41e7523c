"""``mx.gluon.data.DataLoader`` (MXNet 1.9.1's ``gluon/data/dataloader.py``): batches
of a dataset, drawn through a :class:`BatchSampler` and stacked by ``batchify_fn``.

Batches are built in the calling process: ``num_workers``, ``thread_pool``,
``prefetch``, ``timeout`` and ``auto_reload`` are accepted for compatibility and
change nothing but speed in MXNet, so the batches (and, under
``numpy.random.seed``, the shuffled order) are MXNet's. ``pin_memory=True`` puts
the batches on ``cpu_pinned(pin_device_id)`` as MXNet does.

Example:
    >>> import numpy as np
    >>> from optjax.compat.mxnet.gluon.data import ArrayDataset, DataLoader
    >>> loader = DataLoader(ArrayDataset(np.zeros((10, 3)), np.arange(10)), batch_size=4)
    >>> [(x.shape, y.shape) for x, y in loader]
    [((4, 3), (4,)), ((4, 3), (4,)), ((2, 3), (2,))]
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from optjax.compat.mxnet import ndarray as nd
from optjax.compat.mxnet.context import cpu_pinned
from optjax.compat.mxnet.gluon.data import sampler as _sampler
from optjax.compat.mxnet.gluon.data.dataset import ArrayDataset

__all__ = ["DataLoader", "default_batchify_fn", "default_mp_batchify_fn"]


def _on_host(x: nd.NDArray) -> bool:
    return x.context.device_type in ("cpu", "cpu_pinned", "cpu_shared")


def default_batchify_fn(data):
    """Stack a list of samples: NDArrays as ``nd.stack`` does, tuples element-wise (a list
    of batches), anything else through ``numpy.asarray`` into an NDArray of its dtype
    (float64 becomes float32: JAX here runs without 64-bit types). CPU NDArrays are
    stacked on the host (the same values, one transfer instead of an op over hundreds
    of inputs)."""
    if isinstance(data[0], nd.NDArray):
        if all(_on_host(d) for d in data):
            stacked = np.stack([d.asnumpy() for d in data])
            return nd.array(stacked, ctx=data[0].context, dtype=stacked.dtype)
        return nd.stack(*data)
    if isinstance(data[0], tuple):
        return [default_batchify_fn(i) for i in zip(*data)]
    data = np.asarray(data)
    return nd.array(data, dtype=data.dtype if data.dtype != np.float64 else np.float32)


default_mp_batchify_fn = default_batchify_fn


def _as_in_context(data, ctx):
    if isinstance(data, nd.NDArray):
        return data.as_in_context(ctx)
    if isinstance(data, (list, tuple)):
        return type(data)(_as_in_context(d, ctx) for d in data)
    return data


class DataLoader:
    """Iterates over ``dataset`` in mini-batches.

    Args:
        dataset: any object with ``__getitem__`` and ``__len__``.
        batch_size: samples per batch (required unless ``batch_sampler`` is given).
        shuffle: draw a new random order each epoch (``RandomSampler``).
        sampler: a :class:`Sampler` of indices (not with ``shuffle``).
        last_batch: ``'keep'`` (default), ``'discard'`` or ``'rollover'``.
        batch_sampler: a sampler of index lists (excludes the four arguments above).
        batchify_fn: stacks a list of samples into a batch (default
            :func:`default_batchify_fn`).
        num_workers, pin_memory, pin_device_id, prefetch, thread_pool, timeout,
        auto_reload: accepted; batches are built in this process.
    """

    def __init__(self, dataset, batch_size: Optional[int] = None, shuffle: bool = False,
                 sampler=None, last_batch: Optional[str] = None, batch_sampler=None,
                 batchify_fn: Optional[Callable] = None, num_workers: int = 0,
                 pin_memory: bool = False, pin_device_id: int = 0, prefetch=None,
                 thread_pool: bool = False, timeout: int = 120, auto_reload: bool = False):
        if timeout <= 0:
            raise ValueError("timeout must be positive, given {}".format(timeout))
        self._dataset = dataset
        self._pin_memory = pin_memory
        self._pin_device_id = pin_device_id
        self._thread_pool = thread_pool
        self._timeout = timeout
        if batch_sampler is None:
            if batch_size is None:
                raise ValueError("batch_size must be specified unless batch_sampler is specified")
            if sampler is None:
                sampler = (_sampler.RandomSampler(len(dataset)) if shuffle
                           else _sampler.SequentialSampler(len(dataset)))
            elif shuffle:
                raise ValueError("shuffle must not be specified if sampler is specified")
            batch_sampler = _sampler.BatchSampler(sampler, batch_size,
                                                  last_batch if last_batch else "keep")
        elif batch_size is not None or shuffle or sampler is not None or last_batch is not None:
            raise ValueError("batch_size, shuffle, sampler and last_batch must not be specified "
                             "if batch_sampler is specified.")
        self._batch_sampler = batch_sampler
        self._num_workers = num_workers if num_workers >= 0 else 0
        self._prefetch = max(0, int(prefetch) if prefetch is not None else 2 * self._num_workers)
        self._batchify_fn = batchify_fn if batchify_fn is not None else default_batchify_fn
        self.auto_reload = auto_reload

    def __iter__(self):
        for batch in self._batches():
            yield _as_in_context(batch, cpu_pinned(self._pin_device_id)) if self._pin_memory \
                else batch

    def _batches(self):
        fast = isinstance(self._dataset, ArrayDataset) and self._batchify_fn in (
            default_batchify_fn, default_mp_batchify_fn)
        for batch in self._batch_sampler:
            if fast:
                out = self._dataset._take(batch)
                if out is not None:
                    yield out
                    continue
            yield self._batchify_fn([self._dataset[int(i)] for i in batch])

    def __len__(self):
        return len(self._batch_sampler)
