"""Checks of hyperparameters at construction, with errors that name the argument.

Only concrete values are checked: a traced value (inside ``inject_hyperparams``
or ``jit``) passes through, since it cannot be inspected. A schedule is
evaluated at :data:`SCHEDULE_PROBE_STEPS` when it can be evaluated outside a
trace; its values at other steps are not checked (see docs/reliability.md).
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


#: Steps at which a schedule given for a checked hyperparameter is evaluated
#: at construction (a schedule that cannot be evaluated outside a trace is
#: not checked).
SCHEDULE_PROBE_STEPS = (0, 1, 10, 100, 1_000, 10_000, 100_000, 1_000_000)


def scalar(name: str, value: Any, *, optional: bool = False) -> None:
    """Raise ``TypeError`` unless ``value`` is a real number, a 0-d array or a schedule.

    Strings, bools, complex numbers and (unless ``optional``) None are
    rejected, and an array of any other shape is a ``ValueError``; both name
    the argument. Traced values pass through.
    """
    if value is None:
        if optional:
            return
        raise TypeError(f"{name} must be a number or a schedule, got None")
    if isinstance(value, jax.core.Tracer) or (callable(value) and not isinstance(value, jax.Array)):
        return
    if isinstance(value, (str, bytes, bool, np.bool_)):
        raise TypeError(f"{name} must be a number or a schedule, got {type(value).__name__} {value!r}")
    try:
        arr = np.asarray(value)
    except Exception as e:  # noqa: BLE001 - anything not array-like is rejected below
        raise TypeError(f"{name} must be a number or a schedule, got {type(value).__name__}") from e
    if not (jnp.issubdtype(arr.dtype, jnp.integer) or jnp.issubdtype(arr.dtype, jnp.floating)):
        raise TypeError(f"{name} must be a real number or a schedule, got {type(value).__name__} {value!r}")
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a scalar, got an array of shape {arr.shape}")


def concrete_float(value: Any) -> float | None:
    """``value`` as a Python float, or None if it is traced or a schedule."""
    if callable(value) or value is None or isinstance(value, jax.core.Tracer):
        return None
    try:
        arr = np.asarray(value)
    except Exception:  # noqa: BLE001 - anything not array-like is not checked here
        return None
    if arr.ndim != 0 or not (jnp.issubdtype(arr.dtype, jnp.integer) or jnp.issubdtype(arr.dtype, jnp.floating)):
        return None
    return float(arr)


def check(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    finite: bool = True,
) -> None:
    """Raise ``ValueError`` if a concrete ``value`` is outside its range.

    ``low``/``high`` are inclusive bounds unless ``low_open``/``high_open``;
    NaN (and, with ``finite``, an infinity) is always out of range. A string,
    a bool or an array that is not 0-d is a ``TypeError``/``ValueError`` (see
    :func:`scalar`); None passes (an optional argument left out). A schedule is
    checked at each of :data:`SCHEDULE_PROBE_STEPS` (NaN and the range; an
    infinity there is allowed).
    """
    scalar(name, value, optional=True)
    if callable(value) and not isinstance(value, jax.Array):
        for step in SCHEDULE_PROBE_STEPS:
            try:
                at_step = value(step)
            except Exception:  # noqa: BLE001 - a schedule that needs tracing is not checked
                return
            if isinstance(at_step, jax.core.Tracer):
                return
            # An infinity far out is allowed (a growing schedule overflows by
            # step 10**6); NaN and out-of-range values are not.
            _check_value(f"{name} (a schedule, at step {step})", at_step, low, high, low_open, high_open, False)
        return
    _check_value(name, value, low, high, low_open, high_open, finite)


def _check_value(name, value, low, high, low_open, high_open, finite) -> None:
    v = concrete_float(value)
    if v is None:
        return
    if math.isnan(v) or (finite and math.isinf(v)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    lo_bad = low is not None and (v <= low if low_open else v < low)
    hi_bad = high is not None and (v >= high if high_open else v > high)
    if lo_bad or hi_bad:
        lo = "" if low is None else ("(" if low_open else "[") + f"{low:g}"
        hi = "" if high is None else f"{high:g}" + (")" if high_open else "]")
        if low is None:
            rng = f"<= {high:g}" if not high_open else f"< {high:g}"
        elif high is None:
            rng = f">= {low:g}" if not low_open else f"> {low:g}"
        else:
            rng = f"in {lo}, {hi}"
        raise ValueError(f"{name} must be {rng}, got {value!r}")


def finite(**values: Any) -> None:
    """Each named value, when given, is a finite real number: ``finite(eps=eps, b3=b3)``."""
    for name, value in values.items():
        check(name, value)


def not_nan(**values: Any) -> None:
    """Each named value, when given, is a real number that is not NaN (infinities
    allowed: ``increase_factor=inf`` for a line search that always starts at its maximum)."""
    for name, value in values.items():
        check(name, value, finite=False)


def learning_rate(value: Any, *, name: str = "learning_rate", optional: bool = False) -> None:
    """The one check of a learning rate: a finite number >= 0 or a schedule whose
    probed values are (None only when ``optional``)."""
    scalar(name, value, optional=optional)
    check(name, value, low=0.0)


def non_negative(name: str, value: Any) -> None:
    check(name, value, low=0.0)


def positive(name: str, value: Any) -> None:
    check(name, value, low=0.0, low_open=True)


def unit_interval(name: str, value: Any, *, high_open: bool = True) -> None:
    """``value`` in [0, 1) (or [0, 1] with ``high_open=False``)."""
    check(name, value, low=0.0, high=1.0, high_open=high_open)


def one_of(name: str, value: Any, choices: tuple) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


def is_static_zero(value: Any) -> bool:
    """True only for a plain Python/NumPy number equal to 0.

    Factories use it to leave out a piece (``if weight_decay`` would fail on a
    traced value inside ``inject_hyperparams``); a jax array, even a concrete
    0, keeps the piece, so ``init`` and a traced ``update`` build the same chain.
    """
    if isinstance(value, (bool, int, float, np.number)):
        return float(value) == 0.0
    return False
