"""``mx.gluon.data`` datasets (MXNet 1.9.1's ``gluon/data/dataset.py``):
``Dataset`` with ``filter``/``shard``/``take``/``sample``/``transform``/
``transform_first``, ``SimpleDataset``, ``ArrayDataset`` and ``RecordFileDataset``.

Example:
    >>> from optjax.compat.mxnet.gluon.data import SimpleDataset
    >>> ds = SimpleDataset(list(range(10)))
    >>> list(ds.shard(3, 0)), list(ds.filter(lambda x: x % 4 == 0)), len(ds.take(4))
    ([0, 1, 2, 3], [0, 4, 8], 4)
"""

from __future__ import annotations

import os
from typing import Callable, Optional

import numpy as np

from optjax.compat.mxnet import ndarray as nd
from optjax.compat.mxnet.gluon.data import sampler as _sampler

__all__ = ["Dataset", "SimpleDataset", "ArrayDataset", "RecordFileDataset"]


class Dataset:
    """Abstract dataset: ``__getitem__(idx)`` and ``__len__``."""

    def __getitem__(self, idx):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError

    def filter(self, fn: Callable) -> "Dataset":
        """The samples for which ``fn(sample)`` is true (evaluated now)."""
        return _SampledDataset(self, _sampler.FilterSampler(fn, self))

    def shard(self, num_shards: int, index: int) -> "Dataset":
        """Contiguous shard ``index`` of ``num_shards``; the first ``len % num_shards``
        shards hold one extra sample."""
        if num_shards <= 0:
            raise ValueError("shard: num_shards must be greater than 0, got %r" % (num_shards,))
        if not 0 <= index < num_shards:
            raise ValueError("shard: index must be in [0, num_shards), got index=%d, num_shards=%d"
                             % (index, num_shards))
        length = len(self)
        shard_len = length // num_shards
        rest = length % num_shards
        start = shard_len * index + min(index, rest)
        end = start + shard_len + (index < rest)
        return _SampledDataset(self, _sampler.SequentialSampler(end - start, start))

    def take(self, count: Optional[int]) -> "Dataset":
        """The first ``count`` samples (all when None or larger than the dataset)."""
        if count is None or count > len(self):
            count = len(self)
        return _SampledDataset(self, _sampler.SequentialSampler(count))

    def sample(self, sampler) -> "Dataset":
        """The samples at the indices ``sampler`` yields (drawn once, now)."""
        if not isinstance(sampler, _sampler.Sampler):
            raise TypeError("Invalid sampler type: %s. Expected gluon.data.Sampler instead."
                            % type(sampler))
        return _SampledDataset(self, sampler)

    def transform(self, fn: Callable, lazy: bool = True) -> "Dataset":
        """``fn(*sample)`` for tuple samples, ``fn(sample)`` otherwise; ``lazy=False``
        applies it to every sample now."""
        trans = _LazyTransformDataset(self, fn)
        if lazy:
            return trans
        return SimpleDataset([i for i in trans])

    def transform_first(self, fn: Callable, lazy: bool = True) -> "Dataset":
        """Apply ``fn`` to the first element of each sample only."""
        return self.transform(_TransformFirstClosure(fn), lazy)


class SimpleDataset(Dataset):
    """A dataset over any indexable sequence (list, array, ...)."""

    def __init__(self, data):
        self._data = data

    def __len__(self):
        return len(self._data)

    def __getitem__(self, idx):
        return self._data[idx]


class _LazyTransformDataset(Dataset):
    def __init__(self, data, fn):
        self._data = data
        self._fn = fn

    def __len__(self):
        return len(self._data)

    def __getitem__(self, idx):
        item = self._data[idx]
        if isinstance(item, tuple):
            return self._fn(*item)
        return self._fn(item)


class _TransformFirstClosure:
    def __init__(self, fn):
        self._fn = fn

    def __call__(self, x, *args):
        if args:
            return (self._fn(x),) + args
        return self._fn(x)


class _SampledDataset(Dataset):
    def __init__(self, dataset, sampler):
        self._dataset = dataset
        self._sampler = sampler
        self._indices = list(iter(sampler))

    def __len__(self):
        return len(self._sampler)

    def __getitem__(self, idx):
        return self._dataset[self._indices[idx]]


class ArrayDataset(Dataset):
    """Zips arrays of the same length: item ``i`` is ``(a[i], b[i], ...)`` (just ``a[i]``
    for one array); 1-d NDArrays are kept as numpy arrays, as MXNet does."""

    def __init__(self, *args):
        if not args:
            raise ValueError("ArrayDataset: needs at least 1 array")
        self._length = len(args[0])
        self._data = []
        for i, data in enumerate(args):
            if len(data) != self._length:
                raise ValueError("ArrayDataset: all arrays must have the same length; array[0] "
                                 "has length %d while array[%d] has %d."
                                 % (self._length, i, len(data)))
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
        """Fast path of the default batchify: one gather per array instead of stacking
        items (None when an array is neither an NDArray nor a numpy array)."""
        out = []
        idx = np.asarray(indices)
        for data in self._data:
            if isinstance(data, nd.NDArray):
                out.append(nd.NDArray(data._data[idx]))
            elif isinstance(data, np.ndarray):
                part = data[idx]
                out.append(nd.array(part, dtype=part.dtype if part.dtype != np.float64
                                    else np.float32))
            else:
                return None
        return out[0] if len(out) == 1 else out


_RECORDIO_MAGIC = 0xCED7230A


def _read_record(f, path: str) -> bytes:
    """One logical record of an MXNet RecordIO file at ``f``'s position: ``magic``,
    ``lrecord`` (3-bit continuation flag, 29-bit length), the payload padded to 4 bytes;
    a payload containing the magic number is split into parts (flags 1, 2, 3) that are
    joined with the magic number between them."""
    parts = []
    while True:
        head = f.read(8)
        if len(head) < 8:
            raise ValueError("RecordFileDataset: %r ends inside a record header" % (path,))
        magic, lrec = np.frombuffer(head, dtype="<u4")
        if magic != _RECORDIO_MAGIC:
            raise ValueError("RecordFileDataset: %r is not a RecordIO file (bad magic at "
                             "offset %d)" % (path, f.tell() - 8))
        cflag, length = int(lrec) >> 29, int(lrec) & ((1 << 29) - 1)
        parts.append(f.read(length))
        f.read((4 - length % 4) % 4)
        if cflag in (0, 3):
            break
    return np.uint32(_RECORDIO_MAGIC).tobytes().join(parts)


class RecordFileDataset(Dataset):
    """The raw records (``bytes``) of an indexed RecordIO file ``filename`` (``.rec``)
    with its ``.idx`` file (``key\\toffset`` lines) next to it."""

    def __init__(self, filename: str):
        self.filename = filename
        self.idx_file = os.path.splitext(filename)[0] + ".idx"
        for path, what in ((filename, "record file"), (self.idx_file, "index file")):
            if not os.path.isfile(path):
                raise FileNotFoundError("RecordFileDataset: %s %r does not exist"
                                        % (what, path))
        self.keys = []
        self._offsets = {}
        with open(self.idx_file, "r", encoding="utf-8") as fin:
            for line in fin:
                fields = line.strip().split("\t")
                if len(fields) < 2:
                    continue
                key = int(fields[0])
                self._offsets[key] = int(fields[1])
                self.keys.append(key)

    def __getitem__(self, idx):
        with open(self.filename, "rb") as f:
            f.seek(self._offsets[self.keys[idx]])
            return _read_record(f, self.filename)

    def __len__(self):
        return len(self.keys)
