"""Clipping updates: elementwise (MXNet's ``clip_gradient``) and by global norm."""

from __future__ import annotations

import jax.numpy as jnp

from optjax import numerics, validation
from optjax.base import GradientTransformation, init_empty_state
from optjax.tree import global_norm, tree_map_none


def clip(max_delta: float) -> GradientTransformation:
    """Clip each element to ``[-max_delta, max_delta]`` (MXNet's ``clip_gradient``).

    ``max_delta`` must be >= 0.
    """
    validation.non_negative("max_delta", max_delta)

    def update_fn(updates, state, params=None, **extra_args):
        del params, extra_args
        return tree_map_none(lambda u: jnp.clip(u, -max_delta, max_delta).astype(u.dtype), updates), state

    return GradientTransformation(init_empty_state, update_fn)


def clip_by_global_norm(max_norm: float, *, eps: float = 0.0) -> GradientTransformation:
    """Rescale all updates together so their global L2 norm is at most ``max_norm``.

    ``u <- u * min(1, max_norm / ||u||)`` with ``||u|| = sqrt(sum_i sum(u_i**2))``
    (accumulated in at least float32). Same as optax. With ``eps > 0`` the
    factor is ``min(1, max_norm / (||u|| + eps))``, always applied: torch's
    ``clip_grad_norm_`` is ``eps=1e-6``.
    """
    validation.positive("max_norm", max_norm)
    validation.non_negative("eps", eps)

    def update_fn(updates, state, params=None, **extra_args):
        del params, extra_args
        g_norm = global_norm(updates)
        if not (isinstance(eps, (int, float)) and eps == 0):  # eps may be traced (inject_hyperparams)
            factor = jnp.minimum(1.0, max_norm / (g_norm + eps))
        else:
            trigger = g_norm < max_norm
            factor = jnp.where(trigger, 1.0, max_norm / jnp.where(trigger, 1.0, g_norm))

        def scale(u):
            cdt = numerics.compute_dtype(u.dtype)
            return numerics.cast(numerics.cast(u, cdt) * numerics.cast(factor, cdt), u.dtype)

        return tree_map_none(scale, updates), state

    return GradientTransformation(init_empty_state, update_fn)
