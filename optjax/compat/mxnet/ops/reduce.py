"""Reductions: ``sum``, ``mean``, ``prod``, ``max``, ``min``, ``norm``, ``argmax``, ``argmin``.

MXNet 1.9.1 (legacy shapes): reducing every axis gives shape ``(1,)``, not ``()``;
``exclude=True`` reduces every axis *not* listed; ``argmax``/``argmin`` return
the index as the input's float dtype.
"""

from __future__ import annotations

import jax.numpy as jnp

from optjax.compat.mxnet.ops.registry import register


def reduce_axes(ndim: int, axis, exclude: bool = False) -> tuple:
    """MXNet's ``axis``/``exclude`` as a tuple of non-negative axes."""
    if axis is None or axis == ():
        axes = tuple(range(ndim))
        return () if exclude else axes
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    axes = tuple(sorted(a % ndim for a in axes))
    if exclude:
        axes = tuple(a for a in range(ndim) if a not in axes)
    return axes


def _legacy(r):
    return r.reshape((1,)) if r.ndim == 0 else r


def _define(name, fn):
    def op(data, *, axis: tuple | None = None, keepdims: bool = False, exclude: bool = False):
        axes = reduce_axes(data.ndim, axis, exclude)
        return _legacy(fn(data, axis=axes, keepdims=keepdims))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"``{name}`` over ``axis`` (all by default; ``exclude`` inverts), legacy (1,) scalars."
    return op


_REDUCE = {"sum": jnp.sum, "mean": jnp.mean, "prod": jnp.prod, "max": jnp.max, "min": jnp.min,
           "nansum": jnp.nansum, "nanprod": jnp.nanprod}
_ALIAS = {"sum": ("sum_axis",), "max": ("max_axis",), "min": ("min_axis",)}

for _name, _fn in _REDUCE.items():
    register(_name, ("data",), aliases=_ALIAS.get(_name, ()))(_define(_name, _fn))


@register("norm", ("data",))
def norm(data, *, ord: int = 2, axis: tuple | None = None, keepdims: bool = False, out_dtype: str | None = None):
    """L2 (``ord=2``) or L1 norm over ``axis`` (all elements by default)."""
    axes = reduce_axes(data.ndim, axis)
    if ord == 2:
        r = jnp.sqrt(jnp.sum(jnp.square(data), axis=axes, keepdims=keepdims))
    elif ord == 1:
        r = jnp.sum(jnp.abs(data), axis=axes, keepdims=keepdims)
    else:
        raise ValueError(f"norm: ord must be 1 or 2, got {ord!r}")
    return _legacy(r)


def _arg(fn, name):
    def op(data, *, axis: int | None = None, keepdims: bool = False):
        if axis is None:
            r = fn(data.reshape(-1), axis=0)
            r = r.reshape((1,) * data.ndim if keepdims else (1,))
        else:
            r = fn(data, axis=axis, keepdims=keepdims)
        return _legacy(r.astype(data.dtype if jnp.issubdtype(data.dtype, jnp.floating)
                                else jnp.float32))

    op.__name__ = op.__qualname__ = name
    return op


register("argmax", ("data",))(_arg(jnp.argmax, "argmax"))
register("argmin", ("data",))(_arg(jnp.argmin, "argmin"))


@register("argmax_channel", ("data",))
def argmax_channel(data):
    return jnp.argmax(data, axis=-1).astype(data.dtype)


@register("moments", ("data",), num_outputs=2)
def moments(data, *, axes: tuple | None = None, keepdims: bool = False):
    """``(mean, biased variance)`` over ``axes`` (all if None)."""
    ax = None if axes is None else tuple(axes)
    mean = jnp.mean(data, axis=ax, keepdims=True)
    var = jnp.mean(jnp.square(data - mean), axis=ax, keepdims=keepdims)
    return (mean if keepdims else jnp.squeeze(mean, ax)), var
