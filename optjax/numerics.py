"""Counters and dtype rules shared by every transform."""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp


def safe_increment(count: jax.Array) -> jax.Array:
    """``count + 1`` that saturates at the dtype's maximum instead of wrapping.

    Step counters are int32: after 2**31 - 1 steps they stay there, so a
    schedule keeps its final value rather than jumping back to a negative step.
    Any integer or floating dtype works (a float counter stops at its finite
    maximum); the result keeps ``count``'s dtype.
    """
    count = jnp.asarray(count)
    dtype = count.dtype
    if jnp.issubdtype(dtype, jnp.integer):
        big = jnp.iinfo(dtype).max
    elif jnp.issubdtype(dtype, jnp.floating):
        big = jnp.finfo(dtype).max
    else:
        raise ValueError(f"safe_increment: count must have an integer or floating dtype, got {dtype}")
    big = jnp.asarray(big, dtype)
    return jnp.where(count < big, count + jnp.ones((), dtype), big)


def zero_count() -> jax.Array:
    return jnp.zeros((), jnp.int32)


def compute_dtype(dtype: Any) -> Any:
    """The dtype optimizer math runs in: at least float32 (bf16/f16 are upcast)."""
    return _compute_dtype(jnp.dtype(dtype))


@functools.lru_cache(maxsize=None)
def _compute_dtype(dtype: Any) -> Any:  # called per leaf while tracing: the answer for each dtype once
    if jnp.issubdtype(dtype, jnp.floating) or jnp.issubdtype(dtype, jnp.complexfloating):
        return jnp.promote_types(dtype, jnp.float32)
    return dtype


def cast(x: Any, dtype: Any) -> Any:
    """``x.astype(dtype)``, or ``x`` itself when that would change nothing.

    A JAX array (or tracer) that already has ``dtype`` and is not weakly typed
    is returned as is: the same value as ``astype``, without its cost, which is
    per leaf per step while a step traces. Anything else (a weakly typed
    value, a NumPy array, another dtype) goes through ``x.astype(dtype)``.

    >>> import jax.numpy as jnp, optjax
    >>> x = jnp.ones(2)
    >>> optjax.numerics.cast(x, jnp.float32) is x, optjax.numerics.cast(x, jnp.bfloat16).dtype
    (True, dtype(bfloat16))
    """
    aval = getattr(x, "aval", None)
    if aval is not None and not aval.weak_type and x.dtype == dtype:
        return x
    return x.astype(dtype)


PARAM_DTYPE = "param"
"""Pass as ``nu_dtype`` (or ``accumulator_dtype``) to keep a second moment in each param's own dtype."""


def second_moment_dtype(param_dtype: Any, requested: Any = None) -> Any:
    """The storage dtype of a running mean or sum of squares (Adam's ``nu``) for a leaf.

    By default at least float32 (:func:`compute_dtype`): in bfloat16 (8 bits of
    mantissa) ``v <- b2 v + (1 - b2) g^2`` stops moving once ``(1 - b2) g^2`` is
    below half an ulp of ``v``, so after a few thousand steps ``v`` is off by a
    factor of 2 and the step by ``sqrt(2)``. ``requested`` overrides: a dtype,
    or :data:`PARAM_DTYPE` (``"param"``) for the param's own dtype (half the
    memory, torch's and MXNet's choice without ``multi_precision``).

    >>> import jax.numpy as jnp
    >>> second_moment_dtype(jnp.bfloat16), second_moment_dtype(jnp.bfloat16, "param")
    (dtype('float32'), dtype(bfloat16))
    """
    if requested is None:
        return compute_dtype(param_dtype)
    if isinstance(requested, str) and requested == PARAM_DTYPE:
        return jnp.dtype(param_dtype)
    return jnp.dtype(requested)


def hyperparam_dtype(params: Any) -> Any:
    """float32, or float64 when some param is float64 (never narrower than f32)."""
    dt = jnp.float32
    for x in jax.tree.leaves(params):
        if x is not None and hasattr(x, "dtype") and jnp.dtype(x.dtype) == jnp.float64:
            dt = jnp.float64
    return dt


def abs_sq(x: jax.Array) -> jax.Array:
    """``|x|^2`` as ``re(x)^2 + im(x)^2`` (real for complex ``x``)."""
    return jnp.square(jnp.real(x)) + jnp.square(jnp.imag(x))


def safe_norm(x: jax.Array, min_norm: float, ord=None, axis=None, keepdims: bool = False) -> jax.Array:  # noqa: A002
    """``max(|x|, min_norm)`` whose gradient is finite at ``x = 0`` (optax's ``safe_norm``)."""
    norm = jnp.linalg.norm(x, ord=ord, axis=axis, keepdims=True)
    x = jnp.where(norm <= min_norm, jnp.ones_like(x), x)
    norm = jnp.squeeze(norm, axis=axis) if not keepdims else norm
    masked = jnp.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    return jnp.where(norm <= min_norm, min_norm, masked)


def safe_root_mean_squares(x: jax.Array, min_rms: float) -> jax.Array:
    """``max(rms(x), min_rms)`` with a finite gradient at ``x = 0``."""
    rms = jnp.sqrt(jnp.mean(abs_sq(x)))
    x = jnp.where(rms <= min_rms, jnp.ones_like(x), x)
    return jnp.where(rms <= min_rms, min_rms, jnp.sqrt(jnp.mean(abs_sq(x))))


safe_int32_increment = safe_increment  # optax's name for the saturating int32 step counter
