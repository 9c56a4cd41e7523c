"""The zoom line search (strong Wolfe conditions; Nocedal & Wright Algorithms 3.5-3.6),
with optax's ``scale_by_zoom_linesearch`` signature, state and numbers.

The search first grows the step (``increase_factor``) until an interval known to contain
an acceptable step is found, then shrinks it by cubic, quadratic or bisection
interpolation. A step ``eta`` along ``u`` is accepted when

    f(p + eta u) <= f(p) + slope_rtol * eta * <u, g>        (sufficient decrease)
    |<u, g(p + eta u)>| <= curv_rtol * |<u, g>|              (curvature)

up to ``tol``; ``approx_dec_rtol`` enables Hager & Zhang's approximate decrease condition.
If no step satisfies both within ``max_linesearch_steps``, the last step with sufficient
decrease is taken (if any).
"""

from __future__ import annotations

import functools
from typing import Any, Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp

from optjax import tree_math, validation
from optjax.base import GradientTransformation, Params, Updates, NO_PARAMS_MSG, jit_once
from optjax.numerics import safe_increment
from optjax.optimizers.lbfgs import _extract_fns_kwargs


# What ``verbose=True`` prints when a search fails (optax's messages, so logs read the same).
FLAG_INTERVAL_NOT_FOUND = ("No interval satisfying curvature condition. "
                           "Consider increasing maximal possible stepsize of the linesearch.")
FLAG_INTERVAL_TOO_SMALL = "Length of searched interval has been reduced below threshold."
FLAG_CURVATURE_COND_NOT_SATISFIED = ("Returning stepsize with sufficient decrease "
                                     "but curvature condition not satisfied.")
FLAG_NO_STEPSIZE_FOUND = "Linesearch failed, no stepsize satisfying sufficient decrease found."
FLAG_NOT_A_DESCENT_DIRECTION = "The linesearch failed because the provided direction is not a descent direction. "


def _print_if(cond, fmt: str, **kwargs) -> None:
    """``jax.debug.print(fmt, **kwargs)`` when the traced ``cond`` holds."""
    jax.lax.cond(cond, lambda kw: jax.debug.print(fmt, **kw), lambda kw: None, kwargs)


def _report_failure(state, interval_threshold: float) -> None:
    """Print why a search ended without a step meeting both conditions (``verbose=True``)."""
    jax.debug.print("INFO: optjax.scale_by_zoom_linesearch: value {v}, slope {s}, stepsize reached {eta}, "
                    "decrease error {d}, curvature error {c}", v=state.value_init, s=state.slope_init,
                    eta=state.stepsize, d=state.decrease_error, c=state.curvature_error)
    length = jnp.abs(state.low - state.high)
    _print_if(length <= interval_threshold,
              FLAG_INTERVAL_TOO_SMALL + " Interval length: {n}.", n=length)
    has_safe = state.safe_stepsize > 0.0
    _print_if(has_safe, FLAG_CURVATURE_COND_NOT_SATISFIED + " Stepsize ensuring sufficient decrease: {eta}.",
              eta=state.safe_stepsize)
    _print_if(~has_safe, FLAG_NO_STEPSIZE_FOUND)
    _print_if(~has_safe & (state.slope_init >= 0.0),
              FLAG_NOT_A_DESCENT_DIRECTION + "The slope (={s}) at stepsize=0 should be negative",
              s=state.slope_init)
    _print_if(~has_safe & (state.slope_init < 0.0),
              "Consider more linesearch steps (max_linesearch_steps) or a smaller stepsize_precision.")


class ZoomLinesearchState(NamedTuple):
    """The loop state of one search (optax's fields)."""

    count: jax.Array
    params: Params
    updates: Updates
    stepsize_guess: jax.Array
    stepsize: jax.Array
    value: jax.Array
    grad: Updates
    slope: jax.Array
    value_init: jax.Array
    slope_init: jax.Array
    decrease_error: jax.Array
    curvature_error: jax.Array
    error: jax.Array
    interval_found: jax.Array
    done: jax.Array
    failed: jax.Array
    low: jax.Array
    value_low: jax.Array
    slope_low: jax.Array
    high: jax.Array
    value_high: jax.Array
    slope_high: jax.Array
    cubic_ref: jax.Array
    value_cubic_ref: jax.Array
    safe_stepsize: jax.Array
    safe_value: jax.Array
    safe_grad: Updates


def _cubicmin(a, fa, fpa, b, fb, c, fc):
    """Minimizer of the cubic through ``(a, fa)`` with slope ``fpa``, ``(b, fb)``, ``(c, fc)``."""
    C = fpa  # noqa: N806
    db, dc = b - a, c - a
    denom = (db * dc) ** 2 * (db - dc)
    d1 = jnp.array([[dc**2, -(db**2)], [-(dc**3), db**3]])
    A, B = jnp.dot(d1, jnp.array([fb - fa - C * db, fc - fa - C * dc]),  # noqa: N806
                   precision=jax.lax.Precision.HIGHEST) / denom
    radical = B * B - 3.0 * A * C
    return a + (-B + jnp.sqrt(radical)) / (3.0 * A)


def _quadmin(a, fa, fpa, b, fb):
    """Minimizer of the parabola through ``(a, fa)`` with slope ``fpa`` and ``(b, fb)``."""
    db = b - a
    B = (fb - fa - fpa * db) / (db**2)  # noqa: N806
    return a - fpa / (2.0 * B)


def zoom_linesearch(max_linesearch_steps: int, max_stepsize: Optional[float] = None, tol: float = 0.0,
                    increase_factor: float = 2.0, slope_rtol: float = 1e-4, curv_rtol: float = 0.9,
                    approx_dec_rtol: Optional[float] = 1e-6, interval_threshold: float = 1e-5,
                    verbose: bool = False):
    """``(init_fn, step_fn, cond_fn)`` of the zoom line search (see the module docstring)."""
    validation.not_nan(tol=tol, increase_factor=increase_factor, slope_rtol=slope_rtol, curv_rtol=curv_rtol,
                      approx_dec_rtol=approx_dec_rtol, interval_threshold=interval_threshold, max_stepsize=max_stepsize)

    def on_line(value_and_grad_fn, params, stepsize, updates, fn_kwargs):
        step = tree_math.add_scale(params, stepsize, updates)
        value_step, grad_step = value_and_grad_fn(step, **fn_kwargs)
        slope_step = tree_math.real(tree_math.vdot(tree_math.conj(grad_step), updates))
        return step, value_step, grad_step, slope_step

    def decrease_error_of(stepsize, value_step, slope_step, value_init, slope_init):
        err = value_step - value_init - slope_rtol * stepsize * slope_init
        if approx_dec_rtol is not None:
            approx = slope_step - (2 * slope_rtol - 1.0) * slope_init
            delta_values = value_step - value_init - approx_dec_rtol * jnp.abs(value_init)
            err = jnp.minimum(jnp.maximum(approx, delta_values), err)
        err = jnp.maximum(err, 0.0)
        return jnp.where(jnp.isnan(err), jnp.inf, err)

    def curvature_error_of(slope_step, slope_init):
        err = jnp.maximum(jnp.abs(slope_step) - curv_rtol * jnp.abs(slope_init), 0.0)
        return jnp.where(jnp.isnan(err), jnp.inf, err)

    def try_safe_step(state):
        if verbose:
            _report_failure(state, interval_threshold)
        outside_domain = jnp.isinf(state.decrease_error)
        stepsize, value, grad = tree_math.where(
            (state.safe_stepsize > 0.0) | outside_domain,
            [state.safe_stepsize, state.safe_value, state.safe_grad], [state.stepsize, state.value, state.grad])
        return tree_math.cast_like(state._replace(stepsize=stepsize, grad=grad, value=value), state)

    def search_interval(state, value_and_grad_fn, fn_kwargs):
        it = state.count
        larger = increase_factor * state.stepsize
        new_stepsize = jnp.where(it == 0, state.stepsize_guess, larger)
        if max_stepsize is not None:
            max_reached = new_stepsize >= max_stepsize
            new_stepsize = jnp.minimum(new_stepsize, max_stepsize)
        else:
            max_reached = jnp.asarray(False)
        _, new_value, new_grad, new_slope = on_line(value_and_grad_fn, state.params, new_stepsize, state.updates,
                                                    fn_kwargs)
        dec = decrease_error_of(new_stepsize, new_value, new_slope, state.value_init, state.slope_init)
        curv = curvature_error_of(new_slope, state.slope_init)
        new_error = jnp.maximum(dec, curv)
        safe_stepsize, safe_value, safe_grad = tree_math.where(
            dec <= tol, [new_stepsize, new_value, new_grad], [state.safe_stepsize, state.safe_value, state.safe_grad])
        set_high_to_new = (dec > 0.0) | ((new_value >= state.value) & (it > 0))
        set_low_to_new = (new_slope >= 0.0) & (~set_high_to_new)
        default = [state.stepsize, state.value, state.slope, new_stepsize, new_value, new_slope]
        candidate = [new_stepsize, new_value, new_slope, state.stepsize, state.value, state.slope]
        low, value_low, slope_low, high, value_high, slope_high = tree_math.where(set_low_to_new, candidate, default)
        interval_found = set_high_to_new | set_low_to_new | (new_error <= tol)
        done = (new_error <= tol) | (max_reached & ~interval_found)
        if verbose:
            _print_if(max_reached & ~interval_found,
                      "INFO: optjax.scale_by_zoom_linesearch: stepsize {eta}. " + FLAG_INTERVAL_NOT_FOUND + "\n"
                      + FLAG_CURVATURE_COND_NOT_SATISFIED, eta=new_stepsize)
        failed = (it + 1 >= max_linesearch_steps) & (~done)
        new = ZoomLinesearchState(
            count=safe_increment(it), params=state.params, updates=state.updates,
            stepsize_guess=state.stepsize_guess, stepsize=new_stepsize, value=new_value, grad=new_grad,
            slope=new_slope, value_init=state.value_init, slope_init=state.slope_init, decrease_error=dec,
            curvature_error=curv, error=new_error, interval_found=jnp.asarray(interval_found),
            done=jnp.asarray(done), failed=jnp.asarray(failed), low=low, value_low=value_low, slope_low=slope_low,
            high=high, value_high=value_high, slope_high=slope_high, cubic_ref=low, value_cubic_ref=value_low,
            safe_stepsize=safe_stepsize, safe_value=safe_value, safe_grad=safe_grad)
        return tree_math.cast_like(new, state)

    def zoom_into_interval(state, value_and_grad_fn, fn_kwargs):
        it = state.count
        low, value_low, slope_low = state.low, state.value_low, state.slope_low
        high, value_high, slope_high = state.high, state.value_high, state.slope_high
        delta = jnp.abs(high - low)
        left, right = jnp.minimum(high, low), jnp.maximum(high, low)
        too_small_int = delta <= interval_threshold
        m_cubic = _cubicmin(low, value_low, slope_low, high, value_high, state.cubic_ref, state.value_cubic_ref)
        use_cubic = (m_cubic > left + 0.2 * delta) & (m_cubic < right - 0.2 * delta)
        m_quad = _quadmin(low, value_low, slope_low, high, value_high)
        use_quad = (~use_cubic) & (m_quad > left + 0.1 * delta) & (m_quad < right - 0.1 * delta)
        use_bisection = (~use_cubic) & (~use_quad)
        middle = jnp.where(use_cubic, m_cubic, state.cubic_ref)
        middle = jnp.where(use_quad, m_quad, middle)
        middle = jnp.where(use_bisection, (low + high) / 2.0, middle)
        _, value_m, grad_m, slope_m = on_line(value_and_grad_fn, state.params, middle, state.updates, fn_kwargs)
        dec = decrease_error_of(middle, value_m, slope_m, state.value_init, state.slope_init)
        curv = curvature_error_of(slope_m, state.slope_init)
        new_error = jnp.maximum(dec, curv)
        safe_stepsize, safe_value, safe_grad = tree_math.where(
            (dec <= tol) & (value_m < state.safe_value), [middle, value_m, grad_m],
            [state.safe_stepsize, state.safe_value, state.safe_grad])
        done = new_error <= tol
        set_high_to_middle = (dec > 0.0) | (value_m >= value_low)
        set_high_to_low = (slope_m * (high - low) >= 0.0) & (~set_high_to_middle)
        set_low_to_middle = ~set_high_to_middle
        h = tree_math.where(set_high_to_middle, [middle, value_m, slope_m], [high, value_high, slope_high])
        new_high, new_value_high, new_slope_high = tree_math.where(set_high_to_low, [low, value_low, slope_low], h)
        new_low, new_value_low, new_slope_low = tree_math.where(
            set_low_to_middle, [middle, value_m, slope_m], [low, value_low, slope_low])
        new_cubic_ref, new_value_cubic_ref = tree_math.where(
            set_high_to_middle | set_high_to_low, [high, value_high], [low, value_low])
        presumably_failed = jnp.asarray((it + 1) >= max_linesearch_steps) | (too_small_int & (safe_stepsize > 0.0))
        new = ZoomLinesearchState(
            count=safe_increment(it), params=state.params, updates=state.updates,
            stepsize_guess=state.stepsize_guess, stepsize=middle, value=value_m, grad=grad_m, slope=slope_m,
            value_init=state.value_init, slope_init=state.slope_init, decrease_error=dec, curvature_error=curv,
            error=new_error, interval_found=state.interval_found, done=done, failed=presumably_failed & ~done,
            low=new_low, value_low=new_value_low, slope_low=new_slope_low, high=new_high,
            value_high=new_value_high, slope_high=new_slope_high, cubic_ref=new_cubic_ref,
            value_cubic_ref=new_value_cubic_ref, safe_stepsize=safe_stepsize, safe_value=safe_value,
            safe_grad=safe_grad)
        return tree_math.cast_like(new, state)

    def init_fn(updates, params, *, value, grad, prev_stepsize=1.0, initial_guess_strategy="one"):
        if initial_guess_strategy == "one":
            guess = jnp.asarray(1.0)
        elif initial_guess_strategy == "keep":
            guess = prev_stepsize
        else:
            raise ValueError(f"initial_guess_strategy must be 'one' or 'keep', got {initial_guess_strategy!r}")
        val_dtype = jnp.real(jnp.empty((), jax.tree.leaves(params)[0].dtype)).dtype
        slope = tree_math.real(tree_math.vdot(updates, grad))
        return ZoomLinesearchState(
            count=jnp.asarray(0), params=params, updates=updates, stepsize_guess=guess,
            stepsize=jnp.asarray(0.0, dtype=val_dtype), value=jnp.array(value, dtype=val_dtype), grad=grad,
            slope=slope, value_init=value, slope_init=slope, decrease_error=jnp.asarray(jnp.inf),
            curvature_error=jnp.asarray(jnp.inf), error=jnp.asarray(jnp.inf), interval_found=jnp.asarray(False),
            done=jnp.asarray(False), failed=jnp.asarray(False), low=jnp.asarray(0.0), value_low=value,
            slope_low=slope, high=jnp.asarray(0.0), value_high=value, slope_high=slope,
            cubic_ref=jnp.asarray(0.0), value_cubic_ref=value, safe_stepsize=jnp.asarray(0.0), safe_value=value,
            safe_grad=grad)

    def step_fn(state, *, value_and_grad_fn, fn_kwargs):
        new = jax.lax.cond(state.interval_found,
                           functools.partial(zoom_into_interval, value_and_grad_fn=value_and_grad_fn,
                                             fn_kwargs=fn_kwargs),
                           functools.partial(search_interval, value_and_grad_fn=value_and_grad_fn,
                                             fn_kwargs=fn_kwargs),
                           state)
        new = jax.lax.cond(new.failed, try_safe_step, lambda x: x, new)
        return tree_math.cast_like(new, state)

    def cond_fn(state):
        return ~(state.done | state.failed)

    return init_fn, step_fn, cond_fn


class ZoomLinesearchInfo(NamedTuple):
    """Steps taken by the last search and its final errors."""

    num_linesearch_steps: jax.Array
    decrease_error: jax.Array
    curvature_error: jax.Array


class ScaleByZoomLinesearchState(NamedTuple):
    """optax's layout: accepted step, value and gradient at the new params, search info."""

    learning_rate: jax.Array
    value: jax.Array
    grad: Updates
    info: ZoomLinesearchInfo


def scale_by_zoom_linesearch(
    max_linesearch_steps: int,
    max_learning_rate: Optional[float] = None,
    tol: float = 0.0,
    increase_factor: float = 2.0,
    slope_rtol: float = 1e-4,
    curv_rtol: float = 0.9,
    approx_dec_rtol: Optional[float] = 1e-6,
    stepsize_precision: float = 1e-5,
    initial_guess_strategy: str = "keep",
    verbose: bool = False,
) -> GradientTransformation:
    r"""Scale the update ``u`` by a step satisfying the strong Wolfe conditions, found by
    the zoom line search (module docstring). ``update`` takes ``value``, ``grad`` and
    ``value_fn`` (plus ``value_fn``'s keyword args); the state keeps the value and gradient
    at the new params for :func:`optjax.value_and_grad_from_state`. The first trial step is
    the previous accepted one (``initial_guess_strategy='keep'``) or 1 (``'one'``).
    With ``verbose=True`` a failed search prints why (``jax.debug.print``, optax's messages).

    Example::

        >>> import jax, jax.numpy as jnp, optjax
        >>> f = lambda p: jnp.sum((p["w"] - 1.0) ** 2)
        >>> tx = optjax.chain(optjax.scale(-1.0), optjax.scale_by_zoom_linesearch(10))
        >>> p = {"w": jnp.zeros(2)}
        >>> v, g = jax.value_and_grad(f)(p)
        >>> u, s = tx.update(g, tx.init(p), p, value=v, grad=g, value_fn=f)
        >>> float(s[1].learning_rate), u["w"].tolist()
        (0.5, [1.0, 1.0])

    Reference: Nocedal & Wright, Numerical Optimization, 2nd ed., 2006, Algorithms 3.5-3.6;
    Hager & Zhang, `A new conjugate gradient method with guaranteed descent and an efficient
    line search <https://doi.org/10.1137/030601880>`_, 2005.
    """
    validation.not_nan(tol=tol, increase_factor=increase_factor, slope_rtol=slope_rtol, curv_rtol=curv_rtol,
                      approx_dec_rtol=approx_dec_rtol, stepsize_precision=stepsize_precision,
                      max_learning_rate=max_learning_rate)
    init_ls, step_ls, cond_ls = zoom_linesearch(
        max_linesearch_steps=max_linesearch_steps, max_stepsize=max_learning_rate, tol=tol,
        increase_factor=increase_factor, slope_rtol=slope_rtol, curv_rtol=curv_rtol,
        approx_dec_rtol=approx_dec_rtol, interval_threshold=stepsize_precision, verbose=verbose)

    def init_fn(params):
        val_dtype = jnp.real(jnp.empty((), jax.tree.leaves(params)[0].dtype)).dtype
        return ScaleByZoomLinesearchState(
            learning_rate=jnp.asarray(1.0, dtype=val_dtype), value=jnp.asarray(jnp.inf, dtype=val_dtype),
            grad=tree_math.zeros_like(params),
            info=ZoomLinesearchInfo(num_linesearch_steps=jnp.asarray(0), decrease_error=jnp.asarray(jnp.inf),
                                    curvature_error=jnp.asarray(jnp.inf)))

    def update_fn(updates, state, params=None, *, value, grad, value_fn: Callable[..., Any], **extra_args):
        if params is None:
            raise ValueError(NO_PARAMS_MSG)
        (fn_kwargs,), remaining = _extract_fns_kwargs((value_fn,), extra_args)
        if remaining:
            raise TypeError(f"Unexpected keyword arguments passed to scale_by_zoom_linesearch.update: "
                            f"value_fn does not accept {sorted(remaining)}")
        ls = init_ls(updates, params, value=value, grad=grad, prev_stepsize=state.learning_rate,
                     initial_guess_strategy=initial_guess_strategy)
        final = jax.lax.while_loop(cond_ls, functools.partial(step_ls, value_and_grad_fn=jax.value_and_grad(value_fn),
                                                              fn_kwargs=fn_kwargs), ls)
        new_state = ScaleByZoomLinesearchState(
            learning_rate=final.stepsize, value=final.value, grad=final.grad,
            info=ZoomLinesearchInfo(num_linesearch_steps=final.count, decrease_error=final.decrease_error,
                                    curvature_error=final.curvature_error))
        return tree_math.scale(final.stepsize, updates), tree_math.cast_like(new_state, state)

    return GradientTransformation(init_fn, jit_once(update_fn))
