"""Follow the Moving Leader (``mx.optimizer.FTML``).

Reference: Zheng and Kwok, *Follow the Moving Leader in Deep Learning*, ICML
2017; MXNet 1.9.1 ``FTMLKernel``.
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optjax import numerics, per_leaf, validation
from optjax.base import GradientTransformation, ScalarOrSchedule, value_at
from optjax.optimizers._util import bias_correction


class FtmlState(NamedTuple):
    """``d``, ``v``, ``z`` of the FTML recursion (one leaf per param)."""

    count: jax.Array
    d: Any
    v: Any
    z: Any
    # the update reads the old d: optjax.update_and_apply orders its in-place write
    fields_read_by_update = ("d",)


def ftml(
    learning_rate: ScalarOrSchedule = 0.0025,
    b1: float = 0.6,
    b2: float = 0.999,
    eps: float = 1e-8,
    *,
    weight_decay: Any = 0.0,
) -> GradientTransformation:
    """FTML. With ``t`` the step (1, 2, ...) and ``g <- g + wd * w``::

        v   <- b2 * v + (1 - b2) * g**2
        d_t  = (1 - b1**t) / lr * (sqrt(v / (1 - b2**t)) + eps)
        z   <- b1 * z + (1 - b1) * g - (d_t - b1 * d) * w
        d   <- d_t
        w   <- -z / d_t

    Args:
      learning_rate: ``lr > 0``, float or schedule (MXNet's default is 0.01,
        the paper's 0.0025).
      b1, b2: decays in [0, 1) (MXNet's ``beta1`` 0.6, ``beta2`` 0.999).
      eps: ``>= 0`` (MXNet's ``epsilon``).
      weight_decay: coupled L2 ``>= 0``.

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.ftml(0.01)
    >>> p = {"w": jnp.ones(2)}
    >>> u, s = tx.update({"w": jnp.ones(2)}, tx.init(p), p)
    """
    validation.scalar("learning_rate", learning_rate)
    validation.positive("learning_rate", learning_rate)
    validation.unit_interval("b1", b1)
    validation.unit_interval("b2", b2)
    validation.non_negative("eps", eps)
    validation.non_negative("weight_decay", weight_decay)
    no_wd = validation.is_static_zero(weight_decay)

    @jax.jit
    def leaf(g, p, d, v, z, *, count, lr):
        t = count.astype(g.dtype)
        if not no_wd:
            g = g + weight_decay * p
        v = b2 * v + (1.0 - b2) * g * g
        d_t = bias_correction(b1, count, t.dtype) / lr * (jnp.sqrt(v / bias_correction(b2, count, t.dtype)) + eps)
        z = b1 * z + (1.0 - b1) * g - (d_t - b1 * d) * p
        w_new = -z / d_t
        return w_new - p, (d_t, v, z)

    def init_fn(params):
        return FtmlState(count=numerics.zero_count(), d=per_leaf.zeros(params), v=per_leaf.zeros(params),
                         z=per_leaf.zeros(params))

    def update_fn(updates, state, params=None, **extra_args):
        del extra_args
        count = numerics.safe_increment(state.count)
        updates, (d, v, z) = per_leaf.apply(leaf, updates, (state.d, state.v, state.z), params, name="ftml",
                                            needs_params=True, count=count, lr=value_at(learning_rate, state.count))
        return updates, FtmlState(count=count, d=d, v=v, z=z)

    return GradientTransformation(init_fn, update_fn)
