"""Checks of hyperparameters at construction, with errors that name the argument.

Only concrete values are checked: a traced value (inside ``inject_hyperparams``
or ``jit``) or a schedule passes through, since it cannot be inspected.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import numpy as np


def concrete_float(value: Any) -> float | None:
    """``value`` as a Python float, or None if it is traced or a schedule."""
    if callable(value) or value is None or isinstance(value, jax.core.Tracer):
        return None
    try:
        arr = np.asarray(value)
    except Exception:  # noqa: BLE001 - anything not array-like is not checked here
        return None
    if arr.ndim != 0 or not np.issubdtype(arr.dtype, np.number):
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

    ``low``/``high`` are inclusive bounds unless ``low_open``/``high_open``.
    Schedules are checked at step 0 when they can be evaluated concretely.
    """
    if callable(value) and not isinstance(value, jax.Array):
        try:
            value = value(0)
        except Exception:  # noqa: BLE001 - a schedule that needs tracing is not checked
            return
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
