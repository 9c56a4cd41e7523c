"""NDArray methods that are operators (``x.sum(axis=1)``, ``x.softmax()``, ``x.clip(0, 1)``).

Every registered operator whose first input is the array is also a method, as in
MXNet's generated NDArray methods: ``x.op(*args, **kwargs) == nd.op(x, *args, **kwargs)``.
"""

from __future__ import annotations

from optjax.compat.mxnet.ops import registry

__all__ = ["method"]

_EXCLUDE = {"Reshape", "reshape"}  # NDArray.reshape is a view, defined on the class
_cache: dict = {}


def method(name: str):
    """The method named ``name`` (a function of ``self``), or None."""
    if name.startswith("__") or name in _EXCLUDE:
        return None
    fn = _cache.get(name)
    if fn is None:
        from optjax.compat.mxnet.ndarray import ops as front
        f = getattr(front, name, None)
        if f is None or name not in registry.OPS:
            return None

        def fn(self, *args, _f=f, **kwargs):
            return _f(self, *args, **kwargs)

        fn.__name__ = name
        fn.__doc__ = f.__doc__
        _cache[name] = fn
    return fn

