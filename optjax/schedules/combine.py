"""Combining schedules: joining at boundaries, multiplying, user functions.

``join_schedules`` is optax's (and torch's ``SequentialLR``), ``multiply_schedules``
is torch's ``ChainedScheduler`` for multiplicative schedules, ``lambda_schedule``
is ``LambdaLR`` and ``multiplicative_schedule`` is ``MultiplicativeLR``.
"""

from __future__ import annotations

from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from optjax.base import Schedule
from optjax.schedules import _core


def join_schedules(schedules: Sequence[Schedule], boundaries: Sequence[int]) -> Schedule:
    """Run ``schedules[i]`` from ``boundaries[i-1]`` on, each restarted at step 0.

    ``value(t) = schedules[i](t - boundaries[i-1])`` where ``i`` is the number of
    boundaries ``<= t`` (``boundaries[-1] = 0``). Steps are unitless counts.

    Reproduces torch ``SequentialLR(opt, schedulers, milestones)`` (a child
    restarts at its epoch 0 at its milestone) and is optax's ``join_schedules``.

    Example::

        >>> import optjax
        >>> s = optjax.join_schedules(
        ...     [optjax.linear_schedule(0.0, 1.0, 10), optjax.constant_schedule(1.0)], [10])
        >>> float(s(5)), float(s(20))
        (0.5, 1.0)

    Raises ValueError if ``len(boundaries) != len(schedules) - 1`` or the
    boundaries do not strictly increase.
    """
    schedules = list(schedules)
    if not schedules:
        raise ValueError("schedules must not be empty")
    boundaries = _core.check_increasing("boundaries", boundaries)
    if len(boundaries) != len(schedules) - 1:
        raise ValueError(
            f"boundaries must have len(schedules) - 1 = {len(schedules) - 1} entries, "
            f"got {len(boundaries)}")
    boundaries = [_core.check_steps("boundaries", b, low=0) for b in boundaries]

    def schedule(step):
        step = _core.as_step(step)
        out = jnp.asarray(schedules[0](step), step.dtype)
        for boundary, sched in zip(boundaries, schedules[1:]):
            later = jnp.asarray(sched(jnp.maximum(step - boundary, 0)), step.dtype)
            out = jnp.where(step < boundary, out, later)
        return out

    return schedule


def multiply_schedules(schedules: Sequence[Schedule], scale: float = 1.0) -> Schedule:
    """``value(t) = scale * prod_i schedules[i](t)``.

    Torch's ``ChainedScheduler`` over schedulers that each multiply the current
    learning rate is ``multiply_schedules([s_i / base_lr ...], base_lr)``; see
    :func:`optjax.schedules.torch_lr.chained_scheduler`.

    Example::

        >>> import optjax
        >>> s = optjax.multiply_schedules(
        ...     [optjax.constant_schedule(0.5), optjax.exponential_decay(1.0, 1, 0.5)], 2.0)
        >>> float(s(2))
        0.25
    """
    schedules = list(schedules)

    def schedule(step):
        step = _core.as_step(step)
        out = jnp.full(step.shape, scale, step.dtype)
        for sched in schedules:
            out = out * jnp.asarray(sched(step), step.dtype)
        return out

    return schedule


def lambda_schedule(init_value: float, fn: Callable[[jax.Array], jax.Array]) -> Schedule:
    """``value(t) = init_value * fn(t)`` with ``fn`` a jax-traceable function of the step.

    Reproduces torch ``LambdaLR(opt, lr_lambda=fn)`` with ``init_value`` the
    optimizer's lr (``fn`` receives a float array step; write it with ``jnp``).

    Example::

        >>> import optjax
        >>> s = optjax.lambda_schedule(0.05, lambda t: 1.0 / (t + 1))
        >>> round(float(s(1)), 6)
        0.025
    """
    if not callable(fn):
        raise ValueError(f"fn must be callable, got {fn!r}")

    def schedule(step):
        step = _core.as_step(step)
        return (init_value * jnp.asarray(fn(step), step.dtype)).astype(step.dtype)

    return schedule


def multiplicative_schedule(
    init_value: float, fn: Callable[[int], float], num_steps: int
) -> Schedule:
    """``value(t) = init_value * fn(1) * fn(2) * ... * fn(t)`` (value(0) = init_value).

    ``fn`` is called at construction on the Python ints ``1..num_steps`` and the
    running product is taken in float64, in torch's order, so the values match
    torch ``MultiplicativeLR(opt, lr_lambda=fn)`` to float32 rounding. Steps past
    ``num_steps`` keep the value at ``num_steps``.

    Example::

        >>> import optjax
        >>> s = optjax.multiplicative_schedule(1.0, lambda t: 0.5, num_steps=10)
        >>> float(s(3))
        0.125
    """
    if not callable(fn):
        raise ValueError(f"fn must be callable, got {fn!r}")
    num_steps = _core.check_int("num_steps", num_steps, low=1)
    init = _core.concrete("init_value", init_value)
    vals = [init]
    for i in range(1, num_steps + 1):
        vals.append(vals[-1] * float(fn(i)))
    table = np.asarray(vals, _core.float_dtype())

    def schedule(step):
        step = _core.as_step(step)
        idx = jnp.clip(step, 0, num_steps).astype(jnp.int32)
        return jnp.asarray(table)[idx]

    return schedule
