"""Small helpers shared by the MXNet-side optimizers (private)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from optjax import validation
from optjax.base import ScalarOrSchedule, is_schedule


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


def maybe_zero(value: Any) -> bool:
    """True only for a plain Python/NumPy 0 (see :func:`optjax.validation.is_static_zero`)."""
    return validation.is_static_zero(value)


def mxnet_clip(x: Any, c: Any) -> Any:
    """MXNet's ``clip(x, -c, c)`` elementwise, including its answer for ``c < 0``
    (``x > c ? c : (x < -c ? -c : x)``, as ``mx.nd.clip`` computes it)."""
    return jnp.where(x > c, c, jnp.where(x < -c, -c, x)).astype(x.dtype)
