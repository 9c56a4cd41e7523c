"""Lookahead (Zhang et al. 2019, "Lookahead Optimizer: k steps forward, 1 step back")."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optjax import validation
from optjax.base import GradientTransformation, PyTree, call_update


class LookaheadParams(NamedTuple):
    """A pair of parameter trees: ``fast`` (take gradients here) and ``slow`` (evaluate these)."""

    fast: PyTree
    slow: PyTree

    @classmethod
    def init_synced(cls, params: PyTree) -> "LookaheadParams":
        """Both copies equal to ``params``."""
        return cls(fast=params, slow=params)


class LookaheadState(NamedTuple):
    """State of :func:`lookahead` (optax's layout)."""

    fast_state: Any
    steps_since_sync: jax.Array  # int32 in [0, sync_period)


def lookahead(fast_optimizer: GradientTransformation, sync_period: int, slow_step_size: float,
              reset_state: bool = False) -> GradientTransformation:
    """Run ``fast_optimizer`` on ``params.fast``; every ``sync_period`` steps pull both copies together.

    With fast update ``u`` from ``fast_optimizer`` and ``d = fast + u - slow``, a step is

        fast <- fast + u,                      slow unchanged      (ordinary steps)
        slow <- slow + alpha d,  fast <- slow  (every sync_period-th step; alpha = slow_step_size)

    returned as updates to a :class:`LookaheadParams` (apply them unchanged with
    ``apply_updates``). ``reset_state=True`` re-initializes ``fast_optimizer``'s state at
    each synchronization. ``init`` also accepts the fast params alone.

    Args:
      fast_optimizer: the inner transform.
      sync_period: fast steps per synchronization, an integer >= 1.
      slow_step_size: ``alpha``, the fraction of the way the slow params move towards the fast ones.
      reset_state: re-initialize the inner state after each synchronization.

    Example:
        >>> import jax.numpy as jnp, optjax
        >>> opt = optjax.lookahead(optjax.sgd(0.1), sync_period=2, slow_step_size=0.5)
        >>> params = optjax.LookaheadParams.init_synced(jnp.ones(2))
        >>> state = opt.init(params)
        >>> for _ in range(2):
        ...     updates, state = opt.update(params.fast, state, params)
        ...     params = optjax.apply_updates(params, updates)
        >>> params.slow.tolist()  # slow <- 1 + 0.5 * (0.81 - 1)
        [0.9049999713897705, 0.9049999713897705]
    """
    if isinstance(sync_period, bool) or not isinstance(sync_period, int) or sync_period < 1:
        raise ValueError(f"lookahead: sync_period must be an integer >= 1, got {sync_period!r}")
    validation.scalar("slow_step_size", slow_step_size)

    def init_fn(params):
        fast = getattr(params, "fast", params)  # LookaheadParams, or the fast params alone
        return LookaheadState(fast_state=fast_optimizer.init(fast),
                              steps_since_sync=jnp.zeros((), jnp.int32))

    def update_fn(updates, state, params=None, **extra_args):
        if params is None or not hasattr(params, "fast") or not hasattr(params, "slow"):
            raise ValueError("lookahead.update needs params=LookaheadParams(fast=..., slow=...)")
        fast_updates, fast_state = call_update(fast_optimizer, updates, state.fast_state, params.fast,
                                               extra_args)
        sync = state.steps_since_sync == sync_period - 1
        diff = jax.tree.map(lambda f, u, s: f + u - s, params.fast, fast_updates, params.slow)
        slow_updates = jax.tree.map(lambda d: slow_step_size * sync * d, diff)
        fast_updates = jax.tree.map(lambda u, d: u - sync * (1 - slow_step_size) * d, fast_updates, diff)
        if reset_state:
            fresh = fast_optimizer.init(params.fast)
            fast_state = jax.tree.map(lambda cur, new: jnp.where(sync, new, cur).astype(jnp.asarray(cur).dtype),
                                      fast_state, fresh)
        steps = (state.steps_since_sync + 1) % sync_period
        return LookaheadParams(fast=fast_updates, slow=slow_updates), LookaheadState(fast_state, steps)

    return GradientTransformation(init_fn, update_fn)
