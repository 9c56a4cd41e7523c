"""Exact reproductions of torch 2.13's ``torch.optim.lr_scheduler`` classes as pure functions.

Each function takes the class's arguments, with the optimizer's learning rate
as ``base_lr``, and returns ``schedule(epoch) -> lr``: ``schedule(0)`` is the lr
right after the scheduler is constructed, ``schedule(t)`` the lr after ``t``
calls of ``scheduler.step()``. Each configures a general optjax schedule.

Torch computes most classes *chainably* (multiplying the current lr); these
are closed forms. They agree (to float32 rounding, checked against goldens)
when nothing else changes the lr. They diverge when another scheduler or the
user changes the lr mid-run: there :func:`chained_scheduler` multiplies closed
forms, which equals torch for multiplicative children (all but
``CosineAnnealingLR`` with ``eta_min != 0`` and ``CyclicLR``/``OneCycleLR``,
which overwrite the lr).
"""

from __future__ import annotations

from collections import Counter
from typing import Callable, Optional, Sequence


from optjax import validation
from optjax.base import Schedule
from optjax.schedules import _core
from optjax.schedules.basic import (
    constant_schedule,
    cosine_annealing_schedule,
    exponential_decay,
    linear_schedule,
    piecewise_constant_schedule,
    polynomial_schedule,
)
from optjax.schedules.combine import (
    join_schedules,
    lambda_schedule,
    multiplicative_schedule,
    multiply_schedules,
)
from optjax.schedules.cyclic import cosine_warm_restarts_schedule, cyclic_schedule, onecycle_schedule

__all__ = [
    "step_lr", "multi_step_lr", "exponential_lr", "lambda_lr", "multiplicative_lr",
    "cosine_annealing_lr", "cosine_annealing_warm_restarts", "cyclic_lr", "one_cycle_lr",
    "linear_lr", "constant_lr", "polynomial_lr", "sequential_lr", "chained_scheduler",
]


def step_lr(base_lr: float, step_size: int, gamma: float = 0.1) -> Schedule:
    """``StepLR``: ``base_lr * gamma ** floor(t / step_size)``.

    Example::

        >>> from optjax.schedules import torch_lr
        >>> [round(float(torch_lr.step_lr(1.0, 3, 0.5)(t)), 6) for t in (2, 3, 6)]
        [1.0, 0.5, 0.25]
    """
    _core.check_int("step_size", step_size, low=1)  # torch divides by it on the first step
    return exponential_decay(base_lr, step_size, gamma, staircase=True)


def multi_step_lr(base_lr: float, milestones: Sequence[int], gamma: float = 0.1) -> Schedule:
    """``MultiStepLR``: ``base_lr * gamma ** (number of milestones m <= t)``.

    ``milestones`` must not decrease; a repeated milestone multiplies again (as
    torch's ``Counter`` does).

    Example::

        >>> from optjax.schedules import torch_lr
        >>> [round(float(torch_lr.multi_step_lr(1.0, [2, 5], 0.1)(t)), 6) for t in (1, 2, 5)]
        [1.0, 0.1, 0.01]
    """
    ms = _core.check_increasing("milestones", milestones, strict=False)
    for m in ms:
        _core.check_int("milestones", m, low=0)
    validation.check("gamma", gamma, low=0.0)
    return piecewise_constant_schedule(base_lr, {m: gamma**c for m, c in Counter(ms).items()})


def exponential_lr(base_lr: float, gamma: float) -> Schedule:
    """``ExponentialLR``: ``base_lr * gamma ** t``.

    Example::

        >>> from optjax.schedules import torch_lr
        >>> float(torch_lr.exponential_lr(1.0, 0.5)(3))
        0.125
    """
    return exponential_decay(base_lr, 1, gamma, staircase=True)


def lambda_lr(base_lr: float, lr_lambda: Callable) -> Schedule:
    """``LambdaLR``: ``base_lr * lr_lambda(t)`` (``lr_lambda`` written with ``jnp``).

    Example::

        >>> from optjax.schedules import torch_lr
        >>> float(torch_lr.lambda_lr(1.0, lambda t: 0.5 ** t)(2))
        0.25
    """
    return lambda_schedule(base_lr, lr_lambda)


def multiplicative_lr(base_lr: float, lr_lambda: Callable, num_steps: int) -> Schedule:
    """``MultiplicativeLR``: ``base_lr * prod_{i=1..t} lr_lambda(i)``, tabulated for
    ``t <= num_steps`` (``lr_lambda`` is called with Python ints, as torch does).

    Example::

        >>> from optjax.schedules import torch_lr
        >>> float(torch_lr.multiplicative_lr(1.0, lambda i: 0.5, 10)(2))
        0.25
    """
    return multiplicative_schedule(base_lr, lr_lambda, num_steps)


def cosine_annealing_lr(base_lr: float, T_max: int, eta_min: float = 0.0) -> Schedule:  # noqa: N803
    """``CosineAnnealingLR``: ``eta_min + (base_lr - eta_min) * (1 + cos(pi t / T_max)) / 2``
    (periodic after ``T_max``, as torch).

    Example::

        >>> from optjax.schedules import torch_lr
        >>> round(float(torch_lr.cosine_annealing_lr(1.0, 4)(2)), 6)
        0.5
    """
    return cosine_annealing_schedule(base_lr, T_max, eta_min)


def cosine_annealing_warm_restarts(
    base_lr: float, T_0: int, T_mult: int = 1, eta_min: float = 0.0  # noqa: N803
) -> Schedule:
    """``CosineAnnealingWarmRestarts`` stepped once per epoch.

    Example::

        >>> from optjax.schedules import torch_lr
        >>> round(float(torch_lr.cosine_annealing_warm_restarts(1.0, 3, 2)(3)), 6)
        1.0
    """
    return cosine_warm_restarts_schedule(base_lr, T_0, T_mult, eta_min)


def cyclic_lr(
    base_lr: float,
    max_lr: float,
    step_size_up: int = 2000,
    step_size_down: Optional[int] = None,
    mode: str = "triangular",
    gamma: float = 1.0,
    scale_fn: Optional[Callable] = None,
    scale_mode: str = "cycle",
) -> Schedule:
    """``CyclicLR`` (its ``base_lr`` replaces the optimizer's lr; momentum not cycled).

    Example::

        >>> from optjax.schedules import torch_lr
        >>> round(float(torch_lr.cyclic_lr(0.01, 0.1, 2)(2)), 6)
        0.1
    """
    return cyclic_schedule(base_lr, max_lr, step_size_up, step_size_down, mode, gamma,
                           scale_fn, scale_mode)


def one_cycle_lr(
    max_lr: float,
    total_steps: Optional[int] = None,
    epochs: Optional[int] = None,
    steps_per_epoch: Optional[int] = None,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> Schedule:
    """``OneCycleLR`` (learning rate only). ``total_steps`` or ``epochs * steps_per_epoch``.

    Example::

        >>> from optjax.schedules import torch_lr
        >>> round(float(torch_lr.one_cycle_lr(1.0, total_steps=10)(0)), 6)
        0.04
    """
    if total_steps is None:
        if epochs is None or steps_per_epoch is None:
            raise ValueError("total_steps, or epochs and steps_per_epoch, must be given")
        total_steps = _core.check_int("epochs", epochs, low=1) * _core.check_int(
            "steps_per_epoch", steps_per_epoch, low=1)
    return onecycle_schedule(total_steps, max_lr, pct_start, anneal_strategy, div_factor,
                             final_div_factor, three_phase)


def linear_lr(
    base_lr: float, start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5
) -> Schedule:
    """``LinearLR``: ``base_lr * (s + (e - s) * min(t, T) / T)``.

    Example::

        >>> from optjax.schedules import torch_lr
        >>> round(float(torch_lr.linear_lr(1.0, 0.5, 1.0, 2)(1)), 6)
        0.75
    """
    validation.check("start_factor", start_factor, low=0.0, high=1.0, low_open=True)
    validation.check("end_factor", end_factor, low=0.0, high=1.0)
    return linear_schedule(base_lr * start_factor, base_lr * end_factor, total_iters)


def constant_lr(base_lr: float, factor: float = 1.0 / 3, total_iters: int = 5) -> Schedule:
    """``ConstantLR``: ``base_lr * factor`` for ``t < total_iters``, then ``base_lr``.

    Example::

        >>> from optjax.schedules import torch_lr
        >>> [round(float(torch_lr.constant_lr(1.0, 0.5, 2)(t)), 6) for t in (1, 2)]
        [0.5, 1.0]
    """
    validation.check("factor", factor, low=0.0, high=1.0)
    total_iters = _core.check_int("total_iters", total_iters, low=0)
    if total_iters == 0:
        return constant_schedule(base_lr)
    return join_schedules([constant_schedule(base_lr * factor), constant_schedule(base_lr)],
                          [total_iters])


def polynomial_lr(base_lr: float, total_iters: int = 5, power: float = 1.0) -> Schedule:
    """``PolynomialLR``: ``base_lr * (1 - min(t, T) / T) ** power`` (decays to 0).

    Example::

        >>> from optjax.schedules import torch_lr
        >>> round(float(torch_lr.polynomial_lr(1.0, 4, 2.0)(2)), 6)
        0.25
    """
    return polynomial_schedule(base_lr, 0.0, power, total_iters)


def sequential_lr(schedulers: Sequence[Schedule], milestones: Sequence[int]) -> Schedule:
    """``SequentialLR``: ``schedulers[i](t - milestones[i-1])`` from ``milestones[i-1]`` on.

    Example::

        >>> from optjax.schedules import torch_lr
        >>> s = torch_lr.sequential_lr(
        ...     [torch_lr.constant_lr(1.0, 0.5, 9), torch_lr.exponential_lr(1.0, 0.5)], [2])
        >>> [float(s(t)) for t in (1, 2, 3)]
        [0.5, 1.0, 0.5]
    """
    return join_schedules(schedulers, milestones)


def chained_scheduler(schedulers: Sequence[Schedule], base_lr: float) -> Schedule:
    """``ChainedScheduler``: ``base_lr * prod_i schedulers[i](t) / base_lr``, each child
    built with the same ``base_lr`` (exact for multiplicative children).

    Example::

        >>> from optjax.schedules import torch_lr
        >>> s = torch_lr.chained_scheduler(
        ...     [torch_lr.constant_lr(1.0, 0.1, 3), torch_lr.exponential_lr(1.0, 0.5)], 1.0)
        >>> round(float(s(1)), 6)
        0.05
    """
    b = _core.concrete("base_lr", base_lr)
    if b == 0:
        raise ValueError("base_lr must be non-zero")
    scaled = [(lambda s: (lambda t: s(t) / b))(s) for s in schedulers]
    return multiply_schedules(scaled, b)
