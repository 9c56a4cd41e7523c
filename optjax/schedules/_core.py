"""Shared pieces of schedule math: step handling, dtypes, exact geometric tables.

Private module: every public schedule is built from these helpers, so each piece
of math (a geometric sequence, a cosine or linear interpolation, a count of
boundaries passed) is written once.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from optjax import validation

# Largest number of entries of an exact geometric table (see ``geometric``).
MAX_TABLE = 4096


def float_dtype() -> Any:
    """float32, or float64 when ``jax_enable_x64`` is on."""
    return jnp.dtype(jax.dtypes.canonicalize_dtype(jnp.float64))


def is_traced(x: Any) -> bool:
    return isinstance(x, jax.core.Tracer)


def as_step(step: Any) -> jax.Array:
    """The step as a float array (float32, or float64 under x64).

    Accepts Python ints of any size, int32/int64/uint32 arrays and floats
    without wrapping: integer steps are converted to float before any jax
    op sees them. A concrete negative step raises ``ValueError('step ...')``.
    Steps below 2**24 stay exact in float32; above it they are rounded to the
    nearest representable float (the schedule's value at a nearby step).
    """
    dtype = float_dtype()
    if is_traced(step):
        return jnp.asarray(step).astype(dtype)
    arr = np.asarray(step)
    if arr.dtype.kind not in "iufb":
        raise TypeError(f"step must be a number or numeric array, got {step!r}")
    if arr.dtype.kind in "iu":
        arr = arr.astype(np.float64)
    if np.any(arr < 0):
        raise ValueError(f"step must be >= 0, got {step!r}")
    return jnp.asarray(arr.astype(dtype))


def concrete(name: str, value: Any) -> float:
    """``value`` as a Python float; raises ValueError if it is traced or not a scalar."""
    v = validation.concrete_float(value)
    if v is None:
        raise ValueError(f"{name} must be a concrete number, got {value!r}")
    return v


def check_int(name: str, value: Any, *, low: int) -> int:
    """``value`` as an int >= low (accepts integral floats); ValueError naming it."""
    try:
        iv = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}") from None
    if iv != value or iv < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return iv


def check_steps(name: str, value: Any, *, low: int) -> float:
    """A step count checked as by :func:`check_int`, returned as a Python float.

    Schedules compute in floating point; a Python float mixes with a float32 step
    as a weak type, whereas a Python int beyond int32 (``decay_steps=10**10``)
    would overflow when jax converts it, under jit as well as eagerly.
    """
    return float(check_int(name, value, low=low))


def check_increasing(name: str, values: Sequence[Any], *, strict: bool = True) -> list:
    """``values`` as a list, raising ValueError naming ``name`` unless it increases."""
    vals = list(values)
    for a, b in zip(vals, vals[1:]):
        if (b <= a) if strict else (b < a):
            kind = "strictly increasing" if strict else "non-decreasing"
            raise ValueError(f"{name} must be {kind}, got {vals!r}")
    return vals


def cosine_interp(start: Any, end: Any, num: jax.Array, den: Any = 1.0) -> jax.Array:
    """``end + (start - end) * (1 + cos(pi * f)) / 2`` with ``f = num / den``.

    ``start`` at f = 0, ``end`` at f = 1, periodic (period 2) beyond. Computed as
    ``cos(pi f / 2)**2`` for f <= 1/2 and ``sin(pi (1 - f) / 2)**2`` above, with
    ``1 - f = (den - num) / den``, so values near ``end`` keep float32 relative
    precision (a plain ``1 + cos`` loses it by cancellation).
    """
    num = jnp.asarray(num)
    den = jnp.asarray(den, num.dtype)
    g = jnp.mod(num, 2 * den)
    g = jnp.where(g > den, 2 * den - g, g)
    half = jnp.pi / 2
    c = jnp.where(2 * g <= den, jnp.cos(half * (g / den)) ** 2, jnp.sin(half * ((den - g) / den)) ** 2)
    return end + (start - end) * c


def linear_interp(start: Any, end: Any, num: jax.Array, den: Any = 1.0) -> jax.Array:
    """``start + (end - start) * f`` with ``f = num / den``: ``start`` at f = 0, ``end`` at f = 1.

    Computed from the nearer end (``end + (start - end) * (den - num) / den`` for
    f > 1/2) so values near ``end`` keep float32 relative precision.
    """
    num = jnp.asarray(num)
    den = jnp.asarray(den, num.dtype)
    return jnp.where(2 * num <= den, start + (end - start) * (num / den),
                     end + (start - end) * ((den - num) / den))


INTERPOLATORS = {"linear": linear_interp, "cosine": cosine_interp, "cos": cosine_interp}


def geometric(base: Any, ratio: Any, *, floor: float | None = None):
    """``k -> base * ratio**k`` (k a non-negative integer-valued float array).

    When ``base`` and ``ratio`` are concrete, the values are those of repeated
    multiplication in Python float64 (``lr *= gamma``, as torch and MXNet do),
    rounded once to the compute dtype: a table of up to ``MAX_TABLE`` entries,
    then ``table[-1] * ratio**(k - len + 1)`` beyond it. ``floor`` clamps every
    product from below as MXNet's ``stop_factor_lr`` does.
    """
    dtype = float_dtype()
    b = validation.concrete_float(base)
    r = validation.concrete_float(ratio)
    if b is None or r is None:
        def traced_fn(k):
            v = base * jnp.power(jnp.asarray(ratio, dtype), k)
            return v if floor is None else jnp.maximum(v, floor)
        return traced_fn

    vals = [b]
    stationary = r == 1.0
    v = b
    while not stationary and len(vals) < MAX_TABLE:
        v = v * r
        if floor is not None and v < floor:
            v = floor
        f32 = float(np.asarray(v, dtype))
        if v == vals[-1] or f32 == 0.0 or math.isinf(f32):
            stationary = f32 == 0.0 or v == vals[-1] or math.isinf(f32)
            vals.append(v)
            break
        vals.append(v)
    table = np.asarray(vals, dtype)
    n = len(vals)
    last = table[-1]

    def fn(k):
        k = jnp.asarray(k, dtype)
        idx = jnp.clip(k, 0, n - 1).astype(jnp.int32)
        val = jnp.asarray(table)[idx]
        if stationary:
            return val
        tail = last * jnp.power(jnp.asarray(r, dtype), k - (n - 1))
        if floor is not None:
            tail = jnp.maximum(tail, floor)
        return jnp.where(k > n - 1, tail.astype(dtype), val)

    return fn


def count_passed(step: jax.Array, boundaries: Sequence[float]) -> jax.Array:
    """Number of boundaries ``b`` with ``step >= b`` (as an int32 array)."""
    if not boundaries:
        return jnp.zeros(jnp.shape(step), jnp.int32)
    b = jnp.asarray(np.asarray(boundaries, np.float64), step.dtype)
    return jnp.sum(step[..., None] >= b, axis=-1).astype(jnp.int32)


def table_lookup(values: Sequence[float], idx: jax.Array) -> jax.Array:
    """``values[idx]`` from a Python list, in the compute dtype."""
    return jnp.asarray(np.asarray(values, float_dtype()))[idx]
