"""Follow the regularized leader, FTRL-proximal (``mx.optimizer.Ftrl``).

Reference: McMahan et al., *Ad Click Prediction: a View from the Trenches*, KDD
2013; MXNet 1.9.1 ``FtrlUpdateKernel``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optjax import validation
from optjax.base import GradientTransformation, ScalarOrSchedule
from optjax.leafwise import leafwise, zeros
from optjax.optimizers._util import lr_step_fn


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
    validation.positive("learning_rate", learning_rate)
    validation.non_negative("l1", l1)
    validation.non_negative("beta", beta)
    validation.non_negative("weight_decay", weight_decay)

    def rule(g, p, *, count, z, n, lr):
        del count
        g2 = g * g
        z = z + g - (jnp.sqrt(n + g2) - jnp.sqrt(n)) * p / lr
        n = n + g2
        w_new = (jnp.sign(z) * l1 - z) / ((beta + jnp.sqrt(n)) / lr + weight_decay) * (jnp.abs(z) > l1)
        return w_new - p, {"z": z, "n": n}

    return leafwise(rule, FtrlState, {"z": zeros(), "n": zeros()}, name="ftrl",
                    needs_params=True, step_fn=lr_step_fn(learning_rate))
