"""Schedules that cycle: cosine annealing with warm restarts, cyclic (triangular,
triangular2, exp_range) and one-cycle in torch's form."""

from __future__ import annotations

from typing import Callable, Optional

import jax.numpy as jnp

from optjax import validation
from optjax.base import Schedule
from optjax.schedules import _core
from optjax.schedules.basic import interpolate_knots


def cosine_warm_restarts_schedule(
    init_value: float, t_0: int, t_mult: int = 1, eta_min: float = 0.0
) -> Schedule:
    """Cosine annealing restarted every cycle; cycle ``i`` lasts ``T_i = t_0 * t_mult**i``.

    ``value(t) = eta_min + (init - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2`` where
    ``T_cur`` is the step count since the last restart. Restart steps are held in an
    exact table (no logarithms), so every restart falls on its integer step.
    Reproduces torch ``CosineAnnealingWarmRestarts(T_0, T_mult, eta_min)``
    stepped once per epoch (integer ``t``).

    Example::

        >>> import optjax
        >>> s = optjax.cosine_warm_restarts_schedule(1.0, 3, 2)
        >>> [round(float(s(t)), 3) for t in (0, 1, 3, 9)]
        [1.0, 0.75, 1.0, 1.0]
    """
    validation.finite(init_value=init_value, eta_min=eta_min)
    t_0 = _core.check_int("t_0", t_0, low=1)
    t_mult = _core.check_int("t_mult", t_mult, low=1)

    if t_mult == 1:
        def schedule(step):
            step = _core.as_step(step)
            t_cur = jnp.mod(step, t_0)
            return _core.cosine_interp(init_value, eta_min, t_cur, t_0).astype(step.dtype)
        return schedule

    starts, lengths, s, length = [], [], 0, t_0
    while s < 2.0**64:
        starts.append(float(s))
        lengths.append(float(length))
        s += length
        length *= t_mult

    def schedule(step):
        step = _core.as_step(step)
        i = _core.count_passed(step, starts[1:])
        t_cur = step - _core.table_lookup(starts, i).astype(step.dtype)
        t_i = _core.table_lookup(lengths, i).astype(step.dtype)
        return _core.cosine_interp(init_value, eta_min, t_cur, t_i).astype(step.dtype)

    return schedule


_CYCLIC_MODES = ("triangular", "triangular2", "exp_range")


def cyclic_schedule(
    base_value: float,
    max_value: float,
    step_size_up: int = 2000,
    step_size_down: Optional[int] = None,
    mode: str = "triangular",
    gamma: float = 1.0,
    scale_fn: Optional[Callable] = None,
    scale_mode: str = "cycle",
) -> Schedule:
    """Cyclical learning rate (Smith 2017), torch's formula::

        total = up + down;  cycle = floor(1 + t / total);  x = 1 + t / total - cycle
        sf = x / r if x <= r else (x - 1) / (r - 1)         # r = up / total
        value = base + (max - base) * sf * scale(cycle or t)

    ``scale`` is 1 (``'triangular'``), ``1 / 2**(cycle - 1)`` (``'triangular2'``),
    ``gamma**t`` (``'exp_range'``, exact float64 powers for integer ``t``), or ``scale_fn`` (jax-traceable) applied to the
    cycle (``scale_mode='cycle'``) or the step (``'iterations'``).
    Reproduces torch ``CyclicLR`` (learning rate only; momentum cycling is not a
    schedule of the learning rate). Computed as ``sf = r / up`` or
    ``(total - r) / down`` with ``r = t mod total`` (exact), the same math.

    Example::

        >>> import optjax
        >>> s = optjax.cyclic_schedule(0.01, 0.1, step_size_up=2)
        >>> [round(float(s(t)), 4) for t in range(5)]
        [0.01, 0.055, 0.1, 0.055, 0.01]
    """
    validation.finite(base_value=base_value, max_value=max_value)
    up = _core.check_int("step_size_up", step_size_up, low=1)
    down = up if step_size_down is None else _core.check_int("step_size_down", step_size_down, low=1)
    validation.check("gamma", gamma, low=0.0, low_open=True)
    if scale_fn is None:
        validation.one_of("mode", mode, _CYCLIC_MODES)
        scale_mode = "iterations" if mode == "exp_range" else "cycle"
    else:
        validation.one_of("scale_mode", scale_mode, ("cycle", "iterations"))
    total = float(up + down)
    exp_scale = _core.geometric(1.0, gamma)

    def scale(x):
        if scale_fn is not None:
            return scale_fn(x)
        if mode == "triangular":
            return 1.0
        if mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return jnp.where(x == jnp.floor(x), exp_scale(x), gamma**x)

    def schedule(step):
        step = _core.as_step(step)
        r = jnp.mod(step, total)  # position in the cycle, exact for integer steps
        cycle = (step - r) / total + 1
        sf = jnp.where(r <= up, r / up, (total - r) / down)
        height = (max_value - base_value) * sf
        s = scale(cycle if scale_mode == "cycle" else step)
        return (base_value + height * s).astype(step.dtype)

    return schedule


def onecycle_schedule(
    total_steps: int,
    max_value: float,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> Schedule:
    """One-cycle in torch's form: ``init = max / div_factor``, ``min = init / final_div_factor``.

    Two phases: ``init -> max`` ending at step ``pct_start*N - 1``, ``max -> min``
    ending at ``N - 1``. ``three_phase``: ``init -> max`` at ``pct_start*N - 1``,
    ``max -> init`` at ``2*pct_start*N - 2``, ``init -> min`` at ``N - 1``.
    ``anneal_strategy`` ``'cos'`` or ``'linear'``. Steps past ``N - 1`` keep ``min``
    (torch raises there). Reproduces torch ``OneCycleLR`` (learning rate only).
    optax's variants: :func:`optjax.cosine_onecycle_schedule`,
    :func:`optjax.linear_onecycle_schedule`.

    Example::

        >>> import optjax
        >>> s = optjax.onecycle_schedule(10, 1.0)
        >>> [round(float(s(t)), 4) for t in (0, 2, 9)]
        [0.04, 1.0, 0.0]
    """
    validation.finite(max_value=max_value)
    n = _core.check_int("total_steps", total_steps, low=1)
    validation.check("pct_start", pct_start, low=0.0, high=1.0, low_open=True)
    validation.one_of("anneal_strategy", anneal_strategy, ("cos", "linear"))
    validation.check("div_factor", div_factor, low=0.0, low_open=True)
    validation.check("final_div_factor", final_div_factor, low=0.0, low_open=True)
    init = max_value / div_factor
    low = init / final_div_factor
    if three_phase:
        knots = [0.0, float(pct_start * n) - 1, float(2 * pct_start * n) - 2, float(n) - 1]
        values = [init, max_value, init, low]
    else:
        knots = [0.0, float(pct_start * n) - 1, float(n) - 1]
        values = [init, max_value, low]
    kind = "cosine" if anneal_strategy == "cos" else "linear"
    return interpolate_knots(knots, values, kind, right_closed=True)
