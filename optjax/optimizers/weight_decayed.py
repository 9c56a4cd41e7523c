"""Decoupled-weight-decay variants of existing optimizers, with optax's names."""

from typing import Any, Optional

import jax.numpy as jnp

from optjax import tree_math, validation
from optjax.base import EmptyState, GradientTransformation, NO_PARAMS_MSG, ScalarOrSchedule
from optjax.numerics import safe_increment
from optjax.combine import chain
from optjax.optimizers.adam import adamw
from optjax.optimizers.adaptive import scale_by_adamax
from optjax.optimizers.lamb import scale_by_trust_ratio
from optjax.transforms import add_decayed_weights, scale_by_learning_rate
from optjax.transforms.weight_decay import WeightDecaySchedule


def nadamw(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
           eps_root: float = 0.0, mu_dtype: Optional[Any] = None, weight_decay: ScalarOrSchedule = 1e-4,
           mask: Any = None) -> GradientTransformation:
    """NAdamW: :func:`optjax.adamw` with Nesterov momentum (``optax.nadamw``).

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.nadamw(0.1)
        >>> p = {"w": jnp.zeros(1)}
        >>> u, _ = tx.update({"w": jnp.array([2.0])}, tx.init(p), p)
        >>> round(float(u["w"][0]), 3)
        -0.1
    """
    return adamw(learning_rate, b1=b1, b2=b2, eps=eps, eps_root=eps_root, mu_dtype=mu_dtype,
                 weight_decay=weight_decay, mask=mask, nesterov=True)


def adamaxw(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
            weight_decay: ScalarOrSchedule = 1e-4, mask: Any = None) -> GradientTransformation:
    """AdamaxW: Adamax's direction, decoupled weight decay, ``-learning_rate`` (``optax.adamaxw``).

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.adamaxw(0.1)
        >>> p = {"w": jnp.zeros(1)}
        >>> u, _ = tx.update({"w": jnp.array([2.0])}, tx.init(p), p)
        >>> round(float(u["w"][0]), 3)
        -0.1
    """
    return chain(scale_by_adamax(b1=b1, b2=b2, eps=eps), add_decayed_weights(weight_decay, mask),
                 scale_by_learning_rate(learning_rate))


def fromage(learning_rate: ScalarOrSchedule, min_norm: float = 1e-6) -> GradientTransformation:
    r"""Fromage (Bernstein et al., 2020): ``p <- (p - lr |p| / |g| g) / sqrt(1 + lr^2)``,
    as ``optax.fromage``: trust ratio, ``-lr / sqrt(1 + lr^2)``, and weight decay
    ``1 / sqrt(1 + lr^2) - 1``.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.fromage(0.1)
        >>> p = {"w": jnp.array([3.0, 4.0])}
        >>> u, _ = tx.update({"w": jnp.array([0.0, 1.0])}, tx.init(p), p)
        >>> [round(x, 4) for x in u["w"].tolist()]
        [-0.0149, -0.5174]

    Reference: Bernstein et al., `On the distance between two neural networks and the
    stability of learning <https://arxiv.org/abs/2002.03432>`_, 2020.
    """
    validation.learning_rate(learning_rate)
    if not callable(learning_rate):
        mult = 1 / (1 + learning_rate**2) ** 0.5
        return chain(scale_by_trust_ratio(min_norm), scale_by_learning_rate(learning_rate * mult),
                     _add_scaled_params(mult - 1))

    def mult_lr(c):
        return 1 / (1 + learning_rate(c) ** 2) ** 0.5

    return chain(scale_by_trust_ratio(min_norm), scale_by_learning_rate(lambda c: mult_lr(c) * learning_rate(c)),
                 _add_scaled_params(lambda c: mult_lr(c) - 1))


def _add_scaled_params(coef: ScalarOrSchedule) -> GradientTransformation:
    """``u + coef * p`` with a coefficient of any sign (fromage's is negative, which
    :func:`optjax.add_decayed_weights` rejects as a weight decay); optax's state layout."""
    scheduled = callable(coef)

    def init_fn(params):
        del params
        return WeightDecaySchedule(count=jnp.zeros([], jnp.int32)) if scheduled else EmptyState()

    def update_fn(updates, state, params=None):
        if params is None:
            raise ValueError(NO_PARAMS_MSG)
        if scheduled:
            return tree_math.add_scale(updates, coef(state.count), params), \
                WeightDecaySchedule(count=safe_increment(state.count))
        return tree_math.add_scale(updates, coef, params), state

    return GradientTransformation(init_fn, update_fn)
