"""``mx.io.CSVIter`` and ``mx.io.MNISTIter``: MXNet 1.9.1's file iterators (C++ in
MXNet) over local files, in numpy. Nothing is ever downloaded; a missing file raises
:class:`~optjax.compat.mxnet.base.MXNetError` naming it.

Batching follows MXNet's C++ ``BatchLoader``:

- ``CSVIter(round_batch=True)`` fills the last batch from the start of the file
  (``pad`` = examples taken from the start), and the next epoch continues after
  those examples, exactly as MXNet does; with ``round_batch=False`` the last batch
  keeps the previous batch's trailing rows in its padded slots.
- ``MNISTIter`` drops an incomplete last batch; pixels are ``byte / 256`` (MXNet's
  scaling); ``shuffle`` (default True) permutes the examples once when the files are
  read, in MXNet's exact order: its C++ ``std::shuffle`` with ``std::mt19937(seed)``
  (libstdc++'s one-swap-per-element loop and division-based
  ``uniform_int_distribution``), reproduced by :func:`mxnet_std_shuffle`.
"""

from __future__ import annotations

import gzip
import os
import struct
from typing import Optional, Sequence

import numpy as np

from optjax.compat.mxnet import ndarray as nd
from optjax.compat.mxnet.base import MXNetError
from optjax.compat.mxnet.io.io import DataBatch, DataDesc, DataIter, _BatchHoldingIter

__all__ = ["CSVIter", "MNISTIter", "read_idx", "parse_idx", "mxnet_std_shuffle"]


def _mt19937(seed: int):
    """The 32-bit outputs of C++'s ``std::mt19937(seed)``."""
    state = [0] * 624
    state[0] = seed & 0xFFFFFFFF
    for i in range(1, 624):
        state[i] = (1812433253 * (state[i - 1] ^ (state[i - 1] >> 30)) + i) & 0xFFFFFFFF
    while True:
        for i in range(624):
            y = (state[i] & 0x80000000) | (state[(i + 1) % 624] & 0x7FFFFFFF)
            state[i] = state[(i + 397) % 624] ^ (y >> 1) ^ (0x9908B0DF if y & 1 else 0)
        for y in state:
            y ^= y >> 11
            y ^= (y << 7) & 0x9D2C5680
            y ^= (y << 15) & 0xEFC60000
            yield y ^ (y >> 18)


def mxnet_std_shuffle(n: int, seed: int) -> np.ndarray:
    """The permutation of ``range(n)`` that MXNet's C++ iterators draw with
    ``std::shuffle(v.begin(), v.end(), std::mt19937(seed))``: for ``i = 1 .. n-1``,
    swap ``v[i]`` with ``v[j]``, ``j`` uniform in ``[0, i]`` drawn by scaling down a
    32-bit output (``j = r // (0xFFFFFFFF // (i + 1))``, rejecting
    ``r >= (i + 1) * scaling``)."""
    gen = _mt19937(seed)
    order = list(range(n))
    for i in range(1, n):
        scaling = 0xFFFFFFFF // (i + 1)
        past = (i + 1) * scaling
        r = next(gen)
        while r >= past:
            r = next(gen)
        j = r // scaling
        order[i], order[j] = order[j], order[i]
    return np.asarray(order, dtype=np.int64)


def _require_file(path: str, arg: str) -> str:
    path = os.path.expanduser(str(path))
    if not os.path.isfile(path):
        raise MXNetError("%s: file %r does not exist (nothing is downloaded; place the file "
                         "there or pass its path)" % (arg, path))
    return path


def read_idx(path: str) -> np.ndarray:
    """The array stored in an idx file, gzipped (``.gz``) or not (MNIST's format:
    big-endian magic ``0x0000 <dtype code> <ndim>``, ``ndim`` big-endian uint32 dims,
    then the data)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        return parse_idx(f.read(), path)


def parse_idx(raw: bytes, name: str = "<bytes>") -> np.ndarray:
    """The array held by the bytes of an idx file (``name`` is used in errors)."""
    codes = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
             0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
    head = raw[:4]
    if len(head) != 4 or head[0] != 0 or head[1] != 0 or head[2] not in codes:
        raise MXNetError("%r is not an idx file (bad magic number %r)" % (name, head))
    ndim = head[3]
    if len(raw) < 4 + 4 * ndim:
        raise MXNetError("%r is truncated inside its header" % (name,))
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    dtype = np.dtype(codes[head[2]])
    count = int(np.prod(dims)) if dims else 1
    body = raw[4 + 4 * ndim:]
    if len(body) < count * dtype.itemsize:
        raise MXNetError("%r is truncated: header says %s, file holds %d bytes of data"
                         % (name, dims, len(body)))
    arr = np.frombuffer(body, dtype=dtype, count=count).reshape(dims)
    return arr.astype(dtype.newbyteorder("="))


def _as_jax_dtype(a: np.ndarray, what: str) -> np.ndarray:
    if a.dtype == np.int64:
        info = np.iinfo(np.int32)
        if a.size and (a.min() < info.min or a.max() > info.max):
            raise MXNetError("%s: int64 values outside the int32 range cannot be held (JAX runs "
                             "without 64-bit types here)" % what)
        return a.astype(np.int32)
    return a


class _BatchLoaderIter(_BatchHoldingIter):
    """MXNet's C++ ``BatchLoader`` over in-memory examples ``data[i]``, ``label[i]``."""

    def __init__(self, data: np.ndarray, label: np.ndarray, batch_size: int, round_batch: bool,
                 drop_last: bool, data_name: str, label_name: str, index: Optional[np.ndarray]):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size <= 0:
            raise ValueError("batch_size must be a positive int, got %r" % (batch_size,))
        super().__init__(int(batch_size))
        data, label = _as_jax_dtype(data, "data"), _as_jax_dtype(label, "label")
        self._data, self._label = data, label
        self._round_batch, self._drop_last = round_batch, drop_last
        self._index = index
        self._num = data.shape[0]
        self._pos = 0
        self._overflow = 0
        self._buf_data = np.zeros((self.batch_size,) + data.shape[1:], data.dtype)
        self._buf_label = np.zeros((self.batch_size,) + label.shape[1:], label.dtype)
        self._buf_index = np.zeros(self.batch_size, np.uint64)
        self.provide_data = [DataDesc(data_name, (self.batch_size,) + data.shape[1:],
                                      data.dtype.type)]
        self.provide_label = [DataDesc(label_name, (self.batch_size,) + label.shape[1:],
                                       label.dtype.type)]
        self.current_batch = None

    def reset(self):
        if not self._round_batch or self._overflow == 0:
            self._pos = 0
        else:
            self._overflow = 0

    def _take(self, slot):
        self._buf_data[slot] = self._data[self._pos]
        self._buf_label[slot] = self._label[self._pos]
        self._buf_index[slot] = self._pos if self._index is None else self._index[self._pos]
        self._pos += 1

    def iter_next(self) -> bool:
        if self._overflow != 0:
            return False
        top = 0
        while self._pos < self._num:
            self._take(top)
            top += 1
            if top == self.batch_size:
                self.current_batch = self._make(0)
                return True
        if top == 0 or self._drop_last:
            return False
        if self._round_batch:
            self._pos = 0
            while top < self.batch_size:
                if self._pos >= self._num:
                    raise MXNetError("number of input must be bigger than batch size (%d "
                                     "examples, batch_size=%d)" % (self._num, self.batch_size))
                self._take(top)
                top += 1
                self._overflow += 1
            pad = self._overflow
        else:
            pad = self.batch_size - top
        self.current_batch = self._make(pad)
        return True

    def _make(self, pad):
        return DataBatch([nd.array(self._buf_data, dtype=self._buf_data.dtype)],
                         [nd.array(self._buf_label, dtype=self._buf_label.dtype)], pad=pad,
                         index=self._buf_index.copy())

    def next(self) -> DataBatch:
        if self.iter_next():
            b = self.current_batch
            return DataBatch(b.data, b.label, pad=b.pad, index=b.index,
                             provide_data=self.provide_data, provide_label=self.provide_label)
        raise StopIteration


def _load_csv(path: str, shape: Sequence[int], arg: str, dtype=np.float32) -> np.ndarray:
    rows = np.loadtxt(_require_file(path, arg), delimiter=",", dtype=dtype, ndmin=2)
    shape = tuple(int(s) for s in shape)
    if rows.shape[1] != int(np.prod(shape)):
        raise MXNetError("%s: each row of %r holds %d values but the shape %s needs %d"
                         % (arg, path, rows.shape[1], shape, int(np.prod(shape))))
    return rows.reshape((rows.shape[0],) + shape)


def _csv_dtype(dtype) -> np.dtype:
    name = "float32" if dtype is None else np.dtype(dtype).name
    if name not in ("float32", "int32", "int64"):
        raise MXNetError("CSVIter: dtype %s is not supported (float32, int32 or int64)" % name)
    return np.dtype(name)


def CSVIter(data_csv: str, data_shape, batch_size: int, label_csv: Optional[str] = None,
            label_shape=(1,), round_batch: bool = True, dtype=None, data_name: str = "data",
            label_name: str = "softmax_label", **kwargs) -> DataIter:
    """Batches of rows of a comma-separated file (``data_csv``, one example per row,
    reshaped to ``data_shape``) with labels from ``label_csv`` (zeros when absent;
    ``label_shape=(1,)`` gives labels of shape ``(batch_size,)``); ``dtype`` of data and
    labels: ``'float32'`` (default), ``'int32'`` or ``'int64'`` (held as int32 here, JAX
    running without 64-bit types: values outside int32 raise rather than wrap)."""
    dtype = _csv_dtype(dtype)
    data = _load_csv(data_csv, data_shape, "data_csv", dtype)
    if label_csv is None or label_csv == "NULL":
        label = np.zeros((data.shape[0],) + tuple(label_shape), dtype)
    else:
        label = _load_csv(label_csv, label_shape, "label_csv", dtype)
        if label.shape[0] != data.shape[0]:
            # MXNet fails on fewer label rows; with more, its threaded parsers pair rows
            # differently from epoch to epoch: refused here
            raise MXNetError("label_csv %r holds %d rows but data_csv %r holds %d; they must "
                             "match" % (label_csv, label.shape[0], data_csv, data.shape[0]))
    if tuple(label_shape) == (1,):
        label = label.reshape(label.shape[0])
    return _BatchLoaderIter(data, label, batch_size, round_batch, False, data_name, label_name,
                            None)


def MNISTIter(image: str = "./train-images-idx3-ubyte", label: str = "./train-labels-idx1-ubyte",
              batch_size: int = 128, shuffle: bool = True, flat: bool = False, seed: int = 0,
              silent: bool = False, num_parts: int = 1, part_index: int = 0,
              data_name: str = "data", label_name: str = "softmax_label", **kwargs) -> DataIter:
    """Batches of MNIST-format idx files: data ``(batch, 1, 28, 28)`` (``flat``:
    ``(batch, 784)``) float32 ``byte / 256``, labels ``(batch,)`` float32; an incomplete
    last batch is dropped; ``num_parts``/``part_index`` read one contiguous part."""
    images = read_idx(_require_file(image, "image"))
    labels = read_idx(_require_file(label, "label"))
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise MXNetError("MNISTIter: image %r holds %s and label %r holds %s; expected "
                         "(n, rows, cols) images and n labels" % (image, images.shape, label,
                                                                  labels.shape))
    n = images.shape[0]
    if not 0 <= part_index < num_parts:
        raise MXNetError("MNISTIter: part_index must be in [0, num_parts), got part_index=%d, "
                         "num_parts=%d" % (part_index, num_parts))
    start, end = int(n / num_parts * part_index), int(n / num_parts * (part_index + 1))
    images, labels = images[start:end], labels[start:end]
    data = images.astype(np.float32) * np.float32(1.0 / 256.0)
    data = data.reshape(data.shape[0], -1) if flat else data[:, None]
    order = mxnet_std_shuffle(data.shape[0], seed) if shuffle else np.arange(data.shape[0])
    it = _BatchLoaderIter(data[order], labels[order].astype(np.float32), batch_size, False, True,
                          data_name, label_name, np.zeros(data.shape[0], np.uint64))
    return it
