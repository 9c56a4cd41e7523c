"""``mx.sym.zeros``, ``ones``, ``full`` and ``arange``: symbols of MXNet's source
operators (``_zeros``, ``_ones``, ``_full``, ``_arange``) with MXNet 1.9.1's
attributes (``dtype`` float32 unless given; ``full`` writes ``value`` as a float;
``arange`` writes ``stop`` even when it is None), so their JSON is MXNet's.

Example:
    >>> import optjax.compat.mxnet as mx
    >>> mx.sym.full((2,), 7).eval()[0].asnumpy().tolist()
    [7.0, 7.0]
    >>> mx.sym.arange(2, 11, 3, repeat=2).eval()[0].asnumpy().tolist()
    [2.0, 2.0, 5.0, 5.0, 8.0, 8.0]
"""

from __future__ import annotations

from optjax.compat.mxnet.symbol.symbol import Symbol, _apply

__all__ = ["zeros", "ones", "full", "arange"]


def _dtype(dtype):
    return "float32" if dtype is None else dtype


def zeros(shape, dtype=None, name=None, attr=None, **kwargs) -> Symbol:
    """A symbol of zeros of ``shape``."""
    return _apply("_zeros", "_zeros", [], {"shape": shape, "dtype": _dtype(dtype), **kwargs},
                  name=name, attr=attr)


def ones(shape, dtype=None, name=None, attr=None, **kwargs) -> Symbol:
    """A symbol of ones of ``shape``."""
    return _apply("_ones", "_ones", [], {"shape": shape, "dtype": _dtype(dtype), **kwargs},
                  name=name, attr=attr)


def full(shape, val, dtype=None, name=None, attr=None, **kwargs) -> Symbol:
    """A symbol of ``shape`` filled with ``val``."""
    return _apply("_full", "_full", [],
                  {"shape": shape, "dtype": _dtype(dtype), "value": float(val), **kwargs},
                  name=name, attr=attr)


def arange(start, stop=None, step=1.0, repeat=1, infer_range=False, name=None, dtype=None,
           attr=None) -> Symbol:
    """``start, start + step, ...`` below ``stop`` (``[0, start)`` without ``stop``), each
    value ``repeat`` times."""
    return _apply("_arange", "_arange", [],
                  {"start": start, "stop": "None" if stop is None else stop, "step": step,
                   "repeat": repeat, "infer_range": infer_range, "dtype": _dtype(dtype)},
                  name=name, attr=attr)
