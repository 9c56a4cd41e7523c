"""Rprop: resilient backpropagation (sign-based, per-coordinate step sizes).

Reference: Riedmiller and Braun, *A Direct Adaptive Method for Faster
Backpropagation Learning: The RPROP Algorithm*, 1993.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optjax import per_leaf, validation
from optjax.base import GradientTransformation
from optjax.combine import chain
from optjax.transforms.scaling import scale


class ScaleByRpropState(NamedTuple):
    """``step_sizes``: per-coordinate step sizes (start at ``learning_rate``);
    ``prev_updates``: the previous gradient, zeroed where its sign flipped."""

    step_sizes: Any
    prev_updates: Any
    # the update reads the old step_sizes: optjax.update_and_apply orders its in-place write
    fields_read_by_update = ("step_sizes",)


def scale_by_rprop(
    learning_rate: float,
    eta_minus: float = 0.5,
    eta_plus: float = 1.2,
    min_step_size: float = 1e-6,
    max_step_size: float = 50.0,
) -> GradientTransformation:
    """Rprop's direction (``optax.scale_by_rprop``), the step :func:`rprop` subtracts::

        s = sign(g * prev);  f = eta_plus if s > 0, eta_minus if s < 0, 1 if s == 0
        step <- clip(step * f, min_step_size, max_step_size)
        g <- 0 where s < 0;  u = sign(g) * step;  prev <- g

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.scale_by_rprop(0.1)
    >>> tx.update({"w": jnp.array([1.0, -1.0])}, tx.init({"w": jnp.zeros(2)}))[0]["w"]
    Array([ 0.1, -0.1], dtype=float32)
    """
    if callable(learning_rate):
        raise ValueError("learning_rate of rprop is the initial step size and must be a number, "
                         "not a schedule")
    validation.learning_rate(learning_rate)
    validation.check("eta_minus", eta_minus, low=0.0, high=1.0, low_open=True, high_open=True)
    validation.check("eta_plus", eta_plus, low=1.0, low_open=True)
    validation.non_negative("min_step_size", min_step_size)
    validation.non_negative("max_step_size", max_step_size)

    @jax.jit
    def leaf(g, p, step_sizes, prev_updates):
        del p
        s = jnp.sign(g * prev_updates)
        f = jnp.where(s > 0, eta_plus, jnp.where(s < 0, eta_minus, 1.0))
        step = jnp.clip(step_sizes * f, min_step_size, max_step_size)
        g = jnp.where(s < 0, 0.0, g)
        return jnp.sign(g) * step, (step, g)

    def init_fn(params):
        return ScaleByRpropState(step_sizes=per_leaf.full(params, learning_rate),
                                 prev_updates=per_leaf.zeros(params))

    def update_fn(updates, state, params=None, **extra_args):
        del params, extra_args
        updates, (step_sizes, prev) = per_leaf.apply(leaf, updates, (state.step_sizes, state.prev_updates))
        return updates, ScaleByRpropState(step_sizes, prev)

    return GradientTransformation(init_fn, update_fn)


def rprop(
    learning_rate: float = 1e-2,
    eta_minus: float = 0.5,
    eta_plus: float = 1.2,
    min_step_size: float = 1e-6,
    max_step_size: float = 50.0,
    *,
    maximize: bool = False,
) -> GradientTransformation:
    """Rprop (optax's signature; torch's ``Rprop(lr, etas=(eta_minus, eta_plus),
    step_sizes=(min_step_size, max_step_size))``): ``u = -sign(g) * step`` with the
    per-coordinate step of :func:`scale_by_rprop`.

    ``learning_rate`` is only the initial step size (as in torch, where changing
    the group's lr later has no effect), so it must be a number, not a schedule.
    The step is clipped also when ``s == 0`` (torch); optax leaves it unchanged
    there, which differs only when ``learning_rate`` is outside the bounds.
    The state is optax's: ``(ScaleByRpropState(step_sizes, prev_updates), EmptyState())``.

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.rprop(0.1)
    >>> u, s = tx.update({"w": jnp.array([1.0, -1.0])}, tx.init({"w": jnp.zeros(2)}))
    >>> u["w"]
    Array([-0.1,  0.1], dtype=float32)
    """
    core = chain(scale_by_rprop(learning_rate, eta_minus, eta_plus, min_step_size, max_step_size), scale(-1.0))
    return chain(scale(-1.0), core) if maximize else core
