"""Moving averages and periodic copies of pytrees (optax's ``ema``, ``apply_every``,
``incremental_update``, ``periodic_update``)."""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

import jax
import jax.numpy as jnp

from optjax import tree_math, validation
from optjax.base import GradientTransformation, Params, Updates
from optjax.numerics import safe_increment
from optjax.tree import is_none


class EmaState(NamedTuple):
    """Step count and the (un-debiased) average."""

    count: jax.Array
    ema: Params


def ema(decay: float, debias: bool = True, accumulator_dtype: Optional[Any] = None) -> GradientTransformation:
    r"""Exponential moving average of the updates: ``e_t = decay e_{t-1} + (1 - decay) g_t``,
    returned as ``e_t / (1 - decay^t)`` when ``debias``.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.ema(0.5)
        >>> s = tx.init({"w": jnp.zeros(1)})
        >>> u, s = tx.update({"w": jnp.array([2.0])}, s)
        >>> float(u["w"][0]), float(s.ema["w"][0])
        (2.0, 1.0)
    """
    validation.unit_interval("decay", decay, high_open=False)
    acc_dtype = None if accumulator_dtype is None else jnp.dtype(accumulator_dtype)

    def init_fn(params):
        return EmaState(count=jnp.zeros([], jnp.int32), ema=tree_math.zeros_like(params, dtype=acc_dtype))

    def update_fn(updates, state, params=None):
        del params
        updates = new_ema = tree_math.update_moment(updates, state.ema, decay, order=1)
        count = safe_increment(state.count)
        if debias:
            updates = tree_math.bias_correction(new_ema, decay, count)
        return updates, EmaState(count=count, ema=tree_math.cast(new_ema, acc_dtype))

    return GradientTransformation(init_fn, update_fn)


class ApplyEvery(NamedTuple):
    """Position in the cycle of ``k`` and the gradients summed so far."""

    count: jax.Array
    grad_acc: Updates


def apply_every(k: int = 1) -> GradientTransformation:
    """Sum the updates of ``k`` steps and emit the sum every ``k``-th step (zeros between).

    optax's older accumulator (:class:`optjax.MultiSteps` is the one that also skips
    the inner optimizer's state updates).

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.apply_every(2)
        >>> s = tx.init({"w": jnp.zeros(1)})
        >>> u1, s = tx.update({"w": jnp.array([1.0])}, s)
        >>> u2, s = tx.update({"w": jnp.array([2.0])}, s)
        >>> float(u1["w"][0]), float(u2["w"][0])
        (0.0, 3.0)
    """

    def init_fn(params):
        return ApplyEvery(count=jnp.zeros([], jnp.int32), grad_acc=tree_math.zeros_like(params))

    def update_fn(updates, state, params=None):
        del params
        c = state.count % k
        acc = c != 0
        grad_acc = jax.tree.map(lambda g, ga: acc * ga + g, updates, state.grad_acc)
        emit = c == (k - 1)
        updates = jax.tree.map(lambda ga: emit * ga, grad_acc)
        return updates, ApplyEvery(count=safe_increment(state.count) % k, grad_acc=grad_acc)

    return GradientTransformation(init_fn, update_fn)


def incremental_update(new_tensors: Params, old_tensors: Params, step_size: float) -> Params:
    """Polyak averaging ``step_size * new + (1 - step_size) * old`` (target networks).

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> float(optjax.incremental_update(jnp.array(1.0), jnp.array(0.0), 0.25))
        0.25
    """
    return jax.tree.map(lambda new, old: None if new is None else step_size * new + (1.0 - step_size) * old,
                        new_tensors, old_tensors, is_leaf=is_none)


def periodic_update(new_tensors: Params, old_tensors: Params, steps: jax.Array, update_period: int) -> Params:
    """``new_tensors`` when ``steps % update_period == 0``, else ``old_tensors``.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> float(optjax.periodic_update(jnp.array(1.0), jnp.array(0.0), 4, 2))
        1.0
    """
    return jax.lax.cond(jnp.mod(steps, update_period) == 0, lambda _: new_tensors, lambda _: old_tensors, None)
