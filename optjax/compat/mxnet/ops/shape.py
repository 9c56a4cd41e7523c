"""Shape operators: ``Reshape`` (with MXNet's special codes), ``Flatten``, ``transpose``,
``expand_dims``, ``squeeze``, ``Concat``, ``stack``, ``slice_axis``, ``SliceChannel``.
"""

from __future__ import annotations

import math

import jax.numpy as jnp

from optjax.compat.mxnet.base import MXNetError
from optjax.compat.mxnet.ops.registry import register


def infer_reshape(src: tuple, shape: tuple, reverse: bool = False) -> tuple:
    """The target shape of MXNet's ``Reshape(shape=..., reverse=...)``.

    Codes: ``0`` copies this input dimension; ``-1`` is inferred from the
    remaining size; ``-2`` copies all remaining input dimensions; ``-3`` merges
    two consecutive input dimensions; ``-4, a, b`` splits one input dimension
    into ``a * b`` (one of them may be ``-1``). ``reverse`` matches codes from
    the right.
    """
    src, shape = tuple(int(s) for s in src), tuple(int(s) for s in shape)
    if reverse:  # MXNet reverses both shapes, applies the codes, reverses the result
        return tuple(reversed(infer_reshape(src[::-1], shape[::-1])))
    out, i, j, infer = [], 0, 0, -1
    while i < len(shape):
        c = shape[i]
        if c > 0:
            out.append(c); j += 1
        elif c == 0:
            if j >= len(src):
                raise MXNetError(f"Reshape: code 0 at position {i} has no input dimension "
                                 f"(input shape {src})")
            out.append(src[j]); j += 1
        elif c == -1:
            if infer >= 0:
                raise MXNetError("Reshape: one and only one dim can be inferred (-1)")
            infer = len(out); out.append(1); j += 1
        elif c == -2:
            out.extend(src[j:]); j = len(src)
        elif c == -3:
            if j + 1 >= len(src):
                raise MXNetError(f"Reshape: -3 needs two input dimensions at {j} of {src}")
            out.append(src[j] * src[j + 1]); j += 2
        elif c == -4:
            if i + 2 >= len(shape):
                raise MXNetError("Reshape: -4 must be followed by two dimensions")
            d = src[j]
            a, b = shape[i + 1], shape[i + 2]
            if a == -1:
                a = d // b if b else 0
            if b == -1:
                b = d // a if a else 0
            if a * b != d:
                raise MXNetError(f"Reshape: -4 split of dimension {d} into {a} x {b}")
            out += [a, b]; i += 2; j += 1
        else:
            raise MXNetError(f"Reshape: invalid code {c} in shape {shape}")
        i += 1
    if infer >= 0:
        known = math.prod(d for k, d in enumerate(out) if k != infer)
        total = math.prod(src)
        if known == 0 or total % known:
            raise MXNetError(f"Reshape: cannot infer -1 reshaping {src} to {shape}")
        out[infer] = total // known
    if math.prod(out) != math.prod(src):
        raise MXNetError(f"Reshape: target shape size is different to source. Target: "
                         f"{tuple(out)} Source: {src}")
    return tuple(out)


@register("Reshape", ("data",), aliases=("reshape",))
def reshape(data, *, shape: tuple = (), reverse: bool = False, target_shape: tuple | None = None,
            keep_highest: bool = False):
    """MXNet's ``Reshape``; see :func:`infer_reshape` for the special codes."""
    return jnp.reshape(data, infer_reshape(data.shape, tuple(shape), reverse))


@register("reshape_like", ("lhs", "rhs"))
def reshape_like(lhs, rhs):
    return jnp.reshape(lhs, rhs.shape)


@register("Flatten", ("data",), aliases=("flatten",))
def flatten(data):
    """Keep the first axis, merge the rest: ``(N, d1, d2, ...) -> (N, d1*d2*...)``."""
    if data.ndim == 0:
        return data.reshape(1, 1)
    return data.reshape(data.shape[0], -1)


@register("transpose", ("data",))
def transpose(data, *, axes: tuple = ()):
    return jnp.transpose(data, tuple(axes) if axes else None)


@register("SwapAxis", ("data",), aliases=("swapaxes",))
def swapaxes(data, *, dim1: int = 0, dim2: int = 0):
    return jnp.swapaxes(data, dim1, dim2)


@register("expand_dims", ("data",))
def expand_dims(data, *, axis: int):
    return jnp.expand_dims(data, axis)


@register("squeeze", ("data",))
def squeeze(data, *, axis: tuple | None = None):
    r = jnp.squeeze(data, axis=axis if axis is None or isinstance(axis, int) else tuple(axis))
    return r.reshape((1,)) if r.ndim == 0 else r


@register("Concat", ("*data",), aliases=("concat",))
def concat(*data, dim: int = 1, num_args: int | None = None):
    """Join along ``dim`` (default 1, MXNet's)."""
    from optjax.compat.mxnet.ops._checks import same_dtype
    same_dtype(*data)
    return jnp.concatenate(data, axis=dim)


@register("stack", ("*data",))
def stack(*data, axis: int = 0, num_args: int | None = None):
    return jnp.stack(data, axis=axis)


def _split_outputs(num_outputs: int = 1, **_):
    return int(num_outputs)


@register("SliceChannel", ("data",), aliases=("split",), num_outputs=_split_outputs)
def split(data, *, num_outputs: int, axis: int = 1, squeeze_axis: bool = False):
    """Split into ``num_outputs`` equal parts along ``axis``."""
    if data.shape[axis] % num_outputs:
        raise MXNetError(f"SliceChannel: dimension {data.shape[axis]} of axis {axis} is not "
                         f"divisible by num_outputs={num_outputs}")
    parts = jnp.split(data, num_outputs, axis=axis)
    if squeeze_axis:
        parts = [jnp.squeeze(p, axis) for p in parts]
    return tuple(parts) if num_outputs > 1 else parts[0]


@register("slice_axis", ("data",))
def slice_axis(data, *, axis: int, begin: int, end: int | None):
    n = data.shape[axis]
    b = begin + n if begin < 0 else begin
    e = n if end is None else (end + n if end < 0 else end)
    idx = [slice(None)] * data.ndim
    idx[axis] = slice(b, e)
    return data[tuple(idx)]


@register("slice", ("data",), aliases=("crop",))
def slice_(data, *, begin: tuple, end: tuple, step: tuple = ()):
    idx = []
    for k in range(data.ndim):
        b = begin[k] if k < len(begin) else None
        e = end[k] if k < len(end) else None
        s = step[k] if k < len(step) else None
        idx.append(slice(b, e, s))
    return data[tuple(idx)]


def decode_key(key):
    """The indexing key encoded by the NDArray front end as a hashable value."""
    if isinstance(key, tuple) and key and key[0] == "__slice__":
        return slice(*key[1:])
    if isinstance(key, tuple) and key and key[0] == "__array__":
        import numpy as np
        return np.asarray(key[2], dtype=np.int64 if all(isinstance(v, int) for v in key[2])
                          else None).reshape(key[1])
    if isinstance(key, tuple):
        return tuple(decode_key(k) for k in key)
    return key


@register("_getitem", ("data",))
def getitem(data, *, key):
    """Basic or advanced indexing with a static (hashable) key, for the tape."""
    return data[decode_key(key)]


@register("_getitem_array", ("data", "index"))
def getitem_array(data, index):
    return data[index.astype(jnp.int32)]
