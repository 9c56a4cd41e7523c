"""Lion: sign of an interpolated momentum.

Reference: Chen et al., *Symbolic Discovery of Optimization Algorithms*, 2023.
"""

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


_LION_MODES = ("hard", "smooth", "refined")


def scale_by_lion(b1: float = 0.9, b2: float = 0.99, mu_dtype: Any = None, *,
                  mode: str = "hard", smooth_beta: float = 1.0) -> GradientTransformation:
    """``u = s((1 - b1) g + b1 m)``; ``m <- (1 - b2) g + b2 m`` (optax's options).

    ``s`` is chosen by ``mode``: ``"hard"`` ``sign(x)`` (Lion), ``"smooth"``
    ``tanh(smooth_beta * x)``, ``"refined"`` ``x`` where ``|x| < 1`` else ``sign(x)``.

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.scale_by_lion(mode="refined")
    >>> tx.update({"w": jnp.array([0.5, 20.0])}, tx.init({"w": jnp.zeros(2)}))[0]["w"].tolist()
    [0.05000000074505806, 1.0]
    """
    validation.unit_interval("b1", b1, high_open=False)
    validation.unit_interval("b2", b2, high_open=False)
    validation.finite(smooth_beta=smooth_beta)

    def squash(x):
        if mode == "smooth":
            return jnp.tanh(smooth_beta * x)
        if mode == "refined":
            return jnp.where(jnp.abs(x) < 1.0, x, jnp.sign(x))
        return jnp.sign(x)

    @jax.jit
    def leaf(g, p, mu):
        del p
        u = squash((1.0 - b1) * g + b1 * mu)
        return u, ((1.0 - b2) * g + b2 * mu,)

    def init_fn(params):
        return ScaleByLionState(count=numerics.zero_count(), mu=per_leaf.zeros(params, mu_dtype))

    def update_fn(updates, state, params=None, **extra_args):
        del params, extra_args
        if mode not in _LION_MODES:  # raised where optax raises it: at the update, before any state changes
            raise ValueError(f"scale_by_lion: mode must be one of {list(_LION_MODES)}, got {mode!r}")
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
