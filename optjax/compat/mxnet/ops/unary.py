"""Elementwise unary operators (math and activations), each MXNet's name on a jnp function."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from optjax.compat.mxnet.ops.registry import register


def _float(fn):
    return fn


_UNARY = {
    "negative": jnp.negative, "abs": jnp.abs, "sign": jnp.sign, "round": jnp.round,
    "rint": jnp.rint, "ceil": jnp.ceil, "floor": jnp.floor, "trunc": jnp.trunc, "fix": jnp.trunc,
    "square": jnp.square, "sqrt": jnp.sqrt, "rsqrt": jax.lax.rsqrt, "cbrt": jnp.cbrt,
    "rcbrt": lambda x: 1.0 / jnp.cbrt(x), "exp": jnp.exp, "log": jnp.log, "log10": jnp.log10,
    "log2": jnp.log2, "log1p": jnp.log1p, "expm1": jnp.expm1, "reciprocal": jnp.reciprocal,
    "sin": jnp.sin, "cos": jnp.cos, "tan": jnp.tan, "arcsin": jnp.arcsin, "arccos": jnp.arccos,
    "arctan": jnp.arctan, "sinh": jnp.sinh, "cosh": jnp.cosh, "tanh": jnp.tanh,
    "arcsinh": jnp.arcsinh, "arccosh": jnp.arccosh, "arctanh": jnp.arctanh,
    "degrees": jnp.degrees, "radians": jnp.radians,
    "relu": jax.nn.relu, "sigmoid": jax.nn.sigmoid, "softsign": jax.nn.soft_sign,
    "gamma": lambda x: jnp.exp(jax.scipy.special.gammaln(x)),
    "gammaln": jax.scipy.special.gammaln, "erf": jax.scipy.special.erf,
    "erfinv": jax.scipy.special.erfinv, "logical_not": lambda x: (x == 0).astype(x.dtype),
    "zeros_like": jnp.zeros_like, "ones_like": jnp.ones_like,
    "BlockGrad": jax.lax.stop_gradient,
}

_ALIAS = {"BlockGrad": ("stop_gradient",)}


def _define(name, f):
    def op(data):
        return f(data)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"``{name}(data)``: elementwise, in the input's dtype."
    return op


for _name, _f in _UNARY.items():
    register(_name, ("data",), aliases=_ALIAS.get(_name, ()))(_define(_name, _f))


@register("identity", ("data",), aliases=("_copy",))
def identity(data):
    return data


@register("clip", ("data",))
def clip(data, *, a_min: float, a_max: float):
    """``min(max(x, a_min), a_max)`` in the array's dtype."""
    lo = jnp.asarray(a_min).astype(data.dtype)
    hi = jnp.asarray(a_max).astype(data.dtype)
    return jnp.minimum(jnp.maximum(data, lo), hi)


@register("Cast", ("data",), aliases=("cast",))
def cast(data, *, dtype: str = "float32"):
    """``data`` in ``dtype``. Floats cast to a narrow integer type wrap around as in MXNet
    1.9.1 (``300.2 -> uint8`` is 44, measured), where a direct cast would saturate."""
    from optjax.compat.mxnet.ndarray.dtypes import np_dtype
    target = np_dtype(dtype)
    if jnp.issubdtype(data.dtype, jnp.floating) and jnp.issubdtype(target, jnp.integer) \
            and target.itemsize < 4:
        return data.astype(jnp.int32).astype(target)
    return data.astype(target)
