"""Array creation: ``array``, ``zeros``, ``ones``, ``full``, ``empty``, ``arange``, ``eye``, ..."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from optjax.compat.mxnet.context import Context
from optjax.compat.mxnet.ndarray.dtypes import np_dtype
from optjax.compat.mxnet.ndarray.ndarray import NDArray, _assign, from_jax, _place

__all__ = ["array", "zeros", "ones", "full", "empty", "arange", "linspace", "eye", "zeros_like",
           "ones_like", "full_like"]


def _new(value, ctx, out=None):
    ctx = None if ctx is None else Context(ctx)
    r = from_jax(_place(value, ctx), ctx)
    return r if out is None else _assign(out, r)


def _shape(shape):
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)


def array(source_array, ctx=None, dtype=None) -> NDArray:
    """``mx.nd.array``: float32 unless ``dtype`` is given or the source is an NDArray (MXNet's rule)."""
    if isinstance(source_array, NDArray):
        dt = source_array._data.dtype if dtype is None else np_dtype(dtype)
        return _new(source_array._data.astype(dt), ctx)
    return _new(jnp.asarray(np.asarray(source_array, dtype=np_dtype(dtype))), ctx)


def zeros(shape, ctx=None, dtype=None, stype=None, out=None, **kwargs) -> NDArray:
    return _new(jnp.zeros(_shape(shape), np_dtype(dtype)), ctx, out)


def ones(shape, ctx=None, dtype=None, out=None, **kwargs) -> NDArray:
    return _new(jnp.ones(_shape(shape), np_dtype(dtype)), ctx, out)


def full(shape, val, ctx=None, dtype=None, out=None) -> NDArray:
    return _new(jnp.full(_shape(shape), val, np_dtype(dtype)), ctx, out)


def empty(shape, ctx=None, dtype=None) -> NDArray:
    return zeros(shape, ctx=ctx, dtype=dtype)


def arange(start, stop=None, step=1.0, repeat=1, infer_range=False, ctx=None,
           dtype=None) -> NDArray:
    """MXNet's ``arange`` (the ``_arange`` operator, float32 by default)."""
    from optjax.compat.mxnet.ops import registry
    dtype = "float32" if dtype is None else np.dtype(np_dtype(dtype)).name
    return _new(registry.get("_arange").fn(start=start, stop=stop, step=step, repeat=repeat,
                                           infer_range=infer_range, dtype=dtype), ctx)


def linspace(start, stop, num, endpoint=True, ctx=None, dtype=None) -> NDArray:
    return _new(jnp.linspace(start, stop, num, endpoint=endpoint, dtype=np_dtype(dtype)), ctx)


def eye(N, M=0, k=0, ctx=None, dtype=None) -> NDArray:
    return _new(jnp.eye(N, M or None, k, dtype=np_dtype(dtype)), ctx)


def zeros_like(data, out=None, name=None) -> NDArray:
    """The ``zeros_like`` operator (recorded by autograd, a zero gradient, as MXNet)."""
    from optjax.compat.mxnet.ndarray.invoke import invoke
    from optjax.compat.mxnet.ops import registry
    return invoke(registry.get("zeros_like"), [data], {}, out=out)


def ones_like(data, out=None, name=None) -> NDArray:
    """The ``ones_like`` operator (recorded by autograd, a zero gradient, as MXNet)."""
    from optjax.compat.mxnet.ndarray.invoke import invoke
    from optjax.compat.mxnet.ops import registry
    return invoke(registry.get("ones_like"), [data], {}, out=out)


def full_like(data, fill_value, out=None) -> NDArray:
    return _new(jnp.full_like(data._data, fill_value), data._ctx, out)
