"""Small helpers shared by the optimizer files (not public)."""

from typing import Any

import jax.numpy as jnp

from optjax import validation
from optjax.base import GradientTransformation, ScalarOrSchedule
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
    core: GradientTransformation | None,
    learning_rate: ScalarOrSchedule,
    weight_decay: ScalarOrSchedule = 0.0,
    *,
    decoupled: bool = False,
    maximize: bool = False,
    mask: Any = None,
    weight_decay_mult: Any = None,
    keep_zero_decay: bool = False,
    momentum: GradientTransformation | None = None,
    lr_in_momentum_buffer: bool = False,
) -> GradientTransformation:
    """The chain around an optimizer's rule, the same for every optimizer::

        [-g] -> [+wd*p (coupled)] -> core -> [+wd*p (decoupled)] -> -lr
                                          -> [momentum -> -lr | -lr -> momentum]

    Coupled decay adds ``wd * p`` to the gradient before the rule (torch's
    ``weight_decay``); decoupled adds it after the rule and before the learning
    rate, so the step is ``p <- p - lr * (u + wd * p)`` (torch's AdamW and
    ``decoupled_weight_decay=True``: ``p <- p * (1 - lr * wd) - lr * u``).
    ``mask`` / ``weight_decay_mult`` select or scale the decay per leaf (see
    :func:`optjax.add_decayed_weights`). A static zero ``weight_decay`` leaves
    the decay stage out unless ``keep_zero_decay`` (optax's ``adamw`` keeps it).

    ``momentum`` (a :func:`optjax.trace` or identity) runs after the rule and
    the decay; the learning rate is applied after it, or before it with
    ``lr_in_momentum_buffer`` (MXNet's and optax's RMSprop buffer convention).
    """
    validation.non_negative("weight_decay", weight_decay)
    parts = [scale(-1.0)] if maximize else []
    wd = []
    if keep_zero_decay or not is_zero(weight_decay):
        wd = [add_decayed_weights(weight_decay, mask, weight_decay_mult=weight_decay_mult)]
    rule = [] if core is None else [core]
    parts += [*rule, *wd] if decoupled else [*wd, *rule]
    lr = scale_by_learning_rate(learning_rate)
    if momentum is None:
        parts.append(lr)
    else:
        parts += [lr, momentum] if lr_in_momentum_buffer else [momentum, lr]
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
