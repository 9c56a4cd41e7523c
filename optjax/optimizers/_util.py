"""Small helpers shared by the optimizer files (not public)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from optjax import validation
from optjax.base import GradientTransformation, ScalarOrSchedule, is_schedule
from optjax.combine import chain
from optjax.transforms.scaling import scale, scale_by_learning_rate
from optjax.transforms.weight_decay import add_decayed_weights, decoupled_weight_decay


def is_zero(x: Any) -> bool:
    """True only for None or a plain Python/NumPy 0; any jax array (even a concrete 0,
    as ``inject_hyperparams.init`` passes), a tracer or a schedule is not zero.

    Lets a factory leave out a transform for a zero hyperparameter while staying
    usable inside ``inject_hyperparams`` (where the value is a tracer).
    """
    return x is None or validation.is_static_zero(x)


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
