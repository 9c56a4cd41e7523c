"""``mx.gluon.data``: ``Dataset``, ``SimpleDataset``, ``ArrayDataset``, ``DataLoader``
(single process; batches are stacked into NDArrays; ``shuffle`` uses ``numpy.random``
as MXNet's RandomSampler does)."""

from __future__ import annotations

import numpy as np

from optjax.compat.mxnet import ndarray as nd

__all__ = ["Dataset", "SimpleDataset", "ArrayDataset", "DataLoader", "default_batchify_fn"]


class Dataset:
    def __getitem__(self, idx):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError

    def transform(self, fn, lazy=True):
        return _LazyTransformDataset(self, fn)

    def transform_first(self, fn, lazy=True):
        def first(*x):
            if len(x) > 1:
                return (fn(x[0]),) + x[1:]
            return fn(x[0])
        return self.transform(first, lazy)


class _LazyTransformDataset(Dataset):
    def __init__(self, data, fn):
        self._data, self._fn = data, fn

    def __len__(self):
        return len(self._data)

    def __getitem__(self, idx):
        item = self._data[idx]
        if isinstance(item, tuple):
            return self._fn(*item)
        return self._fn(item)


class SimpleDataset(Dataset):
    def __init__(self, data):
        self._data = data

    def __len__(self):
        return len(self._data)

    def __getitem__(self, idx):
        return self._data[idx]


class ArrayDataset(Dataset):
    """Zips arrays of the same length: item ``i`` is ``(a[i], b[i], ...)``."""

    def __init__(self, *args):
        assert len(args) > 0, "Needs at least 1 arrays"
        self._length = len(args[0])
        self._data = []
        for i, data in enumerate(args):
            assert len(data) == self._length, \
                "All arrays must have the same length; array[0] has length %d while " \
                "array[%d] has %d." % (self._length, i + 1, len(data))
            if isinstance(data, nd.NDArray) and len(data.shape) == 1:
                data = data.asnumpy()
            self._data.append(data)

    def __getitem__(self, idx):
        if len(self._data) == 1:
            return self._data[0][idx]
        return tuple(data[idx] for data in self._data)

    def __len__(self):
        return self._length

    def _take(self, indices):
        """Fast path: one gather per array instead of stacking items."""
        out = []
        for data in self._data:
            if isinstance(data, nd.NDArray):
                out.append(nd.NDArray(data._data[np.asarray(indices)]))
            elif isinstance(data, np.ndarray):
                out.append(nd.array(data[np.asarray(indices)], dtype=data.dtype
                                    if data.dtype != np.float64 else np.float32))
            else:
                return None
        return out[0] if len(out) == 1 else out


def default_batchify_fn(data):
    if isinstance(data[0], nd.NDArray):
        return nd.stack(*data)
    if isinstance(data[0], tuple):
        data = zip(*data)
        return [default_batchify_fn(i) for i in data]
    data = np.asarray(data)
    return nd.array(data, dtype=data.dtype if data.dtype != np.float64 else np.float32)


class DataLoader:
    """``DataLoader(dataset, batch_size, shuffle=False, last_batch='keep')``."""

    def __init__(self, dataset, batch_size=None, shuffle=False, sampler=None, last_batch=None,
                 batch_sampler=None, batchify_fn=None, num_workers=0, pin_memory=False,
                 pin_device_id=0, prefetch=None, thread_pool=False, timeout=120):
        self._dataset = dataset
        if batch_sampler is None:
            if batch_size is None:
                raise ValueError("batch_size must be specified unless batch_sampler is specified")
            if sampler is not None and shuffle:
                raise ValueError("shuffle must not be specified if sampler is specified")
            last_batch = last_batch if last_batch else "keep"
            if last_batch not in ("keep", "discard", "rollover"):
                raise ValueError("last_batch must be one of 'keep', 'discard', or 'rollover', "
                                 "but got %s" % last_batch)
        elif batch_size is not None or shuffle or sampler is not None or last_batch is not None:
            raise ValueError("batch_size, shuffle, sampler and last_batch must not be specified "
                             "if batch_sampler is specified.")
        self._batch_size = batch_size
        self._shuffle = shuffle
        self._sampler = sampler
        self._last_batch = last_batch
        self._batch_sampler = batch_sampler
        self._batchify_fn = batchify_fn or default_batchify_fn
        self._prev = []

    def _batches(self):
        if self._batch_sampler is not None:
            yield from self._batch_sampler
            return
        if self._sampler is not None:
            order = list(self._sampler)
        elif self._shuffle:
            order = list(np.random.permutation(len(self._dataset)))
        else:
            order = list(range(len(self._dataset)))
        order = self._prev + order
        self._prev = []
        bs = self._batch_size
        for i in range(0, len(order), bs):
            batch = order[i:i + bs]
            if len(batch) < bs:
                if self._last_batch == "discard":
                    return
                if self._last_batch == "rollover":
                    self._prev = batch
                    return
            yield batch

    def __iter__(self):
        fast = (isinstance(self._dataset, ArrayDataset)
                and self._batchify_fn is default_batchify_fn)
        for batch in self._batches():
            if fast:
                out = self._dataset._take(batch)
                if out is not None:
                    yield out
                    continue
            yield self._batchify_fn([self._dataset[int(i)] for i in batch])

    def __len__(self):
        n = len(self._dataset)
        if self._batch_sampler is not None:
            return len(self._batch_sampler)
        if self._last_batch == "keep":
            return (n + self._batch_size - 1) // self._batch_size
        if self._last_batch == "discard":
            return n // self._batch_size
        return (n + len(self._prev)) // self._batch_size
