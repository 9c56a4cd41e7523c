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

from optjax.compat.mxnet.ndarray.ndarray import NDArray, _assign, from_jax

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
