"""Delay-compensated asynchronous SGD (``mx.optimizer.DCASGD``).

Reference: Zheng et al., *Asynchronous Stochastic Gradient Descent with Delay
Compensation*, ICML 2017; MXNet 1.9.1 ``optimizer.py:1375-1429``.
"""

from typing import Any, NamedTuple

import jax

from optjax import numerics, per_leaf, validation
from optjax.base import GradientTransformation, ScalarOrSchedule, value_at


class DcasgdState(NamedTuple):
    """``previous``: the weights before the last step; ``velocity``: the momentum
    buffer in MXNet's sign (None without momentum)."""

    count: jax.Array
    previous: Any
    velocity: Any
    # the update reads the old previous: optjax.update_and_apply orders its in-place write
    fields_read_by_update = ("previous",)


def dcasgd(
    learning_rate: ScalarOrSchedule = 0.01,
    momentum: float = 0.0,
    lamda: float = 0.04,
    *,
    weight_decay: Any = 0.0,
    accumulator_dtype: Any = None,
) -> GradientTransformation:
    """DC-ASGD: SGD whose gradient is corrected by ``lamda * g*g*(w - w_prev)``::

        step = -lr * (g + wd * w + lamda * g * g * (w - w_prev))
        v    = mu * v + step            (momentum > 0; else v = step)
        w_prev <- w ;  w <- w + v

    ``w_prev`` starts as a copy of the initial params (so the first step is
    plain SGD). With ``momentum > 0`` MXNet 1.9.1 crashes (``if mom:`` on an
    NDArray); this implements what its code intends, the formula above.

    Args:
      learning_rate: ``lr >= 0``, float or schedule.
      momentum: ``mu`` in [0, 1].
      lamda: delay-compensation strength ``>= 0`` (MXNet's spelling).
      weight_decay: coupled L2 coefficient ``>= 0``.
      accumulator_dtype: dtype of the velocity.

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.dcasgd(0.1)
    >>> p = {"w": jnp.ones(2)}
    >>> u, s = tx.update({"w": jnp.ones(2)}, tx.init(p), p)
    """
    validation.learning_rate(learning_rate)
    validation.check("momentum", momentum, low=0.0, high=1.0)
    validation.non_negative("lamda", lamda)
    validation.non_negative("weight_decay", weight_decay)
    # Only a static 0 drops the velocity: an injected momentum is a concrete
    # array at init and a tracer at update, and both must build the same state.
    has_momentum = not validation.is_static_zero(momentum)

    @jax.jit
    def leaf(g, p, previous, velocity, *, lr):
        step = -lr * (g + weight_decay * p + lamda * g * g * (p - previous))
        if has_momentum:
            velocity = momentum * velocity + step
            step = velocity
        return step, (p, velocity)

    def init_fn(params):
        velocity = per_leaf.zeros(params, accumulator_dtype) if has_momentum else per_leaf.nothing(params)
        return DcasgdState(count=numerics.zero_count(), previous=per_leaf.copy(params), velocity=velocity)

    def update_fn(updates, state, params=None, **extra_args):
        del extra_args
        updates, (previous, velocity) = per_leaf.apply(
            leaf, updates, (state.previous, state.velocity), params, name="dcasgd", needs_params=True,
            lr=value_at(learning_rate, state.count))
        return updates, DcasgdState(numerics.safe_increment(state.count), previous, velocity)

    return GradientTransformation(init_fn, update_fn)
