"""Helpers of :mod:`optjax.compat.mxnet.io`: MXNet 1.9.1's ``io/utils.py`` (input
normalisation to a sorted ``[(name, NDArray)]`` list, gathers and batch-axis slices)."""

from __future__ import annotations

import functools
from collections import OrderedDict
from typing import Any, List, Tuple

import jax
import numpy as np

from optjax.compat.mxnet import ndarray as nd
from optjax.compat.mxnet.ndarray.ndarray import from_jax

__all__ = ["init_data", "getdata_by_idx", "slice_along_batch_axis", "slice_all_along_batch_axis"]


def init_data(data: Any, allow_empty: bool, default_name: str) -> List[Tuple[str, nd.NDArray]]:
    """``data`` (array, list of arrays or dict) -> ``[(name, NDArray)]`` sorted by name.

    A single array is named ``default_name``; a list of several arrays gets the names
    ``_0_<default_name>``, ``_1_<default_name>``, ...; numpy arrays become float32
    NDArrays as ``mx.nd.array`` makes them.
    """
    if data is None:
        if not allow_empty:
            raise ValueError("%s: data must be given (an array, a list of arrays or a dict)"
                             % default_name)
        data = []
    if isinstance(data, (np.ndarray, nd.NDArray)):
        data = [data]
    if isinstance(data, (list, tuple)):
        if not allow_empty and len(data) == 0:
            raise ValueError("%s: data must hold at least one array" % default_name)
        if len(data) == 1:
            data = OrderedDict([(default_name, data[0])])
        else:
            data = OrderedDict([("_%d_%s" % (i, default_name), d) for i, d in enumerate(data)])
    if not isinstance(data, dict):
        raise TypeError("Input must be NDArray, numpy.ndarray, a list of them or dict with "
                        "them as values; got %s for %s" % (type(data).__name__, default_name))
    out = {}
    for k, v in data.items():
        if not isinstance(v, nd.NDArray):
            try:
                v = nd.array(v)
            except Exception as e:  # noqa: BLE001 - re-raised with the input's name
                raise TypeError("Invalid type '%s' for %s, should be NDArray or numpy.ndarray"
                                % (type(v), k)) from e
        out[k] = v
    return list(sorted(out.items()))


def getdata_by_idx(data, idx):
    """Each ``(name, array)`` gathered along axis 0 by ``idx`` (a new float32 NDArray, as
    ``mx.nd.array(numpy)`` makes it in MXNet)."""
    return [(k, nd.array(v.asnumpy()[idx], v.context)) for k, v in data]


def slice_along_batch_axis(data: nd.NDArray, start: int, end: int, batch_axis: int) -> nd.NDArray:
    """A copy of ``data[start:end]`` along ``batch_axis`` (MXNet's ``slice_axis``).

    Sliced with ``lax.dynamic_slice``, whose start is an operand: one compiled slice per
    batch size, not one per batch position (a jitted call: a batch costs one dispatch)."""
    return slice_all_along_batch_axis([data], start, end, batch_axis)[0]


def slice_all_along_batch_axis(arrays: List[nd.NDArray], start: int, end: int,
                               batch_axis: int) -> List[nd.NDArray]:
    """:func:`slice_along_batch_axis` of every array of ``arrays`` in ONE compiled call
    (a batch's data and labels cost one dispatch; the values are the same slices)."""
    values = _slice_all(tuple(a._data for a in arrays), start, end - start, batch_axis)
    return [from_jax(v, a._ctx) for v, a in zip(values, arrays)]


@functools.partial(jax.jit, static_argnums=(2, 3))
def _slice_all(xs, start, size, axis):
    return tuple(jax.lax.dynamic_slice_in_dim(x, start, size, axis) for x in xs)
