"""``mx.io`` data iterators over in-memory arrays: ``DataDesc``, ``DataBatch``,
``DataIter``, ``NDArrayIter``, ``ResizeIter`` and ``PrefetchingIter``.

The semantics are MXNet 1.9.1's (``python/mxnet/io/io.py``): an iterator yields
:class:`DataBatch` objects holding lists of NDArrays; ``NDArrayIter`` slices its
arrays along the batch axis (``layout.find('N')``), shuffles with
``numpy.random.shuffle`` (so ``numpy.random.seed`` repeats MXNet's order), and
handles an incomplete last batch in one of three ways:

- ``'pad'``: fill the batch with examples from the start; ``batch.pad`` counts them;
- ``'discard'``: drop the incomplete batch;
- ``'roll_over'``: keep the leftover examples and put them first in the next
  epoch's first batch (whose ``pad`` is the number of leftover examples).

Example:
    >>> import numpy as np
    >>> import optjax.compat.mxnet as mx
    >>> it = mx.io.NDArrayIter(np.arange(10).reshape(5, 2), np.arange(5), batch_size=2)
    >>> [(b.data[0].shape, b.pad) for b in it]
    [((2, 2), 0), ((2, 2), 0), ((2, 2), 1)]
"""

from __future__ import annotations

import threading
from collections import namedtuple
from typing import List, Optional

import numpy as np

from optjax.compat.mxnet import ndarray as nd
from optjax.compat.mxnet.io.utils import (getdata_by_idx, init_data, slice_all_along_batch_axis,
                                         slice_along_batch_axis)

__all__ = ["DataDesc", "DataBatch", "DataIter", "ResizeIter", "PrefetchingIter", "NDArrayIter"]


class DataDesc(namedtuple("DataDesc", ["name", "shape"])):
    """Name, shape, dtype and layout of one data or label input.

    A ``(name, shape)`` namedtuple (so ``DataDesc('data', (2, 3)) == ('data', (2, 3))``)
    carrying ``dtype`` (default float32) and ``layout`` (default ``'NCHW'``).
    """

    def __new__(cls, name: str, shape, dtype=np.float32, layout: str = "NCHW"):
        ret = super().__new__(cls, name, shape)
        ret.dtype = dtype
        ret.layout = layout
        return ret

    def __repr__(self):
        return "DataDesc[%s,%s,%s,%s]" % (self.name, self.shape, self.dtype, self.layout)

    @staticmethod
    def get_batch_axis(layout: Optional[str]) -> int:
        """The axis of ``'N'`` in ``layout`` (0 when ``layout`` is None, -1 when absent)."""
        if layout is None:
            return 0
        return layout.find("N")

    @staticmethod
    def get_list(shapes, types) -> List["DataDesc"]:
        """``DataDesc`` list from ``[(name, shape)]`` and optional ``[(name, dtype)]``."""
        if types is not None:
            type_dict = dict(types)
            return [DataDesc(x[0], x[1], type_dict[x[0]]) for x in shapes]
        return [DataDesc(x[0], x[1]) for x in shapes]


class DataBatch:
    """One batch: ``data`` and ``label`` (lists of NDArrays), ``pad`` (padded examples
    at the end), ``index``, ``bucket_key``, ``provide_data``, ``provide_label``."""

    def __init__(self, data, label=None, pad=None, index=None, bucket_key=None,
                 provide_data=None, provide_label=None):
        if data is not None and not isinstance(data, (list, tuple)):
            raise TypeError("DataBatch: data must be a list of NDArrays, got %s"
                            % type(data).__name__)
        if label is not None and not isinstance(label, (list, tuple)):
            raise TypeError("DataBatch: label must be a list of NDArrays, got %s"
                            % type(label).__name__)
        self.data = data
        self.label = label
        self.pad = pad
        self.index = index
        self.bucket_key = bucket_key
        self.provide_data = provide_data
        self.provide_label = provide_label

    def __str__(self):
        data_shapes = [d.shape for d in self.data]
        label_shapes = [lab.shape for lab in self.label] if self.label else None
        return "{}: data shapes: {} label shapes: {}".format(
            self.__class__.__name__, data_shapes, label_shapes)


class DataIter:
    """Base class of data iterators: ``next()`` returns a :class:`DataBatch` built from
    ``getdata``/``getlabel``/``getpad``/``getindex`` after ``iter_next()`` returns True,
    and raises ``StopIteration`` at the end; ``reset()`` starts over."""

    def __init__(self, batch_size: int = 0):
        self.batch_size = batch_size

    def __iter__(self):
        return self

    def reset(self) -> None:
        pass

    def next(self) -> DataBatch:
        if self.iter_next():
            return DataBatch(data=self.getdata(), label=self.getlabel(),
                             pad=self.getpad(), index=self.getindex())
        raise StopIteration

    def __next__(self):
        return self.next()

    def iter_next(self) -> bool:
        pass

    def getdata(self):
        pass

    def getlabel(self):
        pass

    def getindex(self):
        return None

    def getpad(self):
        pass


class _BatchHoldingIter(DataIter):
    """An iterator whose ``get*`` read the :class:`DataBatch` in ``current_batch``."""

    current_batch: Optional[DataBatch] = None

    def getdata(self):
        return self.current_batch.data

    def getlabel(self):
        return self.current_batch.label

    def getindex(self):
        return self.current_batch.index

    def getpad(self):
        return self.current_batch.pad


class ResizeIter(_BatchHoldingIter):
    """Makes ``data_iter`` yield exactly ``size`` batches per epoch, resetting it when
    it runs out (``reset_internal``: whether ``reset()`` also resets ``data_iter``)."""

    def __init__(self, data_iter: DataIter, size: int, reset_internal: bool = True):
        super().__init__()
        self.data_iter = data_iter
        self.size = size
        self.reset_internal = reset_internal
        self.cur = 0
        self.current_batch = None
        self.provide_data = data_iter.provide_data
        self.provide_label = data_iter.provide_label
        self.batch_size = data_iter.batch_size
        if hasattr(data_iter, "default_bucket_key"):
            self.default_bucket_key = data_iter.default_bucket_key

    def reset(self):
        self.cur = 0
        if self.reset_internal:
            self.data_iter.reset()

    def iter_next(self):
        if self.cur == self.size:
            return False
        try:
            self.current_batch = self.data_iter.next()
        except StopIteration:
            self.data_iter.reset()
            self.current_batch = self.data_iter.next()
        self.cur += 1
        return True


class PrefetchingIter(_BatchHoldingIter):
    """Reads the next batch of each iterator in ``iters`` on a background thread and
    joins them into one batch (data and labels concatenated in order);
    ``rename_data``/``rename_label``: per-iterator ``{old_name: new_name}`` maps."""

    def __init__(self, iters, rename_data=None, rename_label=None):
        super().__init__()
        if not isinstance(iters, list):
            iters = [iters]
        if not iters:
            raise ValueError("PrefetchingIter: iters must hold at least one DataIter")
        self.n_iter = len(iters)
        self.iters = iters
        self.rename_data = rename_data
        self.rename_label = rename_label
        self.batch_size = self.provide_data[0][1][0]
        self.data_ready = [threading.Event() for _ in range(self.n_iter)]
        self.data_taken = [threading.Event() for _ in range(self.n_iter)]
        for e in self.data_taken:
            e.set()
        self.started = True
        self.current_batch = None
        self.next_batch = [None for _ in range(self.n_iter)]
        self.prefetch_threads = [threading.Thread(target=self._prefetch, args=(i,), daemon=True)
                                 for i in range(self.n_iter)]
        for thread in self.prefetch_threads:
            thread.start()

    def _prefetch(self, i):
        while True:
            self.data_taken[i].wait()
            if not self.started:
                break
            try:
                self.next_batch[i] = self.iters[i].next()
            except StopIteration:
                self.next_batch[i] = None
            self.data_taken[i].clear()
            self.data_ready[i].set()

    def __del__(self):
        self.started = False
        for e in getattr(self, "data_taken", []):
            e.set()
        for thread in getattr(self, "prefetch_threads", []):
            thread.join()

    def _renamed(self, descs_per_iter, renames):
        if renames is None:
            return sum(descs_per_iter, [])
        return sum([[DataDesc(r[x.name], x.shape, x.dtype) if isinstance(x, DataDesc)
                     else DataDesc(r[x[0]], x[1]) for x in descs]
                    for r, descs in zip(renames, descs_per_iter)], [])

    @property
    def provide_data(self):
        return self._renamed([i.provide_data for i in self.iters], self.rename_data)

    @property
    def provide_label(self):
        return self._renamed([i.provide_label for i in self.iters], self.rename_label)

    def reset(self):
        for e in self.data_ready:
            e.wait()
        for i in self.iters:
            i.reset()
        for e in self.data_ready:
            e.clear()
        for e in self.data_taken:
            e.set()

    def iter_next(self):
        for e in self.data_ready:
            e.wait()
        if self.next_batch[0] is None:
            for b in self.next_batch:
                if b is not None:
                    raise ValueError("PrefetchingIter: the iterators hold different numbers of "
                                     "batches")
            return False
        for b in self.next_batch:
            if b.pad != self.next_batch[0].pad:
                raise ValueError("PrefetchingIter: the iterators' batches have different pads")
        self.current_batch = DataBatch(sum([b.data for b in self.next_batch], []),
                                       sum([b.label for b in self.next_batch], []),
                                       self.next_batch[0].pad, self.next_batch[0].index,
                                       provide_data=self.provide_data,
                                       provide_label=self.provide_label)
        for e in self.data_ready:
            e.clear()
        for e in self.data_taken:
            e.set()
        return True

    def next(self):
        if self.iter_next():
            return self.current_batch
        raise StopIteration


_LAST_BATCH_HANDLES = ("pad", "discard", "roll_over")


class NDArrayIter(DataIter):
    """Iterates over NDArrays or numpy arrays (or lists/dicts of them) in batches.

    Args:
        data: an array, a list of arrays (named ``_0_data``, ``_1_data``, ...) or a
            dict ``{name: array}``; inputs are sorted by name, as MXNet does.
        label: the same for labels (default name ``softmax_label``), or None.
        batch_size: examples per batch (> 0).
        shuffle: reorder the examples with ``numpy.random.shuffle`` at every reset.
        last_batch_handle: ``'pad'`` (default), ``'discard'`` or ``'roll_over'``.
        data_name, label_name: names given to a single data / label array.
        layout: the data layout; its ``'N'`` is the batch axis (default ``'NCHW'``).
    """

    def __init__(self, data, label=None, batch_size: int = 1, shuffle: bool = False,
                 last_batch_handle: str = "pad", data_name: str = "data",
                 label_name: str = "softmax_label", layout: str = "NCHW"):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size <= 0:
            raise ValueError("NDArrayIter: batch_size must be a positive int, got %r"
                             % (batch_size,))
        if last_batch_handle not in _LAST_BATCH_HANDLES:
            raise ValueError("NDArrayIter: last_batch_handle must be one of %s, got %r"
                             % (", ".join(repr(h) for h in _LAST_BATCH_HANDLES), last_batch_handle))
        super().__init__(int(batch_size))
        self.data = init_data(data, allow_empty=False, default_name=data_name)
        self.label = init_data(label, allow_empty=True, default_name=label_name)
        self.layout = layout
        # MXNet counts (and shuffles) examples along axis 0 whatever the layout; with the
        # batch axis first, every input must hold that many
        lengths = [(k, v.shape[0]) for k, v in self.data + self.label]
        if self.layout.find("N") == 0 and any(n != lengths[0][1] for _, n in lengths):
            raise ValueError("NDArrayIter: data and label must hold the same number of examples "
                             "along the batch axis; got %s"
                             % ", ".join("%s: %d" % kv for kv in lengths))
        self.idx = np.arange(self.data[0][1].shape[0])
        self.shuffle = shuffle
        self.last_batch_handle = last_batch_handle
        self.batch_size = int(batch_size)
        self.cursor = -self.batch_size
        self.num_data = self.idx.shape[0]
        self.reset()
        self.data_list = [x[1] for x in self.data] + [x[1] for x in self.label]
        self.num_source = len(self.data_list)
        self._cache_data = None
        self._cache_label = None

    def _descs(self, source):
        axis = self.layout.find("N")
        return [DataDesc(k, tuple(v.shape[:axis]) + (self.batch_size,) + tuple(v.shape[axis + 1:]),
                         v.dtype, layout=self.layout) for k, v in source]

    @property
    def provide_data(self) -> List[DataDesc]:
        """Name, batch shape, dtype and layout of each data input."""
        return self._descs(self.data)

    @property
    def provide_label(self) -> List[DataDesc]:
        """Name, batch shape, dtype and layout of each label input."""
        return self._descs(self.label)

    def hard_reset(self) -> None:
        """Start over ignoring rolled-over examples."""
        if self.shuffle:
            self._shuffle_data()
        self.cursor = -self.batch_size
        self._cache_data = None
        self._cache_label = None

    def reset(self) -> None:
        if self.shuffle:
            self._shuffle_data()
        if self.last_batch_handle == "roll_over" and \
                self.num_data - self.batch_size < self.cursor < self.num_data:
            self.cursor = self.cursor - self.num_data - self.batch_size
        else:
            self.cursor = -self.batch_size

    def iter_next(self) -> bool:
        self.cursor += self.batch_size
        return self.cursor < self.num_data

    def next(self) -> DataBatch:
        if not self.iter_next():
            raise StopIteration
        if self._whole_window():
            both = slice_all_along_batch_axis([v for _, v in self.data + self.label], self.cursor,
                                              self.cursor + self.batch_size, self.layout.find("N"))
            data, label = both[:len(self.data)], both[len(self.data):]
        else:
            data = self.getdata()
            label = self.getlabel()
        if data[0].shape[self.layout.find("N")] != self.batch_size:
            self._cache_data = data
            self._cache_label = label
            raise StopIteration
        return DataBatch(data=data, label=label, pad=self.getpad(), index=None)

    def _whole_window(self) -> bool:
        """Whether the next batch is a plain window of every input (a full batch inside the
        data, no roll-over or padding) read by this class's own ``getdata``/``getlabel``:
        then :meth:`next` slices all inputs in one compiled call."""
        cls = type(self)
        return (0 <= self.cursor and self.cursor + self.batch_size <= self.num_data
                and cls.getdata is NDArrayIter.getdata and cls.getlabel is NDArrayIter.getlabel
                and cls._batchify is NDArrayIter._batchify
                and cls._getdata is NDArrayIter._getdata)

    def _getdata(self, data_source, start=None, end=None):
        start = start if start is not None else 0
        if end is None:
            end = data_source[0][1].shape[0] if data_source else 0
        axis = self.layout.find("N")
        return [slice_along_batch_axis(x[1], start, end, axis) for x in data_source]

    def _concat(self, first_data, second_data):
        if (not first_data) or (not second_data):
            return first_data if first_data else second_data
        return [nd.concat(a, b, dim=self.layout.find("N")) for a, b in zip(first_data, second_data)]

    @staticmethod
    def _tile(data, repeats):
        return [nd.concat(*([datum] * repeats), dim=0) for datum in data]

    def _batchify(self, data_source):
        if self.cursor >= self.num_data:
            raise RuntimeError("NDArrayIter: the iterator is exhausted; call reset()")
        if self.last_batch_handle == "roll_over" and -self.batch_size < self.cursor < 0:
            cache_data = self._cache_data if self._cache_data is not None else self._cache_label
            second_data = self._getdata(data_source, end=self.cursor + self.batch_size)
            if self._cache_data is not None:
                self._cache_data = None
            else:
                self._cache_label = None
            return self._concat(cache_data, second_data)
        if self.last_batch_handle == "pad" and self.cursor + self.batch_size > self.num_data:
            pad = self.batch_size - self.num_data + self.cursor
            first_data = self._getdata(data_source, start=self.cursor)
            if pad > self.num_data:
                repeats = pad // self.num_data
                second_data = self._tile(self._getdata(data_source, end=self.num_data), repeats)
                if pad % self.num_data != 0:
                    second_data = self._concat(second_data,
                                               self._getdata(data_source, end=pad % self.num_data))
            else:
                second_data = self._getdata(data_source, end=pad)
            return self._concat(first_data, second_data)
        end_idx = min(self.cursor + self.batch_size, self.num_data)
        return self._getdata(data_source, self.cursor, end_idx)

    def getdata(self):
        return self._batchify(self.data)

    def getlabel(self):
        return self._batchify(self.label)

    def getpad(self) -> int:
        if self.last_batch_handle == "pad" and self.cursor + self.batch_size > self.num_data:
            return self.cursor + self.batch_size - self.num_data
        if self.last_batch_handle == "roll_over" and -self.batch_size < self.cursor < 0:
            return -self.cursor
        return 0

    def _shuffle_data(self):
        # MXNet shuffles ``idx`` in place and re-gathers the (already shuffled) arrays
        # with it; repeated here so that a seeded epoch order equals MXNet's.
        np.random.shuffle(self.idx)
        self.data = getdata_by_idx(self.data, self.idx)
        self.label = getdata_by_idx(self.label, self.idx)
