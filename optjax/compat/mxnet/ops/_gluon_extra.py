"""Operators gluon's losses call (``pick``, ``one_hot``, ``where``) where the operator modules lack them.

This file is a stop-gap kept apart from the operator modules: each function here
is registered only when no operator module has registered that name already
(the package imports this module last), so the operator modules' versions win.
Every function follows the registry's conventions (:mod:`.registry`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from optjax.compat.mxnet.ops.registry import OPS, register


def _register(name, inputs=("data",), **options):
    """``register`` unless an operator module registered ``name`` first."""
    def deco(fn):
        if name in OPS:
            return fn
        options["aliases"] = tuple(a for a in options.get("aliases", ()) if a not in OPS)
        return register(name, inputs, **options)(fn)
    return deco


@_register("pick", ("data", "index"))
def pick(data, index, *, axis: int = -1, keepdims: bool = False, mode: str = "clip"):
    """``data[..., index, ...]`` along ``axis``, one index per position of the other axes."""
    ax = axis % data.ndim
    n = data.shape[ax]
    idx = index.astype(jnp.int32)
    idx = jnp.clip(idx, 0, n - 1) if mode == "clip" else jnp.mod(idx, n)
    idx = idx.reshape(data.shape[:ax] + (1,) + data.shape[ax + 1:])
    r = jnp.take_along_axis(data, idx, axis=ax)
    return r if keepdims else jnp.squeeze(r, axis=ax)


@_register("one_hot", ("indices",))
def one_hot(indices, *, depth: int, on_value: float = 1.0, off_value: float = 0.0,
            dtype: str = "float32"):
    """``on_value`` at each index along a new last axis of size ``depth``, else ``off_value``."""
    hot = jax.nn.one_hot(indices.astype(jnp.int32), depth, dtype=jnp.bool_)
    return jnp.where(hot, on_value, off_value).astype(dtype)


@_register("where", ("condition", "x", "y"))
def where(condition, x, y):
    """``x`` where ``condition`` is non-zero, else ``y``."""
    return jnp.where(condition != 0, x, y)
