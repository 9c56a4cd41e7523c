"""Small helpers shared by the optimizer files (not public)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from optjax import validation
from optjax.base import GradientTransformation, ScalarOrSchedule, is_schedule
from optjax.combine import chain
from optjax.transforms.scaling import scale, scale_by_learning_rate
from optjax.transforms.weight_decay import add_decayed_weights, decoupled_weight_decay


def is_zero(x: Any) -> bool:
    """True only for None or a Python/NumPy number equal to 0.

    Lets a factory leave out a transform for a zero hyperparameter. A jax array
    (even a concrete one) is never "zero" here: inside ``inject_hyperparams``
    the factory is called with concrete arrays at ``init`` and with tracers at
    ``update``, and both calls must build the same chain.
    """
    if x is None:
        return True
    if isinstance(x, bool) or not isinstance(x, (int, float, np.number)):
        return False
    return float(x) == 0.0


def concrete_nonzero(x: Any) -> bool:
    """True when ``x`` is concrete and not 0 (for argument checks)."""
    v = validation.concrete_float(x)
    return v is not None and v != 0.0


def with_decay(
    core: GradientTransformation,
    learning_rate: ScalarOrSchedule,
    weight_decay: ScalarOrSchedule = 0.0,
    *,
    decoupled: bool = False,
    maximize: bool = False,
    mask: Any = None,
) -> GradientTransformation:
    """``[-g] -> [+wd*p (coupled)] -> core -> [+wd*p (decoupled)] -> -lr``.

    Coupled decay adds ``wd * p`` to the gradient before the rule (torch's
    ``weight_decay``); decoupled adds it after the rule and before the learning
    rate, so the step is ``p <- p - lr * (u + wd * p)`` (torch's AdamW and
    ``decoupled_weight_decay=True``: ``p <- p * (1 - lr * wd) - lr * u``).
    """
    validation.non_negative("weight_decay", weight_decay)
    parts = [scale(-1.0)] if maximize else []
    wd = [] if is_zero(weight_decay) else [add_decayed_weights(weight_decay, mask)]
    if decoupled:
        parts += [core, *wd]
    else:
        parts += [*wd, core]
    parts.append(scale_by_learning_rate(learning_rate))
    return chain(*parts)


def f32_scalar(value: float) -> Any:
    return jnp.asarray(value, jnp.float32)


__all__ = ["is_zero", "with_decay", "decoupled_weight_decay"]


def bias_correction(decay: Any, count: Any, dtype: Any = jnp.float32) -> Any:
    """``1 - decay**t`` computed without cancellation: ``-expm1(t * log1p(-(1 - decay)))``.

    ``1 - decay`` is taken in Python double precision when ``decay`` is a
    number, so ``b2 = 0.999`` does not lose 1e-5 relative to float32 rounding
    (``1 - float32(0.999)**1`` is off by 1.3e-5; torch computes these scalars
    in double). ``count`` is the step t (1, 2, ...).
    """
    omd = 1.0 - decay  # Python float if decay is concrete, else traced
    t = jnp.asarray(count).astype(dtype)
    return -jnp.expm1(t * jnp.log1p(-jnp.asarray(omd, dtype)))


def power(decay: Any, count: Any, dtype: Any = jnp.float32) -> Any:
    """``decay**t`` (same accuracy as :func:`bias_correction`)."""
    return 1.0 - bias_correction(decay, count, dtype)
