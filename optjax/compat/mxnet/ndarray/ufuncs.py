"""``nd.add``, ``nd.maximum``, ``nd.equal``...: binary functions that accept NDArrays or scalars.

Two NDArrays call ``broadcast_<op>``; an NDArray and a scalar call the ``_<op>_scalar``
operator; two scalars compute in Python (MXNet's ``_ufunc_helper``).
"""

from __future__ import annotations

import numbers
import operator

from optjax.compat.mxnet.ndarray.ndarray import NDArray, _assign, _call

__all__ = ["add", "subtract", "multiply", "divide", "true_divide", "modulo", "power", "maximum",
           "minimum", "equal", "not_equal", "greater", "greater_equal", "lesser", "lesser_equal",
           "logical_and", "logical_or", "logical_xor", "hypot"]

_REVERSIBLE = {"sub", "div", "mod", "power"}
_SWAP = {"greater": "lesser", "greater_equal": "lesser_equal", "lesser": "greater",
         "lesser_equal": "greater_equal"}


def _ufunc(kind, py):
    def fn(lhs, rhs, out=None):
        if isinstance(lhs, NDArray) and isinstance(rhs, NDArray):
            r = _call(f"broadcast_{kind}", [lhs, rhs], {})
        elif isinstance(lhs, NDArray):
            r = _call(f"_{kind}_scalar", [lhs], {"scalar": float(rhs)})
        elif isinstance(rhs, NDArray):
            if kind in _REVERSIBLE:
                r = _call(f"_r{kind}_scalar", [rhs], {"scalar": float(lhs)})
            else:
                r = _call(f"_{_SWAP.get(kind, kind)}_scalar", [rhs], {"scalar": float(lhs)})
        else:
            return py(lhs, rhs)
        return r if out is None else _assign(out, r)

    fn.__name__ = kind
    fn.__doc__ = f"Elementwise ``{kind}`` with broadcasting; NDArrays or scalars."
    return fn


def _num(f):
    return lambda a, b: float(f(a, b)) if isinstance(a, numbers.Number) else f(a, b)


add = _ufunc("add", operator.add)
subtract = _ufunc("sub", operator.sub)
multiply = _ufunc("mul", operator.mul)
divide = true_divide = _ufunc("div", operator.truediv)
modulo = _ufunc("mod", operator.mod)
power = _ufunc("power", operator.pow)
maximum = _ufunc("maximum", max)
minimum = _ufunc("minimum", min)
hypot = _ufunc("hypot", lambda a, b: (a * a + b * b) ** 0.5)
equal = _ufunc("equal", _num(operator.eq))
not_equal = _ufunc("not_equal", _num(operator.ne))
greater = _ufunc("greater", _num(operator.gt))
greater_equal = _ufunc("greater_equal", _num(operator.ge))
lesser = _ufunc("lesser", _num(operator.lt))
lesser_equal = _ufunc("lesser_equal", _num(operator.le))
logical_and = _ufunc("logical_and", _num(lambda a, b: bool(a) and bool(b)))
logical_or = _ufunc("logical_or", _num(lambda a, b: bool(a) or bool(b)))
logical_xor = _ufunc("logical_xor", _num(lambda a, b: bool(a) != bool(b)))
