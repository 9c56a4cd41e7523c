"""Small helpers shared by the optimizer files (not public)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from optjax import validation
from optjax.base import GradientTransformation, ScalarOrSchedule, is_schedule
from optjax.combine import chain
from optjax.transforms.scaling import scale, scale_by_learning_rate
from optjax.transforms.weight_decay import add_decayed_weights


def is_zero(x: Any) -> bool:
    """True only for None or a Python/NumPy number equal to 0.

    Lets a factory leave out a transform for a zero hyperparameter. A jax array
    (even a concrete one) is never "zero" here: inside ``inject_hyperparams``
    the factory is called with concrete arrays at ``init`` and with tracers at
    ``update``, and both calls must build the same chain.
    """
    return x is None or validation.is_static_zero(x)


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


def lr_at(learning_rate: ScalarOrSchedule, count: Any) -> Any:
    """The learning rate of the step whose (incremented) count is ``count``.

    A schedule is evaluated at ``count - 1`` (0 on the first update), the same
    convention as :func:`optjax.scale_by_learning_rate`.
    """
    if is_schedule(learning_rate):
        return jnp.asarray(learning_rate(count - 1))
    return learning_rate


def lr_step_fn(learning_rate: ScalarOrSchedule):
    """A ``leafwise`` ``step_fn`` giving the rule ``lr`` (no globals)."""

    def step_fn(*, count, **globals_):
        return dict(globals_), {"lr": lr_at(learning_rate, count)}

    return step_fn



def mxnet_clip(x: Any, c: Any) -> Any:
    """MXNet's ``clip(x, -c, c)`` elementwise, including its answer for ``c < 0``
    (``x > c ? c : (x < -c ? -c : x)``, as ``mx.nd.clip`` computes it)."""
    return jnp.where(x > c, c, jnp.where(x < -c, -c, x)).astype(x.dtype)
