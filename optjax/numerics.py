"""Counters and dtype rules shared by every transform."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp


def safe_increment(count: jax.Array) -> jax.Array:
    """``count + 1`` that saturates at the dtype's maximum instead of wrapping.

    Step counters are int32: after 2**31 - 1 steps they stay there, so a
    schedule keeps its final value rather than jumping back to a negative step.
    """
    big = jnp.iinfo(count.dtype).max
    return jnp.where(count < big, count + 1, count)


def zero_count() -> jax.Array:
    return jnp.zeros((), jnp.int32)


def compute_dtype(dtype: Any) -> Any:
    """The dtype optimizer math runs in: at least float32 (bf16/f16 are upcast)."""
    dtype = jnp.dtype(dtype)
    if jnp.issubdtype(dtype, jnp.floating) or jnp.issubdtype(dtype, jnp.complexfloating):
        return jnp.promote_types(dtype, jnp.float32)
    return dtype


def hyperparam_dtype(params: Any) -> Any:
    """float32, or float64 when some param is float64 (never narrower than f32)."""
    dt = jnp.float32
    for x in jax.tree.leaves(params):
        if x is not None and hasattr(x, "dtype") and jnp.dtype(x.dtype) == jnp.float64:
            dt = jnp.float64
    return dt
