"""Follow the regularized leader, FTRL-proximal (``mx.optimizer.Ftrl``).

Reference: McMahan et al., *Ad Click Prediction: a View from the Trenches*, KDD
2013; MXNet 1.9.1 ``FtrlUpdateKernel``.
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optjax import numerics, per_leaf, validation
from optjax.base import GradientTransformation, ScalarOrSchedule, value_at


class FtrlState(NamedTuple):
    """``z``: the accumulated linear term; ``n``: the sum of squared gradients."""

    count: jax.Array
    z: Any
    n: Any
    # the update reads the old n: optjax.update_and_apply orders its in-place write
    fields_read_by_update = ("n",)


def ftrl(
    learning_rate: ScalarOrSchedule = 0.1,
    l1: float = 0.01,
    beta: float = 1.0,
    *,
    weight_decay: Any = 0.0,
) -> GradientTransformation:
    """FTRL-proximal, MXNet's form (``Ftrl(lamda1=l1, learning_rate, beta, wd)``)::

        z <- z + g - (sqrt(n + g**2) - sqrt(n)) * w / lr
        n <- n + g**2
        w <- (sign(z) * l1 - z) / ((beta + sqrt(n)) / lr + wd)   where |z| > l1, else 0

    ``weight_decay`` is the L2 strength (in the denominator, not in the
    gradient). The new weight is computed from the state alone, so the update
    is ``w_new - w``.

    Args:
      learning_rate: ``lr > 0`` (alpha), float or schedule.
      l1: L1 strength ``>= 0`` (MXNet's ``lamda1``).
      beta: ``>= 0``.
      weight_decay: L2 strength ``>= 0``.

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.ftrl(0.1)
    >>> p = {"w": jnp.zeros(2)}
    >>> u, s = tx.update({"w": jnp.ones(2)}, tx.init(p), p)
    """
    validation.scalar("learning_rate", learning_rate)
    validation.positive("learning_rate", learning_rate)
    validation.non_negative("l1", l1)
    validation.non_negative("beta", beta)
    validation.non_negative("weight_decay", weight_decay)

    @jax.jit
    def leaf(g, p, z, n, *, lr):
        g2 = g * g
        z = z + g - (jnp.sqrt(n + g2) - jnp.sqrt(n)) * p / lr
        n = n + g2
        w_new = (jnp.sign(z) * l1 - z) / ((beta + jnp.sqrt(n)) / lr + weight_decay) * (jnp.abs(z) > l1)
        return w_new - p, (z, n)

    def init_fn(params):
        return FtrlState(count=numerics.zero_count(), z=per_leaf.zeros(params), n=per_leaf.zeros(params))

    def update_fn(updates, state, params=None, **extra_args):
        del extra_args
        updates, (z, n) = per_leaf.apply(leaf, updates, (state.z, state.n), params, name="ftrl",
                                         needs_params=True, lr=value_at(learning_rate, state.count))
        return updates, FtrlState(count=numerics.safe_increment(state.count), z=z, n=n)

    return GradientTransformation(init_fn, update_fn)
