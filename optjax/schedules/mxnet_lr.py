"""Exact reproductions of MXNet 1.9.1's ``mx.lr_scheduler`` classes as pure functions.

Each function takes the class's constructor arguments and returns
``schedule(num_update) -> lr``. MXNet's optimizer increments ``num_update``
*before* asking, so its first update uses ``schedule(1)``; ``schedule(0)`` is
the value before any update. MXNet's schedulers are stateful (they never go
back to an earlier value and Poly/Cosine hold the last computed value); a pure
function equals them whenever ``num_update`` never decreases, which is how the
optimizer calls them. The MXNet compat layer wraps these in stateful classes.

Warm-up (all classes): for ``n < warmup_steps``, ``'linear'`` gives
``warmup_begin_lr + (base_lr - warmup_begin_lr) * n / warmup_steps`` and
``'constant'`` gives ``warmup_begin_lr``.
"""

from __future__ import annotations

from typing import Sequence, Union

import jax.numpy as jnp

from optjax import validation
from optjax.base import Schedule
from optjax.schedules import _core
from optjax.schedules.basic import (
    cosine_decay_schedule,
    piecewise_constant_schedule,
    polynomial_schedule,
)
from optjax.schedules.warmup import add_warmup

__all__ = ["factor_scheduler", "multi_factor_scheduler", "poly_scheduler", "cosine_scheduler"]


def _check_warmup(base_lr, warmup_steps, warmup_begin_lr, warmup_mode) -> int:
    w = _core.check_int("warmup_steps", warmup_steps, low=0)
    if warmup_begin_lr > base_lr:
        raise ValueError(
            f"warmup_begin_lr must be <= base_lr ({base_lr!r}), got {warmup_begin_lr!r}")
    validation.one_of("warmup_mode", warmup_mode, ("linear", "constant"))
    return w


def _warm(schedule, base_lr, w, warmup_begin_lr, warmup_mode, shift):
    return add_warmup(schedule, w, init_value=warmup_begin_lr, peak_value=base_lr,
                      mode=warmup_mode, shift=shift)


def factor_scheduler(
    step: int,
    factor: float = 1,
    stop_factor_lr: float = 1e-8,
    base_lr: float = 0.01,
    warmup_steps: int = 0,
    warmup_begin_lr: float = 0,
    warmup_mode: str = "linear",
) -> Schedule:
    """MXNet ``FactorScheduler``: ``max(base_lr * factor**floor((n - 1) / step), stop_factor_lr)``
    for ``n >= 1`` (``base_lr`` at ``n = 0``), after the warm-up; the decay count does
    not skip the warm-up steps. Products are float64 ``base_lr *= factor`` as MXNet.

    ``step`` >= 1, ``0 <= factor <= 1``.

    Example::

        >>> from optjax.schedules import mxnet_lr
        >>> s = mxnet_lr.factor_scheduler(3, 0.5, base_lr=1.0)
        >>> [float(s(n)) for n in (0, 3, 4, 7)]
        [1.0, 1.0, 0.5, 0.25]
    """
    step = _core.check_int("step", step, low=1)
    validation.check("factor", factor, low=0.0, high=1.0)
    w = _check_warmup(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
    geo = _core.geometric(base_lr, factor, floor=stop_factor_lr)

    def decay(n):
        n = _core.as_step(n)
        k = jnp.floor(jnp.maximum(n - 1, 0) / step)
        return geo(k)

    return _warm(decay, base_lr, w, warmup_begin_lr, warmup_mode, shift=False)


def multi_factor_scheduler(
    step: Sequence[int],
    factor: Union[float, Sequence[float]] = 1,
    base_lr: float = 0.01,
    warmup_steps: int = 0,
    warmup_begin_lr: float = 0,
    warmup_mode: str = "linear",
) -> Schedule:
    """MXNet ``MultiFactorScheduler``: ``base_lr * factor**(number of s in step with n > s)``.

    ``step`` strictly increasing ints >= 1; ``factor`` in [0, 1]. optjax also
    accepts a list ``factor`` (one per entry of ``step``, each multiplying the
    learning rate when ``n > step[i]``), which MXNet rejects; that is what legacy
    code's ``MultiFactorScheduler([1, 2, 3], [0.001, 0.003, 0.0003])`` means.
    Built on :func:`optjax.piecewise_constant_schedule` with boundaries ``s + 1``.

    Example::

        >>> from optjax.schedules import mxnet_lr
        >>> s = mxnet_lr.multi_factor_scheduler([2, 5], 0.1, base_lr=1.0)
        >>> [round(float(s(n)), 6) for n in (2, 3, 6)]
        [1.0, 0.1, 0.01]
    """
    steps = _core.check_increasing("step", list(step))
    for s in steps:
        _core.check_int("step", s, low=1)
    if isinstance(factor, (list, tuple)):
        if len(factor) != len(steps):
            raise ValueError(
                f"factor must be a number or one number per step ({len(steps)}), got {factor!r}")
        factors = list(factor)
    else:
        factors = [factor] * len(steps)
    for f in factors:
        validation.check("factor", f, low=0.0, high=1.0)
    w = _check_warmup(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
    decay = piecewise_constant_schedule(base_lr, {s + 1: f for s, f in zip(steps, factors)})
    return _warm(decay, base_lr, w, warmup_begin_lr, warmup_mode, shift=False)


def poly_scheduler(
    max_update: int,
    base_lr: float = 0.01,
    pwr: float = 2,
    final_lr: float = 0,
    warmup_steps: int = 0,
    warmup_begin_lr: float = 0,
    warmup_mode: str = "linear",
) -> Schedule:
    """MXNet ``PolyScheduler``: after the warm-up,
    ``final_lr + (base_lr - final_lr) * (1 - (n - w) / (max_update - w)) ** pwr``,
    ``final_lr`` for ``n >= max_update``. Built on :func:`optjax.polynomial_schedule`.

    Example::

        >>> from optjax.schedules import mxnet_lr
        >>> s = mxnet_lr.poly_scheduler(4, base_lr=1.0)
        >>> [float(s(n)) for n in (0, 2, 4, 9)]
        [1.0, 0.25, 0.0, 0.0]
    """
    w = _check_warmup(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
    max_update = _core.check_int("max_update", max_update, low=max(1, w + 1))
    decay = polynomial_schedule(base_lr, final_lr, pwr, max_update - w)
    return _warm(decay, base_lr, w, warmup_begin_lr, warmup_mode, shift=True)


def cosine_scheduler(
    max_update: int,
    base_lr: float = 0.01,
    final_lr: float = 0,
    warmup_steps: int = 0,
    warmup_begin_lr: float = 0,
    warmup_mode: str = "linear",
) -> Schedule:
    """MXNet ``CosineScheduler``: after the warm-up,
    ``final_lr + (base_lr - final_lr) * (1 + cos(pi * (n - w) / (max_update - w))) / 2``,
    ``final_lr`` for ``n >= max_update``. Built on :func:`optjax.cosine_decay_schedule`.

    Example::

        >>> from optjax.schedules import mxnet_lr
        >>> s = mxnet_lr.cosine_scheduler(10, base_lr=1.0)
        >>> round(float(s(5)), 6)
        0.5
    """
    w = _check_warmup(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
    max_update = _core.check_int("max_update", max_update, low=max(1, w + 1))
    alpha = 0.0 if base_lr == 0 else final_lr / base_lr
    decay = cosine_decay_schedule(base_lr, max_update - w, alpha)
    return _warm(decay, base_lr, w, warmup_begin_lr, warmup_mode, shift=True)


