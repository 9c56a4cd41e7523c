"""``mx.gluon.data`` samplers (MXNet 1.9.1's ``gluon/data/sampler.py`` plus
``gluon.contrib.data.IntervalSampler``): iterables of dataset indices.

``RandomSampler`` draws its permutation with ``numpy.random.shuffle`` at each
iteration, as MXNet does, so ``numpy.random.seed(s)`` repeats MXNet's order.

Example:
    >>> from optjax.compat.mxnet.gluon.data import BatchSampler, SequentialSampler
    >>> list(BatchSampler(SequentialSampler(7), 3, 'keep'))
    [[0, 1, 2], [3, 4, 5], [6]]
"""

from __future__ import annotations

from typing import Callable, Iterator, List

import numpy as np

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "FilterSampler", "BatchSampler",
           "IntervalSampler"]

_LAST_BATCH = ("keep", "discard", "rollover")


def _check_last_batch(last_batch: str) -> None:
    if last_batch not in _LAST_BATCH:
        raise ValueError("last_batch must be one of 'keep', 'discard', or 'rollover', "
                         "but got %s" % (last_batch,))


def _check_length(name: str, length) -> None:
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0:
        raise ValueError("%s: length must be a non-negative int, got %r" % (name, length))


class Sampler:
    """Base class: iterating yields indices; ``len()`` counts them."""

    def __iter__(self) -> Iterator:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError


class SequentialSampler(Sampler):
    """``start, start + 1, ..., start + length - 1``."""

    def __init__(self, length: int, start: int = 0):
        _check_length("SequentialSampler", length)
        self._length = length
        self._start = start

    def __iter__(self):
        return iter(range(self._start, self._start + self._length))

    def __len__(self):
        return self._length


class RandomSampler(Sampler):
    """A fresh random permutation of ``[0, length)`` at each iteration."""

    def __init__(self, length: int):
        _check_length("RandomSampler", length)
        self._length = length

    def __iter__(self):
        indices = np.arange(self._length)
        np.random.shuffle(indices)
        return iter(indices)

    def __len__(self):
        return self._length


class FilterSampler(Sampler):
    """The indices of the samples of ``dataset`` for which ``fn(sample)`` is true."""

    def __init__(self, fn: Callable, dataset):
        self._fn = fn
        self._dataset = dataset
        self._indices = [i for i, sample in enumerate(dataset) if fn(sample)]

    def __iter__(self):
        return iter(self._indices)

    def __len__(self):
        return len(self._indices)


class BatchSampler(Sampler):
    """Groups ``sampler``'s indices into lists of ``batch_size``; the incomplete last
    batch is kept (``'keep'``), dropped (``'discard'``) or carried into the next
    iteration's first batch (``'rollover'``)."""

    def __init__(self, sampler, batch_size: int, last_batch: str = "keep"):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size <= 0:
            raise ValueError("BatchSampler: batch_size must be a positive int, got %r"
                             % (batch_size,))
        _check_last_batch(last_batch)
        self._sampler = sampler
        self._batch_size = batch_size
        self._last_batch = last_batch
        self._prev: List = []

    def __iter__(self):
        batch, self._prev = self._prev, []
        for i in self._sampler:
            batch.append(i)
            if len(batch) == self._batch_size:
                yield batch
                batch = []
        if batch:
            if self._last_batch == "keep":
                yield batch
            elif self._last_batch == "rollover":
                self._prev = batch

    def __len__(self):
        if self._last_batch == "keep":
            return (len(self._sampler) + self._batch_size - 1) // self._batch_size
        if self._last_batch == "discard":
            return len(self._sampler) // self._batch_size
        return (len(self._prev) + len(self._sampler)) // self._batch_size


class IntervalSampler(Sampler):
    """``0, interval, 2 * interval, ...`` then (``rollover``) ``1, 1 + interval, ...``
    until every index of ``[0, length)`` is visited (``gluon.contrib.data``)."""

    def __init__(self, length: int, interval: int, rollover: bool = True):
        _check_length("IntervalSampler", length)
        if interval > length:
            raise ValueError("IntervalSampler: interval {} must be smaller than or equal to "
                             "length {}".format(interval, length))
        self._length = length
        self._interval = interval
        self._rollover = rollover

    def __iter__(self):
        for i in range(self._interval if self._rollover else 1):
            for j in range(i, self._length, self._interval):
                yield j

    def __len__(self):
        return self._length
