"""Run a registered operator on NDArrays: the eager front end shared by ``mx.nd`` and gluon's ``F``.

:func:`invoke` unwraps the NDArrays, calls the operator's pure JAX function
(compiled once per operator and static attributes), writes auxiliary-state
updates back or, for moving averages (``BatchNorm`` in training), hands them to the
autograd tape for the backward pass as MXNet does, wraps the results, honours ``out=``,
and records the call on the autograd tape when recording.

Attributes are static (part of the compiled function) except the operator's
``dynamic`` ones, floats that change from call to call (``scalar`` of
``x * lr``): those are passed as traced values so a new value does not recompile.
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from optjax.compat.mxnet.ndarray.ndarray import (NDArray, LazyValue, _assign, aval_of, from_jax,
                                                 is_pending)

__all__ = ["invoke", "hashable", "DYNAMIC_ATTRS"]

# Optimizer update operators (ops/optimizer_updates.py) take a new lr, wd, rescale_grad,
# eta and step t on every call.
DYNAMIC_ATTRS = frozenset({"scalar", "a_min", "a_max", "lr", "wd", "rescale_grad", "eta", "t"})
_NO_JIT = frozenset({"_getitem", "_getitem_array", "_copy"})


def hashable(v):
    """An attribute value as a hashable static value (lists become tuples)."""
    if isinstance(v, list):
        return tuple(hashable(x) for x in v)
    if isinstance(v, tuple):
        return tuple(hashable(x) for x in v)
    if isinstance(v, np.dtype):
        return v.name
    if isinstance(v, type) and issubclass(v, np.generic):
        return np.dtype(v).name
    if isinstance(v, np.generic):
        return v.item()
    return v


@functools.lru_cache(maxsize=4096)
def _compiled(fn, static_items: tuple, jit: bool):
    f = functools.partial(fn, **dict(static_items))
    return jax.jit(f) if jit else f


def split_attrs(op, attrs: dict) -> tuple[tuple, dict]:
    """``(static items, dynamic attrs)`` for an operator call."""
    static, dynamic = [], {}
    for k, v in attrs.items():
        if k in DYNAMIC_ATTRS and not isinstance(v, (tuple, list, str)) and v is not None:
            dynamic[k] = np.float64(v) if isinstance(v, float) else v
        else:
            static.append((k, hashable(v)))
    return tuple(sorted(static, key=lambda kv: kv[0])), dynamic


def invoke(op, inputs: list, attrs: dict, out=None, name=None):
    """Call ``op`` on NDArray ``inputs`` (None for an absent optional input)."""
    from optjax.compat.mxnet import autograd
    from optjax.compat.mxnet.ndarray import random as _random

    attrs = {k: v for k, v in attrs.items() if k not in ("name", "attr", "ctx")}
    if op.needs_mode and "is_train" not in attrs:
        attrs["is_train"] = autograd.is_training()
    static, dynamic = split_attrs(op, attrs)
    if (out is None and not op.aux and not op.needs_key and op.name not in _NO_JIT
            and getattr(op, "mutates", None) is None and autograd.is_recording()
            and autograd.aux_sink() is None and any(is_pending(x) for x in inputs)):
        outs = _deferred(op, static, dynamic, inputs)
        if outs is not None:
            return outs[0] if len(outs) == 1 else outs
    if op.needs_key:
        dynamic["key"] = _random.next_key()
    arrays = [None if x is None else _as_array(x) for x in inputs]
    static_d = dict(static)
    momentum = op.deferred_momentum(static_d.get("is_train", False), static_d) if op.aux else None
    n_aux = len(op.aux)
    if momentum is not None:  # called with zero moving statistics: new_aux is the increment
        arrays[-n_aux:] = [None if a is None else jax.numpy.zeros_like(a)
                           if isinstance(a, jax.core.Tracer) else _zeros(a.shape, a.dtype)
                           for a in arrays[-n_aux:]]
    fn = _compiled(op.fn, static, op.name not in _NO_JIT)
    result = fn(*arrays, **dynamic)

    ctx = _first_ctx(inputs)
    mutates = getattr(op, "mutates", None)  # inputs the operator updates in place
    if mutates is not None:
        result, new_values = result
        for pos, value in zip(mutates(len(inputs), **dict(static)), new_values):
            if inputs[pos] is not None:
                inputs[pos]._data = value.astype(inputs[pos]._store.value.dtype)
    deferred = ()
    if op.aux:
        result, new_aux = result
        boxes = inputs[len(inputs) - n_aux:]
        if momentum is not None:  # applied by the backward pass, as MXNet
            deferred = tuple((box, momentum, value) for box, value in zip(boxes, new_aux)
                             if box is not None)
        elif static_d.get("is_train", False):
            for box, value in zip(boxes, new_aux):
                if box is not None:
                    box._data = value.astype(box._store.value.dtype)
    outs = [from_jax(r, ctx) for r in result] if isinstance(result, (tuple, list)) \
        else [from_jax(result, ctx)]

    sink = autograd.aux_sink()
    if sink is not None:  # a hybridized forward being traced: its tape entry takes them
        sink.extend(deferred)
    elif autograd.is_recording():
        autograd.record_op(op, static, dynamic, inputs, outs, deferred)

    if out is not None:
        targets = out if isinstance(out, (list, tuple)) else [out]
        for t, r in zip(targets, outs):
            _assign(t, r)
        return out
    return outs[0] if len(outs) == 1 else outs


_out_avals: dict = {}


def _deferred(op, static, dynamic, inputs):
    """A recorded call on a pending input (the output of a hybridized block, not computed
    yet), recorded with pending outputs: ``backward`` computes them in its compiled replay,
    fused with the block's forward. None when the call must run now (an input that is not
    an NDArray, or an operator that fails on abstract values: run eagerly, it raises then
    the error it raises today)."""
    from optjax.compat.mxnet import autograd
    if any(x is not None and not isinstance(x, NDArray) for x in inputs):
        return None
    fn = _compiled(op.fn, static, True)
    in_avals = tuple(aval_of(x) for x in inputs)
    cache_key = (fn, in_avals, tuple((k, np.shape(v), np.result_type(v))
                                     for k, v in sorted(dynamic.items())))
    out_avals = _out_avals.get(cache_key)
    if out_avals is None:
        try:
            res = jax.eval_shape(lambda *a: fn(*a, **dynamic), *in_avals)
        except Exception:  # noqa: BLE001 (the eager call raises it, as today)
            res = None
        out_avals = False if res is None else tuple(
            res if isinstance(res, (tuple, list)) else (res,))
        if len(_out_avals) > 4096:
            _out_avals.clear()
        _out_avals[cache_key] = out_avals
    if out_avals is False:
        return None
    args = [x if x is None or is_pending(x) else x._data for x in inputs]
    lazy = LazyValue(lambda *a: fn(*a, **dynamic), args, out_avals)
    outs = lazy.outputs(_first_ctx(inputs))
    autograd.record_op(op, static, dynamic, inputs, outs, lazy=lazy)
    return outs


@functools.lru_cache(maxsize=64)
def _zeros(shape, dtype):
    return jax.numpy.zeros(shape, dtype)


def _as_array(x):
    if isinstance(x, NDArray):
        return x._data
    if isinstance(x, (int, float, np.ndarray, np.generic, jax.Array)):
        return jax.numpy.asarray(x)
    raise TypeError(f"expected an NDArray input, got {type(x).__name__}")


def _first_ctx(inputs):
    for x in inputs:
        if isinstance(x, NDArray) and x._ctx is not None:
            return x._ctx
    return None
