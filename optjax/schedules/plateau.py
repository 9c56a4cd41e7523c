"""ReduceLROnPlateau as a transform fed the monitored value: ``update(..., value=loss)``."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optjax import numerics, validation
from optjax.base import GradientTransformation
from optjax.schedules import _core


class ReduceLROnPlateauState(NamedTuple):
    """State of :func:`reduce_lr_on_plateau` (every field readable).

    * ``lr``: the current learning rate, in lr units (torch's ``group['lr']``).
    * ``scale``: ``lr / learning_rate``, what the updates are multiplied by.
    * ``best``: best monitored value so far (``+inf``/``-inf`` before the first).
    * ``num_bad_epochs``: calls since the last improvement (0 during cooldown).
    * ``cooldown_counter``: calls of cooldown left.
    * ``num_reductions``: how many times the lr was reduced.
    * ``last_epoch``: number of ``update`` calls (torch's ``last_epoch``).
    """

    lr: jax.Array
    scale: jax.Array
    best: jax.Array
    num_bad_epochs: jax.Array
    cooldown_counter: jax.Array
    num_reductions: jax.Array
    last_epoch: jax.Array


def reduce_lr_on_plateau(
    learning_rate: float = 1.0,
    mode: str = "min",
    factor: float = 0.1,
    patience: int = 10,
    threshold: float = 1e-4,
    threshold_mode: str = "rel",
    cooldown: int = 0,
    min_lr: float = 0.0,
    eps: float = 1e-8,
) -> GradientTransformation:
    """Multiply the updates by ``lr / learning_rate``, reducing ``lr`` when the
    monitored ``value`` stops improving, with torch's ``ReduceLROnPlateau`` semantics.

    ``update(updates, state, params=None, *, value)`` takes the monitored value
    (a scalar, e.g. the validation loss) as a keyword; each call is one torch
    ``scheduler.step(value)``. Algorithm (torch 2.13, ``lr_scheduler.py``)::

        improved = value < best * (1 - threshold)   # min/rel; min/abs: value < best - threshold
                                                    # max/rel: value > best * (1 + threshold)
                                                    # max/abs: value > best + threshold
        if improved: best = value; num_bad_epochs = 0   else: num_bad_epochs += 1
        if cooldown_counter > 0: cooldown_counter -= 1; num_bad_epochs = 0
        if num_bad_epochs > patience:
            new = max(lr * factor, min_lr)
            if lr - new > eps: lr = new
            cooldown_counter = cooldown; num_bad_epochs = 0

    ``learning_rate``, ``min_lr`` and ``eps`` are in learning-rate units: put the
    transform *after* the one that applies ``learning_rate`` (``chain(sgd(lr),
    reduce_lr_on_plateau(lr, ...))``), or use ``learning_rate=1.0`` to treat the
    scale itself as the lr. The reduced lr is the float64 product
    ``learning_rate * factor * factor ...`` rounded once, as in torch. As in
    torch, ``best`` is not reset on a reduction, and in ``'min'``/``'rel'`` mode a
    negative metric compares against ``best * (1 - threshold)`` (torch's quirk).
    For parameter groups, give each group its own instance (e.g. inside
    ``optjax.partition``) with its ``learning_rate`` and ``min_lr``: every
    instance sees the same values, so they reduce together, as torch's groups do.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.reduce_lr_on_plateau(0.1, patience=0)
        >>> state = tx.init({'w': jnp.zeros(2)})
        >>> for loss in (1.0, 1.0):
        ...     upd, state = tx.update({'w': jnp.ones(2)}, state, value=loss)
        >>> round(float(state.lr), 6), round(float(upd['w'][0]), 6)
        (0.01, 0.1)

    Raises ValueError for ``mode`` not in ('min', 'max'), ``factor`` outside
    [0, 1), negative ``patience``/``cooldown``/``threshold``/``min_lr``/``eps``,
    ``threshold_mode`` not in ('rel', 'abs'), or ``learning_rate <= 0``.
    """
    validation.one_of("mode", mode, ("min", "max"))
    validation.one_of("threshold_mode", threshold_mode, ("rel", "abs"))
    validation.check("factor", factor, low=0.0, high=1.0, high_open=True)
    patience = _core.check_int("patience", patience, low=0)
    cooldown = _core.check_int("cooldown", cooldown, low=0)
    validation.check("threshold", threshold, low=0.0)
    validation.check("min_lr", min_lr, low=0.0)
    validation.check("eps", eps, low=0.0)
    validation.check("learning_rate", learning_rate, low=0.0, low_open=True)
    lr0 = _core.concrete("learning_rate", learning_rate)
    geo = _core.geometric(lr0, factor)

    def lr_at(k):
        return jnp.maximum(geo(k), min_lr)

    def is_better(a, best):
        if mode == "min" and threshold_mode == "rel":
            return a < best * (1.0 - threshold)
        if mode == "min":
            return a < best - threshold
        if threshold_mode == "rel":
            return a > best * (threshold + 1.0)
        return a > best + threshold

    def init_fn(params: Any) -> ReduceLROnPlateauState:
        del params
        dt = _core.float_dtype()
        zero = jnp.zeros((), jnp.int32)
        lr = lr_at(jnp.zeros((), dt)).astype(dt)
        return ReduceLROnPlateauState(
            lr=lr, scale=(lr / lr0).astype(dt),
            best=jnp.asarray(jnp.inf if mode == "min" else -jnp.inf, dt),
            num_bad_epochs=zero, cooldown_counter=zero, num_reductions=zero, last_epoch=zero)

    def update_fn(updates, state: ReduceLROnPlateauState, params=None, *, value):
        del params
        current = jnp.asarray(value, state.best.dtype).reshape(())
        improved = is_better(current, state.best)
        best = jnp.where(improved, current, state.best)
        bad = jnp.where(improved, 0, numerics.safe_increment(state.num_bad_epochs))
        in_cooldown = state.cooldown_counter > 0
        cooldown_counter = jnp.where(in_cooldown, state.cooldown_counter - 1, state.cooldown_counter)
        bad = jnp.where(in_cooldown, 0, bad)
        reduce = bad > patience
        k = state.num_reductions
        kf = k.astype(state.lr.dtype)
        old, new = lr_at(kf), lr_at(kf + 1)
        k = jnp.where(reduce & (old - new > eps), numerics.safe_increment(k), k)
        cooldown_counter = jnp.where(reduce, cooldown, cooldown_counter).astype(jnp.int32)
        bad = jnp.where(reduce, 0, bad).astype(jnp.int32)
        lr = lr_at(k.astype(state.lr.dtype)).astype(state.lr.dtype)
        scale = (lr / lr0).astype(state.scale.dtype)
        new_state = ReduceLROnPlateauState(
            lr=lr, scale=scale, best=best, num_bad_epochs=bad,
            cooldown_counter=cooldown_counter, num_reductions=k,
            last_epoch=numerics.safe_increment(state.last_epoch))
        updates = jax.tree.map(lambda g: (scale.astype(g.dtype) * g) if g is not None else None,
                               updates)
        return updates, new_state

    return GradientTransformation(init_fn, update_fn)
