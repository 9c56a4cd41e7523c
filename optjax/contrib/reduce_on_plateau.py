"""optax's ``contrib.reduce_on_plateau``: scale the updates down when a metric stops improving."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from optjax import tree_math
from optjax.base import GradientTransformation, jit_once
from optjax.numerics import safe_increment


class ReduceLROnPlateauState(NamedTuple):
    """optax's layout: the current scale, best (averaged) value, bad-step and cooldown
    counters, values accumulated so far and their average."""

    scale: jax.Array
    best_value: jax.Array
    plateau_count: jax.Array  # int32
    cooldown_count: jax.Array  # int32
    count: jax.Array  # int32
    avg_value: jax.Array


def reduce_on_plateau(factor: float = 0.1, patience: int = 10, rtol: float = 1e-4, atol: float = 0.0,
                      cooldown: int = 0, accumulation_size: int = 1,
                      min_scale: float = 0.0) -> GradientTransformation:
    r"""Multiply the updates by ``scale``, which drops to ``scale * factor`` (not below
    ``min_scale``) after ``patience`` evaluations without improvement, then holds for
    ``cooldown`` evaluations. An evaluation averages ``accumulation_size`` values passed as
    ``update(..., value=loss)``; it improves when ``avg < (1 - rtol) * best - atol``.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.contrib.reduce_on_plateau(factor=0.5, patience=1)
        >>> g = {"w": jnp.ones(1)}
        >>> s = tx.init(g)
        >>> for loss in (1.0, 1.0, 1.0):
        ...     u, s = tx.update(g, s, value=loss)
        >>> float(s.scale), float(u["w"][0])
        (0.25, 0.25)
    """
    if factor <= 0.0 or factor >= 1.0:
        raise ValueError(f"factor must be in (0, 1), got {factor}")
    if rtol < 0.0 or atol < 0.0:
        raise ValueError(f"rtol and atol must be >= 0, got rtol = {rtol} and atol = {atol}")
    if rtol == 0.0 and atol == 0.0:
        raise ValueError(f"one of rtol and atol must be positive, got rtol = {rtol} and atol = {atol}")
    if rtol > 1.0:
        raise ValueError(f"rtol must be <= 1.0, got rtol = {rtol}")

    def init_fn(params):
        lowest = tree_math.dtype(params, "lowest")
        highest = tree_math.dtype(params, "highest")
        return ReduceLROnPlateauState(
            best_value=jnp.asarray(float("inf"), dtype=highest),
            plateau_count=jnp.asarray(0, jnp.int32),
            scale=jnp.asarray(1.0, dtype=lowest),
            cooldown_count=jnp.asarray(0, jnp.int32),
            count=jnp.asarray(0, jnp.int32),
            avg_value=jnp.asarray(0.0, highest))

    def update_scale(state):
        avg = state.avg_value
        improved = jnp.where(avg < (1 - rtol) * state.best_value - atol, 1, 0)
        best = jnp.where(improved, avg.astype(state.best_value.dtype), state.best_value)
        plateau = jnp.where(improved, 0, safe_increment(state.plateau_count))

        def in_cooldown():
            return jnp.asarray(0, jnp.int32), state.scale, state.cooldown_count - 1

        def not_in_cooldown():
            hit = plateau == patience
            new_scale = jnp.maximum(jnp.where(hit, state.scale * factor, state.scale), min_scale)
            return jnp.where(hit, 0, plateau), new_scale, jnp.where(hit, cooldown, 0).astype(jnp.int32)

        p, sc, cd = jax.lax.cond(state.cooldown_count > 0, in_cooldown, not_in_cooldown)
        return ReduceLROnPlateauState(plateau_count=p, best_value=best.astype(state.best_value.dtype), scale=sc,
                                      cooldown_count=cd, count=jnp.asarray(0, jnp.int32),
                                      avg_value=jnp.asarray(0.0, avg.dtype))

    def update_fn(updates, state, params=None, *, value, **extra_args):
        del params, extra_args
        count = safe_increment(state.count)
        avg = (state.count * state.avg_value + jnp.astype(value, state.avg_value.dtype)) / count
        state = state._replace(avg_value=avg.astype(state.avg_value.dtype), count=count)
        state = jax.lax.cond(count == accumulation_size, update_scale, lambda x: x, state)
        return jax.tree.map(lambda g: state.scale * g, updates), state

    return GradientTransformation(init_fn, jit_once(update_fn))
