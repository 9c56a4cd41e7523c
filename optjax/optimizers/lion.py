"""Lion: sign of an interpolated momentum.

Reference: Chen et al., *Symbolic Discovery of Optimization Algorithms*, 2023.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optjax import numerics, per_leaf, validation
from optjax.base import GradientTransformation, ScalarOrSchedule
from optjax.optimizers._util import with_decay


class ScaleByLionState(NamedTuple):
    count: jax.Array
    mu: Any
    # the update reads the old mu: optjax.update_and_apply orders its in-place write
    fields_read_by_update = ("mu",)


def scale_by_lion(b1: float = 0.9, b2: float = 0.99, mu_dtype: Any = None) -> GradientTransformation:
    """``u = sign((1 - b1) g + b1 m)``; ``m <- (1 - b2) g + b2 m``."""
    validation.unit_interval("b1", b1, high_open=False)
    validation.unit_interval("b2", b2, high_open=False)

    @jax.jit
    def leaf(g, p, mu):
        del p
        u = jnp.sign((1.0 - b1) * g + b1 * mu)
        return u, ((1.0 - b2) * g + b2 * mu,)

    def init_fn(params):
        return ScaleByLionState(count=numerics.zero_count(), mu=per_leaf.zeros(params, mu_dtype))

    def update_fn(updates, state, params=None, **extra_args):
        del params, extra_args
        updates, (mu,) = per_leaf.apply(leaf, updates, (state.mu,))
        return updates, ScaleByLionState(count=numerics.safe_increment(state.count), mu=mu)

    return GradientTransformation(init_fn, update_fn)


def lion(
    learning_rate: ScalarOrSchedule = 1e-4,
    b1: float = 0.9,
    b2: float = 0.99,
    mu_dtype: Any = None,
    weight_decay: float = 1e-3,
    mask: Any = None,
) -> GradientTransformation:
    """Lion with decoupled weight decay: ``p <- p - lr * (sign(...) + wd * p)``
    (optax's signature and defaults).

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.lion(1e-4)
    >>> p = {"w": jnp.ones(2)}
    >>> u, s = tx.update({"w": jnp.ones(2)}, tx.init(p), p)
    """
    return with_decay(scale_by_lion(b1, b2, mu_dtype), learning_rate, weight_decay,
                      decoupled=True, mask=mask)
