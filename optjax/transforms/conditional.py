"""Skipping steps whose gradients are not finite."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optjax import numerics, validation
from optjax.base import GradientTransformation, call_update, jit_once
from optjax.tree import all_finite, tree_map_none


class ApplyIfFiniteState(NamedTuple):
    """State of :func:`apply_if_finite`."""

    notfinite_count: jax.Array  # int32: consecutive non-finite steps so far
    last_finite: jax.Array  # bool: whether the last step was finite
    total_notfinite: jax.Array  # int32: non-finite steps in all
    inner_state: Any


def apply_if_finite(inner: GradientTransformation, max_consecutive_errors: int) -> GradientTransformation:
    """Run ``inner`` only on steps whose gradients are all finite.

    A step with a NaN or Inf anywhere returns zero updates and leaves the inner
    state unchanged (so params and optimizer state stay as they were). After
    more than ``max_consecutive_errors`` non-finite steps in a row the update is
    applied anyway, so a run that has truly diverged shows it. The counters are
    readable in the state.
    """
    validation.check("max_consecutive_errors", max_consecutive_errors, low=0)

    def init_fn(params):
        return ApplyIfFiniteState(
            numerics.zero_count(), jnp.array(True), numerics.zero_count(), inner.init(params)
        )

    def update_fn(updates, state, params=None, **extra_args):
        finite = all_finite(updates)
        apply = jnp.logical_or(finite, state.notfinite_count >= max_consecutive_errors)

        def run(_):
            return call_update(inner, updates, state.inner_state, params, extra_args)

        def skip(_):
            return tree_map_none(jnp.zeros_like, updates), state.inner_state

        new_u, new_inner = jax.lax.cond(apply, run, skip, None)
        bad = jnp.logical_not(finite)
        return new_u, ApplyIfFiniteState(
            notfinite_count=jnp.where(bad, numerics.safe_increment(state.notfinite_count), 0).astype(jnp.int32),
            last_finite=finite,
            total_notfinite=jnp.where(bad, numerics.safe_increment(state.total_notfinite), state.total_notfinite),
            inner_state=new_inner,
        )

    # the lax.cond's branches are new closures on every call: jit_once traces them once
    return GradientTransformation(init_fn, jit_once(update_fn))
