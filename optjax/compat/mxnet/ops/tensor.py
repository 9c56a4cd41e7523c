"""Tensor layout operators: ``broadcast_to``/``_like``/``_axis``, ``tile``, ``repeat``,
``flip``/``reverse``, ``Pad``, ``SequenceMask``, ``diag``, ``moments``, ``khatri_rao``.
"""

from __future__ import annotations

import jax.numpy as jnp

from optjax.compat.mxnet.base import MXNetError
from optjax.compat.mxnet.ops._checks import fmt
from optjax.compat.mxnet.ops.registry import register


@register("Pad", ("data",), aliases=("pad",))
def pad(data, *, mode: str = "constant", pad_width: tuple, constant_value: float = 0.0):
    """Pad with ``pad_width = (before_0, after_0, before_1, after_1, ...)`` (one pair per
    axis; MXNet requires 4-D/5-D data and zeros for the first two axes): ``constant``
    (``constant_value``), ``edge`` (repeat the border) or ``reflect`` (mirror)."""
    if len(pad_width) != 2 * data.ndim:
        raise MXNetError(f"Pad: pad_width {tuple(pad_width)} must have 2 * ndim = {2 * data.ndim} "
                         f"entries for data {fmt(data.shape)}")
    pairs = [(int(pad_width[2 * i]), int(pad_width[2 * i + 1])) for i in range(data.ndim)]
    if mode == "constant":
        return jnp.pad(data, pairs, constant_values=jnp.asarray(constant_value, data.dtype))
    if mode in ("edge", "reflect"):
        return jnp.pad(data, pairs, mode=mode)
    raise MXNetError(f"Invalid Input: '{mode}', valid values are: {{'constant', 'edge', 'reflect'}}")


def _broadcast(data, shape):
    from optjax.compat.mxnet.ops._checks import broadcastable
    broadcastable(data, jnp.zeros(shape, data.dtype))
    if data.ndim != len(shape):
        raise MXNetError(f"broadcast: input {fmt(data.shape)} and target {fmt(shape)} must have "
                         "the same number of dimensions")
    return jnp.broadcast_to(data, shape)


@register("broadcast_to", ("data",))
def broadcast_to(data, *, shape: tuple = ()):
    """Broadcast size-1 axes to ``shape``; a 0 in ``shape`` keeps that input dimension."""
    target = tuple(data.shape[i] if s == 0 else int(s) for i, s in enumerate(shape))
    return _broadcast(data, target)


@register("broadcast_like", ("lhs", "rhs"))
def broadcast_like(lhs, rhs, *, lhs_axes: tuple | None = None, rhs_axes: tuple | None = None):
    """Broadcast ``lhs`` to ``rhs``'s shape (or only ``lhs_axes`` to the sizes of ``rhs_axes``)."""
    if lhs_axes is None:
        return _broadcast(lhs, tuple(rhs.shape))
    target = list(lhs.shape)
    for a, b in zip(lhs_axes, rhs_axes):
        target[a] = rhs.shape[b]
    return _broadcast(lhs, tuple(target))


@register("broadcast_axis", ("data",), aliases=("broadcast_axes",))
def broadcast_axis(data, *, axis: tuple = (), size: tuple = ()):
    """Broadcast the size-1 axes ``axis`` to the sizes ``size``."""
    axis = (axis,) if isinstance(axis, int) else tuple(axis)
    size = (size,) if isinstance(size, int) else tuple(size)
    target = list(data.shape)
    for a, s in zip(axis, size):
        if data.shape[a] != 1:
            raise MXNetError(f"broadcast_axis: axis {a} of {fmt(data.shape)} must have size 1")
        target[a] = s
    return jnp.broadcast_to(data, tuple(target))


@register("tile", ("data",))
def tile(data, *, reps: tuple):
    """``numpy.tile``: repeat the whole array ``reps`` times per axis."""
    return jnp.tile(data, tuple(reps))


@register("repeat", ("data",))
def repeat(data, *, repeats: int, axis: int | None = None):
    """Repeat each element ``repeats`` times along ``axis`` (the flattened array if None)."""
    return jnp.repeat(data, repeats, axis=axis)


@register("reverse", ("data",), aliases=("flip",))
def reverse(data, *, axis: tuple):
    """Reverse the order of elements along ``axis`` (an int or a tuple)."""
    return jnp.flip(data, axis=(axis,) if isinstance(axis, int) else tuple(axis))


@register("diag", ("data",))
def diag(data, *, k: int = 0, axis1: int = 0, axis2: int = 1):
    """A 1-D input gives the matrix with it on diagonal ``k``; an N-D input gives diagonal
    ``k`` of the planes ``(axis1, axis2)`` (moved to the last axis)."""
    if data.ndim == 1:
        return jnp.diag(data, k)
    return jnp.diagonal(data, k, axis1, axis2)


@register("khatri_rao", ("*args",))
def khatri_rao(*args, num_args: int | None = None):
    """Column-wise Kronecker product of matrices with the same number of columns:
    ``(m1, n), (m2, n), ... -> (m1 * m2 * ..., n)``."""
    out = args[0]
    for m in args[1:]:
        out = (out[:, None, :] * m[None, :, :]).reshape(-1, out.shape[1])
    return out


@register("SequenceMask", ("data", "sequence_length"))
def sequence_mask(data, sequence_length=None, *, use_sequence_length: bool = False,
                  value: float = 0.0, axis: int = 0):
    """Set positions ``t >= sequence_length[b]`` along the time ``axis`` (0 or 1; the batch
    axis is the other one) to ``value``; the identity unless ``use_sequence_length``."""
    if not use_sequence_length or sequence_length is None:
        return data
    batch_axis = 1 - axis
    t = jnp.arange(data.shape[axis]).reshape((-1, 1) if axis == 0 else (1, -1))
    lens = sequence_length.astype(jnp.int32).reshape((1, -1) if batch_axis == 1 else (-1, 1))
    keep = (t < lens).reshape(tuple(data.shape[:2]) + (1,) * (data.ndim - 2))
    return jnp.where(keep, data, jnp.asarray(value, data.dtype))


@register("SequenceLast", ("data", "sequence_length"))
def sequence_last(data, sequence_length=None, *, use_sequence_length: bool = False,
                  axis: int = 0):
    """The last step along ``axis`` (0 or 1) of each sequence: step ``sequence_length[b] - 1``
    with ``use_sequence_length``, else the final step."""
    if not use_sequence_length or sequence_length is None:
        return jnp.take(data, data.shape[axis] - 1, axis=axis)
    idx = sequence_length.astype(jnp.int32) - 1
    moved = jnp.moveaxis(data, axis, 0)  # (T, B, ...)
    return moved[idx, jnp.arange(moved.shape[1])]


@register("shape_array", ("data",))
def shape_array(data):
    """The shape as a 1-D int64 array."""
    return jnp.asarray(data.shape, dtype=jnp.int64)


@register("size_array", ("data",))
def size_array(data):
    """The number of elements as a (1,) int64 array."""
    return jnp.asarray([data.size], dtype=jnp.int64)


@register("slice_like", ("data", "shape_like"))
def slice_like(data, shape_like, *, axes: tuple = ()):
    """``data[:s0, :s1, ...]`` with the sizes of ``shape_like`` on ``axes`` (all if empty)."""
    axes = tuple(range(shape_like.ndim)) if not axes else tuple(a % data.ndim for a in axes)
    idx = [slice(None)] * data.ndim
    for a in axes:
        idx[a] = slice(0, shape_like.shape[a])
    return data[tuple(idx)]


@register("depth_to_space", ("data",))
def depth_to_space(data, *, block_size: int):
    """``(N, C * b * b, H, W) -> (N, C, H * b, W * b)`` (DCR order, as MXNet)."""
    n, c, h, w = data.shape
    b = block_size
    x = data.reshape(n, b, b, c // (b * b), h, w).transpose(0, 3, 4, 1, 5, 2)
    return x.reshape(n, c // (b * b), h * b, w * b)


@register("space_to_depth", ("data",))
def space_to_depth(data, *, block_size: int):
    """``(N, C, H * b, W * b) -> (N, C * b * b, H, W)``, the inverse of ``depth_to_space``."""
    n, c, h, w = data.shape
    b = block_size
    x = data.reshape(n, c, h // b, b, w // b, b).transpose(0, 3, 5, 1, 2, 4)
    return x.reshape(n, c * b * b, h // b, w // b)


@register("SequenceReverse", ("data", "sequence_length"))
def sequence_reverse(data, sequence_length=None, *, use_sequence_length: bool = False,
                     axis: int = 0):
    """Reverse the first ``sequence_length[b]`` steps of each sequence along time (axis 0),
    leaving the padding in place; the whole axis without ``use_sequence_length``."""
    t = data.shape[0]
    if not use_sequence_length or sequence_length is None:
        return jnp.flip(data, 0)
    steps = jnp.arange(t).reshape(-1, 1)
    lens = sequence_length.astype(jnp.int32).reshape(1, -1)
    src = jnp.where(steps < lens, lens - 1 - steps, steps)  # (T, B)
    return jnp.take_along_axis(data, src.reshape(src.shape + (1,) * (data.ndim - 2)), axis=0)


@register("Crop", ("*data",))
def crop(*data, num_args: int = 1, offset: tuple = (0, 0), h_w: tuple = (0, 0),
         center_crop: bool = False):
    """(Deprecated in MXNet; ``slice`` is preferred.) Crop axes 2 and 3 of ``data[0]`` to
    ``h_w``, or to the height and width of ``data[1]``, starting at ``offset`` (or centred)."""
    x = data[0]
    h, w = (data[1].shape[2], data[1].shape[3]) if len(data) > 1 else tuple(h_w)
    if center_crop:
        top, left = (x.shape[2] - h) // 2, (x.shape[3] - w) // 2
    else:
        top, left = offset
    if top + h > x.shape[2] or left + w > x.shape[3]:
        raise MXNetError(f"Crop: {(h, w)} at offset {(top, left)} exceeds data {fmt(x.shape)}")
    return x[:, :, top:top + h, left:left + w]
