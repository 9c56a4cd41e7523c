"""MXNet's Nesterov accelerated gradient (``mx.optimizer.NAG``).

Reference: Nesterov, *A method of solving a convex programming problem with
convergence rate O(1/k^2)*, 1983; Sutskever et al., *On the importance of
initialization and momentum in deep learning*, 2013. MXNet 1.9.1
``NAGMomKernel`` (``src/operator/optimizer_op-inl.h``).
"""

from typing import Any, NamedTuple

import jax

from optjax import numerics, per_leaf, validation
from optjax.base import GradientTransformation, ScalarOrSchedule, value_at


class NagState(NamedTuple):
    """``velocity``: MXNet's momentum buffer, in MXNet's sign (it is *added* to
    the weight: ``mom <- mu * mom - lr * G``)."""

    count: jax.Array
    velocity: Any
    # the update reads the old velocity: optjax.update_and_apply orders its in-place write
    fields_read_by_update = ("velocity",)


def nag(
    learning_rate: ScalarOrSchedule = 0.01,
    momentum: float = 0.9,
    *,
    weight_decay: Any = 0.0,
    wd_on_updated_weight: bool = False,
    accumulator_dtype: Any = None,
) -> GradientTransformation:
    """Nesterov momentum in MXNet's form, with coupled weight decay.

    With ``G = g + wd * w``::

        v'  = mu * v - lr * G
        w'  = w + mu * v' - lr * G          # = w - mu*v + (mu+1)*(mu*v - lr*G)

    ``wd_on_updated_weight=True`` reproduces MXNet 1.9.1's ``nag_mom_update``
    exactly: its output aliases the weight, so the stored momentum reads the
    *updated* weight in its decay term, ``v' = mu * v - lr * (g + wd * w')``
    (the step taken, ``w'``, is the same). With ``wd = 0`` both agree.

    Args:
      learning_rate: ``lr >= 0``, float or schedule (0-based step).
      momentum: ``mu`` in [0, 1]. MXNet's default is 0 (plain SGD).
      weight_decay: coupled L2 coefficient ``wd >= 0`` (may be a traced scalar).
      wd_on_updated_weight: MXNet's aliasing quirk (see above).
      accumulator_dtype: dtype of the velocity (default: the param's).

    The velocity has MXNet's sign (``-lr *`` a torch/optax momentum buffer).

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.nag(0.1, momentum=0.9)
    >>> p = {"w": jnp.ones(2)}
    >>> u, s = tx.update({"w": jnp.ones(2)}, tx.init(p), p)
    >>> u["w"]
    Array([-0.19, -0.19], dtype=float32)
    """
    validation.learning_rate(learning_rate)
    validation.check("momentum", momentum, low=0.0, high=1.0)
    validation.non_negative("weight_decay", weight_decay)
    no_wd = validation.is_static_zero(weight_decay)

    @jax.jit
    def leaf(g, p, velocity, *, lr):
        G = g if no_wd else g + weight_decay * p
        m1 = momentum * velocity
        u = (momentum + 1.0) * (m1 - lr * G) - m1
        if wd_on_updated_weight and not no_wd:
            velocity = m1 - lr * (g + weight_decay * (p + u))
        else:
            velocity = m1 - lr * G
        return u, (velocity,)

    def init_fn(params):
        return NagState(count=numerics.zero_count(), velocity=per_leaf.zeros(params, accumulator_dtype))

    def update_fn(updates, state, params=None, **extra_args):
        del extra_args
        updates, (velocity,) = per_leaf.apply(leaf, updates, (state.velocity,), params, name="nag",
                                              needs_params=not no_wd, lr=value_at(learning_rate, state.count))
        return updates, NagState(count=numerics.safe_increment(state.count), velocity=velocity)

    return GradientTransformation(init_fn, update_fn)
