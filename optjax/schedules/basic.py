"""The optax-named schedules: constant, polynomial/linear, exponential, cosine,
piecewise constant and interpolated, warm-up + decay, one-cycle and SGDR.

Each is a pure ``step -> value`` function (step: unitless count, any integer or
float dtype, Python ints of any size); values are float32 (float64 under x64).
Names and signatures follow optax 0.2.8 (``optax.schedules``), except that
invalid hyperparameters raise ``ValueError`` naming the argument.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Optional

import jax.numpy as jnp

from optjax import validation
from optjax.base import Schedule
from optjax.schedules import _core
from optjax.schedules.combine import join_schedules


def constant_schedule(value: float) -> Schedule:
    """``value(t) = value`` for every step.

    Reproduces torch ``LambdaLR(opt, lambda t: 1)``; MXNet's default (no scheduler).

    Example::

        >>> import optjax
        >>> float(optjax.constant_schedule(0.1)(7))  # doctest: +ELLIPSIS
        0.1...
    """
    validation.check("value", value, finite=True)

    def schedule(step):
        step = _core.as_step(step)
        return jnp.full(step.shape, value, step.dtype)

    return schedule


def polynomial_schedule(
    init_value: float,
    end_value: float,
    power: float,
    transition_steps: int,
    transition_begin: int = 0,
) -> Schedule:
    """``(init - end) * (1 - c / T) ** power + end`` with ``c = clip(t - begin, 0, T)``.

    ``T = transition_steps``, ``begin = transition_begin`` (>= 0). ``T = 0`` gives the
    constant ``init_value`` (as optax: a config without warm-up); ``T < 0`` raises. Reproduces
    torch ``PolynomialLR(total_iters=T, power=p)`` as ``polynomial_schedule(lr, 0, p, T)``
    and MXNet ``PolyScheduler`` after its warm-up.

    Example::

        >>> import optjax
        >>> s = optjax.polynomial_schedule(1.0, 0.0, 2, 4)
        >>> [round(float(s(t)), 4) for t in range(6)]
        [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]
    """
    validation.finite(init_value=init_value, end_value=end_value, power=power)
    transition_steps = _core.check_steps("transition_steps", transition_steps, low=0)
    transition_begin = _core.check_steps("transition_begin", transition_begin, low=0)
    if transition_steps == 0:
        return constant_schedule(init_value)

    def schedule(step):
        step = _core.as_step(step)
        c = jnp.clip(step - transition_begin, 0, transition_steps)
        frac = (transition_steps - c) / transition_steps
        return ((init_value - end_value) * (frac**power) + end_value).astype(step.dtype)

    return schedule


def linear_schedule(
    init_value: float, end_value: float, transition_steps: int, transition_begin: int = 0
) -> Schedule:
    """Linear ramp from ``init_value`` (at ``transition_begin``) to ``end_value``
    (at ``transition_begin + transition_steps``), constant outside.

    ``polynomial_schedule`` with ``power=1``. Torch ``LinearLR(start_factor=s,
    end_factor=e, total_iters=T)`` is ``linear_schedule(s * lr, e * lr, T)``.

    Example::

        >>> import optjax
        >>> float(optjax.linear_schedule(0.0, 1.0, 4)(1))
        0.25
    """
    return polynomial_schedule(init_value, end_value, 1, transition_steps, transition_begin)


def exponential_decay(
    init_value: float,
    transition_steps: int,
    decay_rate: float,
    transition_begin: int = 0,
    staircase: bool = False,
    end_value: Optional[float] = None,
) -> Schedule:
    """``init * decay_rate ** p`` with ``p = max(t - begin, 0) / transition_steps``
    (``floor``-ed when ``staircase``), clipped at ``end_value`` if given.
    ``transition_steps = 0`` or ``decay_rate = 0`` give the constant ``init_value``
    (as optax); negative values raise.

    With ``staircase`` the value is the Python float64 product
    ``init * rate * rate * ...`` rounded once, as torch ``StepLR``/``ExponentialLR``
    and MXNet ``FactorScheduler`` compute it. Torch ``StepLR(step_size=n,
    gamma=g)`` is ``exponential_decay(lr, n, g, staircase=True)``; ``ExponentialLR(g)``
    is ``exponential_decay(lr, 1, g, staircase=True)``.

    Example::

        >>> import optjax
        >>> s = optjax.exponential_decay(1.0, 3, 0.5, staircase=True)
        >>> [float(s(t)) for t in (0, 2, 3, 6)]
        [1.0, 1.0, 0.5, 0.25]
    """
    validation.finite(init_value=init_value, end_value=end_value)
    transition_steps = _core.check_steps("transition_steps", transition_steps, low=0)
    transition_begin = _core.check_steps("transition_begin", transition_begin, low=0)
    validation.check("decay_rate", decay_rate, low=0.0)
    if transition_steps == 0 or decay_rate == 0:
        return constant_schedule(init_value)
    geo = _core.geometric(init_value, decay_rate) if staircase else None
    clip_fn = None
    if end_value is not None:
        clip_fn = jnp.maximum if decay_rate < 1.0 else jnp.minimum

    def schedule(step):
        step = _core.as_step(step)
        p = jnp.maximum(step - transition_begin, 0) / transition_steps
        if staircase:
            value = geo(jnp.floor(p))
        else:
            value = init_value * jnp.power(jnp.asarray(decay_rate, step.dtype), p)
        if clip_fn is not None:
            value = clip_fn(value, end_value)
        return value.astype(step.dtype)

    return schedule


def inverse_time_decay(
    init_value: float, decay_steps: int, decay_rate: float, staircase: bool = False
) -> Schedule:
    """``init_value / (1 + decay_rate * p)`` with ``p = t / decay_steps``
    (``floor``-ed when ``staircase``).

    Keras/TF ``InverseTimeDecay(initial_learning_rate, decay_steps, decay_rate,
    staircase)``; torch ``LambdaLR(lambda t: 1 / (1 + r * t / n))``.

    Example::

        >>> import optjax
        >>> s = optjax.inverse_time_decay(1.0, 10, 1.0)
        >>> [float(s(t)) for t in (0, 10, 30)]
        [1.0, 0.5, 0.25]
    """
    validation.finite(init_value=init_value)
    decay_steps = _core.check_steps("decay_steps", decay_steps, low=1)
    validation.check("decay_rate", decay_rate, low=0.0)

    def schedule(step):
        step = _core.as_step(step)
        p = step / decay_steps
        if staircase:
            p = jnp.floor(p)
        return (init_value / (1 + decay_rate * p)).astype(step.dtype)

    return schedule


def cosine_decay_schedule(
    init_value: float, decay_steps: int, alpha: float = 0.0, exponent: float = 1.0
) -> Schedule:
    """``end + (init - end) * ((1 + cos(pi * min(t, T) / T)) / 2) ** exponent``,
    ``end = alpha * init``, ``T = decay_steps`` (> 0). Constant ``end`` after ``T``.

    MXNet ``CosineScheduler`` after its warm-up; torch ``CosineAnnealingLR`` up to
    ``T_max`` (torch keeps oscillating after it: :func:`cosine_annealing_schedule`).

    Example::

        >>> import optjax
        >>> round(float(optjax.cosine_decay_schedule(1.0, 10)(5)), 6)
        0.5
    """
    validation.finite(init_value=init_value, alpha=alpha)
    decay_steps = _core.check_steps("decay_steps", decay_steps, low=1)
    validation.check("exponent", exponent, low=0.0, low_open=True)
    end = alpha * init_value

    def schedule(step):
        step = _core.as_step(step)
        c = jnp.minimum(step, decay_steps)
        if exponent == 1.0:
            value = _core.cosine_interp(init_value, end, c, decay_steps)
        else:
            value = end + (init_value - end) * _core.cosine_interp(1.0, 0.0, c, decay_steps) ** exponent
        return value.astype(step.dtype)

    return schedule


def cosine_annealing_schedule(init_value: float, t_max: int, eta_min: float = 0.0) -> Schedule:
    """``eta_min + (init - eta_min) * (1 + cos(pi * t / t_max)) / 2``, not clamped:
    after ``t_max`` it rises again (period ``2 * t_max``), as torch does.

    Reproduces torch ``CosineAnnealingLR(T_max, eta_min)`` (closed form).

    Example::

        >>> import optjax
        >>> s = optjax.cosine_annealing_schedule(1.0, 4)
        >>> [round(float(s(t)), 4) for t in (0, 4, 8)]
        [1.0, 0.0, 1.0]
    """
    validation.finite(init_value=init_value, eta_min=eta_min)
    t_max = _core.check_steps("t_max", t_max, low=1)

    def schedule(step):
        step = _core.as_step(step)
        return _core.cosine_interp(init_value, eta_min, step, t_max).astype(step.dtype)

    return schedule


def _boundary_items(name: str, boundaries_and_scales: Optional[Mapping]) -> tuple[list, list]:
    if not boundaries_and_scales:
        return [], []
    items = sorted(boundaries_and_scales.items())
    bounds = [b for b, _ in items]
    scales = [s for _, s in items]
    for s in scales:
        validation.check(name, s, low=0.0)
    return bounds, scales


def piecewise_constant_schedule(
    init_value: float, boundaries_and_scales: Optional[Mapping[int, float]] = None
) -> Schedule:
    """``init_value * prod(scale for boundary, scale in items if t >= boundary)``.

    The products are taken in Python float64 in boundary order (as MXNet's
    ``base_lr *= factor``) and rounded once. Torch ``MultiStepLR(milestones, g)``
    is ``{m: g ...}``; MXNet ``MultiFactorScheduler(step, f)`` is ``{s + 1: f ...}``
    (MXNet decays when ``num_update > s``). Scales must be >= 0.

    Legacy MXNet code's ``MultiFactorScheduler([1, 2, 3], [0.001, 0.003, 0.0003])``
    (a list of factors, which MXNet rejects) means
    ``piecewise_constant_schedule(lr, {2: 0.001, 3: 0.003, 4: 0.0003})``.

    Example::

        >>> import optjax
        >>> s = optjax.piecewise_constant_schedule(1.0, {2: 0.1, 5: 0.1})
        >>> [round(float(s(t)), 6) for t in (0, 2, 5)]
        [1.0, 0.1, 0.01]
    """
    validation.check("init_value", init_value)
    bounds, scales = _boundary_items("boundaries_and_scales", boundaries_and_scales)
    iv = validation.concrete_float(init_value)
    if iv is not None:
        values = [iv]
        for s in scales:
            values.append(values[-1] * float(s))
    else:
        values = None

    def schedule(step):
        step = _core.as_step(step)
        idx = _core.count_passed(step, bounds)
        if values is not None:
            return _core.table_lookup(values, idx)
        cum = jnp.cumprod(jnp.asarray([1.0] + [float(s) for s in scales], step.dtype))
        return (init_value * cum[idx]).astype(step.dtype)

    return schedule


def interpolate_knots(
    knots: list, values: list, interpolate_type: str = "linear", *, right_closed: bool = False
) -> Schedule:
    """``values[i] -> values[i+1]`` over ``[knots[i], knots[i+1])`` with the given
    interpolation (``'linear'`` or ``'cosine'``); ``values[0]`` before the first knot
    and ``values[-1]`` after the last.

    With ``right_closed`` the segments are ``(knots[i], knots[i+1]]`` (torch
    ``OneCycleLR``'s convention). The engine of piecewise interpolation and one-cycle.
    """
    for i, v in enumerate(values):
        validation.check(f"values[{i}]", v)
    if interpolate_type not in _core.INTERPOLATORS:
        raise ValueError(
            f"interpolate_type must be one of ('linear', 'cosine'), got {interpolate_type!r}")
    interp = _core.INTERPOLATORS[interpolate_type]
    if len(knots) != len(values) or not knots:
        raise ValueError("knots and values must have the same non-zero length")
    _core.check_increasing("knots", knots, strict=False)
    n = len(knots) - 1

    def schedule(step):
        step = _core.as_step(step)
        if n == 0:
            return jnp.full(step.shape, values[0], step.dtype)
        ks = jnp.asarray(knots, step.dtype)
        vs = jnp.asarray(values, step.dtype)
        inner = ks[1:-1]
        if right_closed:
            i = jnp.sum(step[..., None] > inner, axis=-1)
        else:
            i = jnp.sum(step[..., None] >= inner, axis=-1)
        size = ks[i + 1] - ks[i]
        size = jnp.where(size > 0, size, 1)
        val = interp(vs[i], vs[i + 1], jnp.clip(step - ks[i], 0, size), size)
        val = jnp.where(step < ks[0], vs[0], val)
        return jnp.where(step > ks[-1] if right_closed else step >= ks[-1], vs[-1], val)

    return schedule


def piecewise_interpolate_schedule(
    interpolate_type: str,
    init_value: float,
    boundaries_and_scales: Optional[Mapping[int, float]] = None,
) -> Schedule:
    """Interpolated (``'linear'`` or ``'cosine'``) jumps: from step 0 the value moves
    from ``v[i]`` at ``boundary[i-1]`` to ``v[i+1] = v[i] * scale[i]`` at ``boundary[i]``.

    optax's ``piecewise_interpolate_schedule`` (same arguments and values).

    Example::

        >>> import optjax
        >>> s = optjax.piecewise_interpolate_schedule('linear', 1.0, {10: 0.5})
        >>> float(s(5))
        0.75
    """
    if interpolate_type not in ("linear", "cosine"):
        raise ValueError(
            f"interpolate_type must be one of ('linear', 'cosine'), got {interpolate_type!r}")
    bounds, scales = _boundary_items("boundaries_and_scales", boundaries_and_scales)
    values = [float(init_value)]
    for s in scales:
        values.append(values[-1] * float(s))
    return interpolate_knots([0] + bounds, values, interpolate_type)


def warmup_constant_schedule(init_value: float, peak_value: float, warmup_steps: int) -> Schedule:
    """Linear warm-up from ``init_value`` to ``peak_value`` over ``warmup_steps``, then constant.

    Example::

        >>> import optjax
        >>> float(optjax.warmup_constant_schedule(0.0, 1.0, 4)(2))
        0.5
    """
    validation.finite(init_value=init_value, peak_value=peak_value)
    _core.check_int("warmup_steps", warmup_steps, low=0)
    return linear_schedule(init_value, peak_value, warmup_steps)


def warmup_cosine_decay_schedule(
    init_value: float,
    peak_value: float,
    warmup_steps: int,
    decay_steps: int,
    end_value: float = 0.0,
    exponent: float = 1.0,
) -> Schedule:
    """Linear warm-up ``init -> peak`` over ``warmup_steps``, then cosine decay
    ``peak -> end_value`` reaching it at step ``decay_steps`` (which counts the warm-up).

    MXNet ``CosineScheduler(max_update=decay_steps, base_lr=peak, final_lr=end,
    warmup_steps=w, warmup_begin_lr=init)`` has the same shape (see ``mxnet_lr``).

    Example::

        >>> import optjax
        >>> s = optjax.warmup_cosine_decay_schedule(0.0, 1.0, 2, 12)
        >>> [round(float(s(t)), 3) for t in (1, 2, 7, 12)]
        [0.5, 1.0, 0.5, 0.0]
    """
    validation.finite(init_value=init_value, peak_value=peak_value, end_value=end_value)
    warmup_steps = _core.check_int("warmup_steps", warmup_steps, low=0)
    decay_steps = _core.check_int("decay_steps", decay_steps, low=warmup_steps + 1)
    alpha = 0.0 if peak_value == 0.0 else end_value / peak_value
    decay = cosine_decay_schedule(peak_value, int(decay_steps - warmup_steps), alpha, exponent)
    if warmup_steps == 0:
        return decay
    return join_schedules([linear_schedule(init_value, peak_value, warmup_steps), decay],
                          [warmup_steps])


def warmup_exponential_decay_schedule(
    init_value: float,
    peak_value: float,
    warmup_steps: int,
    transition_steps: int,
    decay_rate: float,
    transition_begin: int = 0,
    staircase: bool = False,
    end_value: Optional[float] = None,
) -> Schedule:
    """Linear warm-up ``init -> peak`` over ``warmup_steps``, then
    :func:`exponential_decay` from ``peak`` (restarted at step 0).

    Example::

        >>> import optjax
        >>> s = optjax.warmup_exponential_decay_schedule(0.0, 1.0, 2, 1, 0.5)
        >>> [float(s(t)) for t in (1, 2, 3)]
        [0.5, 1.0, 0.5]
    """
    validation.finite(init_value=init_value, peak_value=peak_value)
    warmup_steps = _core.check_int("warmup_steps", warmup_steps, low=0)
    decay = exponential_decay(peak_value, transition_steps, decay_rate, transition_begin,
                              staircase, end_value)
    if warmup_steps == 0:
        return decay
    return join_schedules([linear_schedule(init_value, peak_value, warmup_steps), decay],
                          [warmup_steps])


def sgdr_schedule(cosine_kwargs: Iterable[Mapping[str, float]]) -> Schedule:
    """SGD with warm restarts (optax's form): one :func:`warmup_cosine_decay_schedule`
    per dict of keyword arguments, joined end to end (each lasts ``decay_steps``).

    For torch's ``CosineAnnealingWarmRestarts(T_0, T_mult)`` use
    :func:`optjax.cosine_warm_restarts_schedule`.

    Example::

        >>> import optjax
        >>> kw = dict(init_value=1.0, peak_value=1.0, warmup_steps=0, decay_steps=4)
        >>> s = optjax.sgdr_schedule([kw, kw])
        >>> [round(float(s(t)), 3) for t in (0, 2, 4)]
        [1.0, 0.5, 1.0]
    """
    schedules, boundaries, step = [], [], 0
    for kwargs in cosine_kwargs:
        schedules.append(warmup_cosine_decay_schedule(**kwargs))
        step += kwargs["decay_steps"]
        boundaries.append(step)
    return join_schedules(schedules, boundaries[:-1])


def linear_onecycle_schedule(
    transition_steps: int,
    peak_value: float,
    pct_start: float = 0.3,
    pct_final: float = 0.85,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> Schedule:
    """optax's three-phase linear one-cycle: ``peak/div -> peak`` until
    ``pct_start*T``, back to ``peak/div`` at ``pct_final*T``, then to
    ``peak/div/final_div`` at ``T``. Torch's form: :func:`optjax.onecycle_schedule`.

    Example::

        >>> import optjax
        >>> s = optjax.linear_onecycle_schedule(100, 1.0)
        >>> round(float(s(30)), 6)
        1.0
    """
    validation.finite(peak_value=peak_value)
    validation.positive("div_factor", div_factor)
    validation.positive("final_div_factor", final_div_factor)
    _core.check_int("transition_steps", transition_steps, low=1)
    validation.check("pct_start", pct_start, low=0.0, high=1.0)
    validation.check("pct_final", pct_final, low=pct_start, high=1.0)
    return piecewise_interpolate_schedule(
        "linear", peak_value / div_factor,
        {int(pct_start * transition_steps): div_factor,
         int(pct_final * transition_steps): 1.0 / div_factor,
         transition_steps: 1.0 / final_div_factor})


def cosine_onecycle_schedule(
    transition_steps: int,
    peak_value: float,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> Schedule:
    """optax's two-phase cosine one-cycle: ``peak/div -> peak`` (cosine) until
    ``pct_start*T``, then down to ``peak/div/final_div`` at ``T``.
    Torch's form (phase ends one step earlier): :func:`optjax.onecycle_schedule`.

    Example::

        >>> import optjax
        >>> s = optjax.cosine_onecycle_schedule(100, 1.0)
        >>> round(float(s(30)), 6)
        1.0
    """
    validation.finite(peak_value=peak_value)
    validation.positive("div_factor", div_factor)
    validation.positive("final_div_factor", final_div_factor)
    _core.check_int("transition_steps", transition_steps, low=1)
    validation.check("pct_start", pct_start, low=0.0, high=1.0)
    return piecewise_interpolate_schedule(
        "cosine", peak_value / div_factor,
        {int(pct_start * transition_steps): div_factor,
         int(transition_steps): 1.0 / (div_factor * final_div_factor)})
