"""Indexing operators: ``take``, ``pick``, ``one_hot``, ``where``, ``gather_nd``,
``scatter_nd``, ``topk``, ``sort``, ``argsort``.

Indices may be float arrays (MXNet's default dtype); they are truncated to integers.
Returned indices are floats (``dtype='float32'`` by default), as MXNet.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from optjax.compat.mxnet.base import MXNetError
from optjax.compat.mxnet.ops._checks import fmt
from optjax.compat.mxnet.ops.registry import register


def _index(idx, n: int, mode: str):
    i = idx.astype(jnp.int32)
    if mode == "wrap":
        return jnp.mod(i, n)
    return jnp.clip(i, 0, n - 1)  # 'clip' (and 'raise', which MXNet's CPU kernel also clips)


@register("take", ("a", "indices"))
def take(a, indices, *, axis: int = 0, mode: str = "clip"):
    """``a`` indexed along ``axis`` by ``indices``: the output's shape is ``a.shape[:axis] +
    indices.shape + a.shape[axis+1:]``; out-of-range indices are clipped (``'clip'``) or
    taken modulo the size (``'wrap'``)."""
    ax = axis % a.ndim
    return jnp.take(a, _index(indices, a.shape[ax], mode), axis=ax)


@register("pick", ("data", "index"))
def pick(data, index, *, axis: int | None = -1, keepdims: bool = False, mode: str = "clip"):
    """``out[i] = data[i, index[i]]`` along ``axis``: ``index`` has ``data``'s shape without
    ``axis`` (or with it as size 1); ``keepdims`` keeps ``axis`` as size 1."""
    if axis is None:
        data, axis = data.reshape(-1), 0
    ax = axis % data.ndim
    idx = _index(index, data.shape[ax], mode)
    idx = idx.reshape(data.shape[:ax] + (1,) + data.shape[ax + 1:])
    out = jnp.take_along_axis(data, idx, axis=ax)
    return out if keepdims else jnp.squeeze(out, ax)


@register("one_hot", ("indices",))
def one_hot(indices, *, depth: int, on_value: float = 1.0, off_value: float = 0.0,
            dtype: str = "float32"):
    """``indices.shape + (depth,)`` filled with ``off_value`` and ``on_value`` at each index
    (an index outside ``[0, depth)`` gives a row of ``off_value``)."""
    hot = jax.nn.one_hot(indices.astype(jnp.int32), depth, dtype=jnp.bool_)
    return jnp.where(hot, jnp.asarray(on_value, dtype), jnp.asarray(off_value, dtype))


@register("where", ("condition", "x", "y"))
def where(condition, x, y):
    """``x`` where ``condition`` is non-zero, else ``y``; ``condition`` has ``x``'s shape, or
    is 1-D of length ``x.shape[0]`` selecting whole rows."""
    if tuple(x.shape) != tuple(y.shape):
        raise MXNetError(f"where: x {fmt(x.shape)} and y {fmt(y.shape)} must have the same shape")
    c = condition != 0
    if c.shape != x.shape:
        if c.ndim != 1 or c.shape[0] != x.shape[0]:
            raise MXNetError(f"where: condition {fmt(condition.shape)} must have x's shape "
                             f"{fmt(x.shape)} or be 1-D of length {x.shape[0]}")
        c = c.reshape((-1,) + (1,) * (x.ndim - 1))
    return jnp.where(c, x, y)


@register("gather_nd", ("data", "indices"))
def gather_nd(data, indices):
    """``out[y...] = data[indices[0, y...], ..., indices[M-1, y...]]`` with ``M = indices.shape[0]``;
    output shape ``indices.shape[1:] + data.shape[M:]``. Negative indices count from the end."""
    idx = indices.astype(jnp.int32)
    m = idx.shape[0]
    return data[tuple(idx[i] for i in range(m))]


@register("scatter_nd", ("data", "indices"))
def scatter_nd(data, indices, *, shape: tuple):
    """The inverse of ``gather_nd``: zeros of ``shape`` with ``data`` written at ``indices``."""
    idx = indices.astype(jnp.int32)
    out = jnp.zeros(tuple(shape), data.dtype)
    return out.at[tuple(idx[i] for i in range(idx.shape[0]))].set(data)


def _topk_outputs(ret_typ: str = "indices", **_):
    return 2 if ret_typ == "both" else 1


@register("topk", ("data",), num_outputs=_topk_outputs)
def topk(data, *, axis: int | None = -1, k: int = 1, ret_typ: str = "indices",
         is_ascend: bool = False, dtype: str = "float32"):
    """The ``k`` largest (smallest with ``is_ascend``) along ``axis`` (the flattened array if
    None): ``ret_typ`` ``'indices'`` (in ``dtype``), ``'value'``, ``'both'`` (values, indices)
    or ``'mask'`` (1 at the selected positions, 0 elsewhere, in data's dtype)."""
    if axis is None:
        x, ax = data.reshape(-1), 0
    else:
        x, ax = data, axis % data.ndim
    kk = x.shape[ax] if k <= 0 else k
    order = _argsort(x, ax, is_ascend)
    idx = jax.lax.slice_in_dim(order, 0, kk, axis=ax)
    vals = jnp.take_along_axis(x, idx, axis=ax)
    if ret_typ == "value":
        return vals
    if ret_typ == "indices":
        return idx.astype(dtype)
    if ret_typ == "both":
        return vals, idx.astype(dtype)
    if ret_typ == "mask":
        m = jnp.zeros(x.shape, data.dtype)
        m = jnp.put_along_axis(m, idx, jnp.ones((), data.dtype), axis=ax, inplace=False)
        return m.reshape(data.shape)
    raise MXNetError(f"Invalid Input: '{ret_typ}', valid values are: "
                     "{'both', 'indices', 'mask', 'value'}")


def _argsort(x, axis: int, ascend: bool):
    """Stable argsort; descending keeps equal elements in index order too."""
    if ascend:
        return jnp.argsort(x, axis=axis, stable=True)
    return jnp.argsort(-x if jnp.issubdtype(x.dtype, jnp.floating) else ~x, axis=axis, stable=True)


@register("sort", ("data",))
def sort(data, *, axis: int | None = -1, is_ascend: bool = True):
    """Sorted along ``axis`` (the flattened array if None), ascending by default."""
    x, ax = (data.reshape(-1), 0) if axis is None else (data, axis % data.ndim)
    return jnp.take_along_axis(x, _argsort(x, ax, is_ascend), axis=ax)


@register("argsort", ("data",))
def argsort(data, *, axis: int | None = -1, is_ascend: bool = True, dtype: str = "float32"):
    """Indices (in ``dtype``) that sort along ``axis`` (the flattened array if None)."""
    x, ax = (data.reshape(-1), 0) if axis is None else (data, axis % data.ndim)
    return _argsort(x, ax, is_ascend).astype(dtype)


@register("batch_take", ("a", "indices"))
def batch_take(a, indices):
    """``out[i] = a[i, indices[i]]`` for a 2-D ``a`` (indices clipped)."""
    idx = _index(indices, a.shape[1], "clip")
    return a[jnp.arange(a.shape[0]), idx]


@register("ravel_multi_index", ("data",), aliases=("_ravel_multi_index",))
def ravel_multi_index(data, *, shape: tuple):
    """Flat indices of the columns of ``data`` (``(ndim, N)``) into an array of ``shape``."""
    strides = np.cumprod((1,) + tuple(shape[::-1]))[:-1][::-1].copy()
    return jnp.sum(data * jnp.asarray(strides, data.dtype).reshape(-1, 1), axis=0)


@register("unravel_index", ("data",), aliases=("_unravel_index",))
def unravel_index(data, *, shape: tuple):
    """The inverse of ``ravel_multi_index``: ``(ndim, N)`` coordinates of flat indices."""
    idx = data.astype(jnp.int64 if jax.config.jax_enable_x64 else jnp.int32)
    coords = jnp.unravel_index(idx, tuple(shape))
    return jnp.stack(coords).astype(data.dtype)
