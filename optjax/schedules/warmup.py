"""Warm-up in front of any schedule (linear, constant or exponential)."""

from __future__ import annotations

from typing import Optional

import jax.numpy as jnp

from optjax import validation
from optjax.base import Schedule
from optjax.schedules import _core

WARMUP_MODES = ("linear", "constant", "exponential")


def add_warmup(
    schedule: Schedule,
    warmup_steps: int,
    init_value: float = 0.0,
    peak_value: Optional[float] = None,
    mode: str = "linear",
    shift: bool = True,
) -> Schedule:
    """``schedule`` preceded by ``warmup_steps`` steps of warm-up.

    For ``t < warmup_steps`` (``w``), with ``init = init_value``, ``peak = peak_value``:

    * ``'linear'``: ``init + (peak - init) * t / w``
    * ``'constant'``: ``init``
    * ``'exponential'``: ``init * (peak / init) ** (t / w)`` (``init > 0``)

    For ``t >= w`` the value is ``schedule(t - w)`` (``shift=True``, the schedule
    starts after the warm-up, like MXNet's Poly/Cosine schedulers) or
    ``schedule(t)`` (``shift=False``, like MXNet's Factor/MultiFactor schedulers,
    whose decay count ignores the warm-up). ``peak_value`` defaults to
    ``schedule(0)`` (evaluated at construction).

    Reproduces the ``warmup_steps``/``warmup_begin_lr``/``warmup_mode`` of every
    MXNet ``LRScheduler`` (see ``optjax.schedules.mxnet_lr``).

    Example::

        >>> import optjax
        >>> s = optjax.add_warmup(optjax.constant_schedule(1.0), 4)
        >>> [float(s(t)) for t in range(6)]
        [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    """
    w = _core.check_steps("warmup_steps", warmup_steps, low=0)
    validation.one_of("mode", mode, WARMUP_MODES)
    if peak_value is None:
        peak_value = float(schedule(0))
    if mode == "exponential":
        validation.check("init_value", init_value, low=0.0, low_open=True)
    if w == 0:
        return schedule

    def warm(step):
        if mode == "linear":
            return init_value + (peak_value - init_value) * step / w
        if mode == "constant":
            return jnp.full(step.shape, init_value, step.dtype)
        return init_value * jnp.power(jnp.asarray(peak_value / init_value, step.dtype), step / w)

    def wrapped(step):
        step = _core.as_step(step)
        rest = jnp.maximum(step - w, 0) if shift else step
        after = jnp.asarray(schedule(rest), step.dtype)
        return jnp.where(step < w, warm(step).astype(step.dtype), after)

    return wrapped
