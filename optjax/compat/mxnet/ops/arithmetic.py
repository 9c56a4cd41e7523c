"""Elementwise binary operators: ``broadcast_*``, ``elemwise_*`` and the ``*_scalar`` forms.

MXNet's rules, checked against 1.9.1: both array inputs must have the same dtype
(``Incompatible attr``); a Python scalar is cast to the array's dtype first
(``int32 * 1.5`` multiplies by 1); integer division truncates toward zero;
``%`` is a floor modulo (Python's sign rule); comparisons return 0/1 in the
input's dtype.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

from optjax.compat.mxnet.ops._checks import broadcastable, same_dtype
from optjax.compat.mxnet.ops.registry import register


def _divide(a, b):
    if jnp.issubdtype(a.dtype, jnp.integer):
        return lax.div(a, b)  # C semantics: toward zero, as MXNet
    return a / b


def _mod(a, b):
    return jnp.mod(a, b)


def _cmp(fn):
    return lambda a, b: fn(a, b).astype(a.dtype)


_BINARY = {
    "add": jnp.add, "sub": jnp.subtract, "mul": jnp.multiply, "div": _divide, "mod": _mod,
    "power": jnp.power, "maximum": jnp.maximum, "minimum": jnp.minimum,
    "hypot": jnp.hypot,
    "equal": _cmp(jnp.equal), "not_equal": _cmp(jnp.not_equal), "greater": _cmp(jnp.greater),
    "greater_equal": _cmp(jnp.greater_equal), "lesser": _cmp(jnp.less),
    "lesser_equal": _cmp(jnp.less_equal),
    "logical_and": _cmp(lambda a, b: jnp.logical_and(a != 0, b != 0)),
    "logical_or": _cmp(lambda a, b: jnp.logical_or(a != 0, b != 0)),
    "logical_xor": _cmp(lambda a, b: jnp.logical_xor(a != 0, b != 0)),
}


def broadcast_binary(kind: str, lhs, rhs):
    """``broadcast_<kind>(lhs, rhs)``: same dtype, NumPy broadcasting."""
    same_dtype(lhs, rhs)
    broadcastable(lhs, rhs)
    return _BINARY[kind](lhs, rhs)


def scalar_binary(kind: str, data, scalar: float, reverse: bool = False):
    """``_<kind>_scalar(data, scalar)`` (``reverse``: ``_r<kind>_scalar``)."""
    s = jnp.asarray(scalar).astype(data.dtype)
    return _BINARY[kind](s, data) if reverse else _BINARY[kind](data, s)


def _define(kind):
    def bcast(lhs, rhs):
        return broadcast_binary(kind, lhs, rhs)

    def elem(lhs, rhs):
        same_dtype(lhs, rhs)
        if lhs.shape != rhs.shape:
            from optjax.compat.mxnet.base import MXNetError
            raise MXNetError(f"elemwise_{kind}: shapes must be equal, got {tuple(lhs.shape)} "
                             f"and {tuple(rhs.shape)}")
        return _BINARY[kind](lhs, rhs)

    def scalar(data, *, scalar: float = 0.0):
        return scalar_binary(kind, data, scalar)

    def rscalar(data, *, scalar: float = 0.0):
        return scalar_binary(kind, data, scalar, reverse=True)

    for fn, name in ((bcast, f"broadcast_{kind}"), (elem, f"elemwise_{kind}"),
                     (scalar, f"_{kind}_scalar"), (rscalar, f"_r{kind}_scalar")):
        fn.__name__ = fn.__qualname__ = name
    return bcast, elem, scalar, rscalar


# Every name MXNet knows an operator by (its symbol JSON writes the first), so reading and
# writing symbol JSON need no table of their own: ``x + 1`` is ``_plus_scalar`` (read also as
# ``_PlusScalar``; ``_add_scalar`` is the shim's own spelling), ``a + b`` ``elemwise_add``.
_ALIASES = {"add": ("broadcast_plus",), "sub": ("broadcast_minus",),
            **{k: (f"_{k}",) for k in ("hypot", "equal", "not_equal", "greater", "greater_equal",
                                       "lesser", "lesser_equal", "logical_and", "logical_or",
                                       "logical_xor")},
            **{k: (f"_{k}", f"_{k.capitalize()}") for k in ("power", "maximum", "minimum", "mod")}}
_ELEM_ALIASES = {"add": ("_plus", "_Plus", "_grad_add"), "sub": ("_minus", "_Minus"),
                 "mul": ("_mul", "_Mul"), "div": ("_div", "_Div")}
_MX_WORD = {"add": "plus", "sub": "minus"}  # MXNet's word where the shim's differs
_CAMEL = ("add", "sub", "mul", "div", "power", "mod", "maximum", "minimum")  # _PlusScalar, ...
_REVERSED = ("sub", "div", "mod", "power")
for _kind in _BINARY:
    _b, _e, _s, _r = _define(_kind)
    register(f"broadcast_{_kind}", ("lhs", "rhs"), aliases=_ALIASES.get(_kind, ()))(_b)
    if _kind in ("add", "sub", "mul", "div"):
        register(f"elemwise_{_kind}", ("lhs", "rhs"), aliases=_ELEM_ALIASES[_kind])(_e)
    _word = _MX_WORD.get(_kind, _kind)
    _camel = _word.capitalize()
    for _rev, _fn in (("", _s), ("r", _r)):
        if _rev and _kind not in _REVERSED:
            continue
        _names = [f"_{_rev}{_word}_scalar", f"_{_rev}{_kind}_scalar"]
        if _kind in _CAMEL:
            _names.append(f"_{_rev.upper()}{_camel}Scalar")
        _names = list(dict.fromkeys(_names))
        register(_names[0], ("data",), aliases=tuple(_names[1:]))(_fn)


@register("add_n", ("*args",), aliases=("ElementWiseSum",))
def add_n(*args, num_args: int | None = None):
    """Sum of any number of same-shaped arrays."""
    same_dtype(*args)
    out = args[0]
    for a in args[1:]:
        out = out + a
    return out
