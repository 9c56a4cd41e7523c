"""Scaling updates: by a constant, by a learning rate or schedule, per leaf."""

from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from optjax import numerics, validation
from optjax.base import GradientTransformation, ScalarOrSchedule, Schedule, init_empty_state, is_schedule, value_at
from optjax.tree import check_pattern, resolve_per_leaf, tree_map_none


def _mul(u: jax.Array, s: Any) -> jax.Array:
    """``s * u`` in the update's dtype (scalars are applied in at least float32)."""
    cdt = numerics.compute_dtype(u.dtype)
    u_c = numerics.cast(u, cdt)
    if jnp.issubdtype(cdt, jnp.floating) and (type(s) is float or (jnp.ndim(s) == 0 and jnp.result_type(s) == cdt)):
        # what ``u_c * s`` computes, without jnp's promotion work (per leaf per traced step)
        # a Python float is weakly typed in ``u_c * s``: it takes cdt (also when x64 makes it float64)
        return numerics.cast(lax.mul(u_c, np.asarray(s, cdt) if type(s) is float else s), u.dtype)
    return numerics.cast(u_c * s, u.dtype)


def scale(step_size: float | jax.Array) -> GradientTransformation:
    """Multiply every update by ``step_size``: ``u <- step_size * u``.

    >>> import jax.numpy as jnp, optjax
    >>> optjax.scale(-0.5).update({"w": jnp.ones(2)}, ())[0]["w"]
    Array([-0.5, -0.5], dtype=float32)
    """
    validation.check("step_size", step_size)

    def update_fn(updates, state, params=None, **extra_args):
        del params, extra_args
        return tree_map_none(lambda u: _mul(u, step_size), updates), state

    return GradientTransformation(init_empty_state, update_fn)


class ScaleByScheduleState(NamedTuple):
    """The step count the schedule is evaluated at (0 on the first update)."""

    count: jax.Array  # int32 scalar


def scale_by_schedule(step_size_fn: Schedule) -> GradientTransformation:
    """``u <- step_size_fn(count) * u``, ``count`` = 0, 1, 2, ... (optax's convention)."""

    def init_fn(params):
        del params
        return ScaleByScheduleState(numerics.zero_count())

    def update_fn(updates, state, params=None, **extra_args):
        del params, extra_args
        s = jnp.asarray(step_size_fn(state.count))
        updates = tree_map_none(lambda u: _mul(u, s), updates)
        return updates, ScaleByScheduleState(numerics.safe_increment(state.count))

    return GradientTransformation(init_fn, update_fn)


def scale_by_learning_rate(learning_rate: ScalarOrSchedule, *, flip_sign: bool = True) -> GradientTransformation:
    """``u <- -lr * u`` (``+lr`` with ``flip_sign=False``); ``lr`` a float or a schedule.

    A schedule is evaluated at 0 on the first update, 1 on the second, ...
    A negative or non-finite learning rate (a constant, or a schedule at the
    steps :data:`optjax.validation.SCHEDULE_PROBE_STEPS`) is a ValueError; a
    string or None a TypeError.
    """
    validation.learning_rate(learning_rate)
    sign = -1.0 if flip_sign else 1.0
    if is_schedule(learning_rate):
        return scale_by_schedule(lambda count: sign * value_at(learning_rate, count))
    return scale(sign * learning_rate)


def lr_mult(multipliers: Any) -> GradientTransformation:
    """Per-parameter learning-rate multipliers (MXNet's ``lr_mult``): ``u_i <- m_i * u_i``.

    ``multipliers`` is a pytree of floats shaped like the params, a callable
    ``f(params) -> such a tree``, or a mapping from path patterns to floats
    (first match wins; unmatched leaves get 1.0). Place it anywhere after the
    optimizer's own scaling, e.g. ``chain(adam(1e-3), lr_mult({"head/*": 10.0}))``.
    A negative or non-finite multiplier is a ValueError naming the parameter;
    a ``re:`` pattern that does not compile is a ValueError naming the pattern,
    at construction.

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.lr_mult({"*bias": 2.0})
    >>> tx.update({"w": jnp.ones(1), "bias": jnp.ones(1)}, tx.init(None))[0]["bias"]
    Array([2.], dtype=float32)
    """
    if isinstance(multipliers, Mapping):
        for pattern in multipliers:
            if isinstance(pattern, str) and pattern.startswith("re:"):
                check_pattern(pattern, "lr_mult")

    def check(name, v):
        validation.non_negative(f"lr_mult for '{name}'", v)

    def update_fn(updates, state, params=None, **extra_args):
        del extra_args
        ref = params if params is not None else updates
        if callable(multipliers) and params is None:
            raise ValueError("lr_mult with a callable needs params: call update(updates, state, params)")
        mult = resolve_per_leaf(multipliers, ref, name="lr_mult", default=1.0, validate=check)
        return tree_map_none(lambda u, m: u if m == 1.0 else _mul(u, m), updates, mult), state

    return GradientTransformation(init_empty_state, update_fn)
