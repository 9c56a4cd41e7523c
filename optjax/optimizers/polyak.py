"""Polyak step sizes: ``(f(x) - f*) / |g|^2`` (Loizou et al., 2021)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from optjax import tree_math, validation
from optjax.base import EmptyState, GradientTransformation, ScalarOrSchedule, init_empty_state
from optjax.combine import chain
from optjax.optimizers.momentum import sgd

POLYAK_VARIANTS = ("sps", "sps+")


def scale_by_polyak(f_min: float = 0.0, max_learning_rate: float = 1.0, eps: float = 0.0,
                    variant: str = "sps") -> GradientTransformation:
    r"""Scale by the Polyak step ``min((f - f_min) / (|g|^2 + eps), max_learning_rate)``
    (0 when ``|g|^2 + eps`` is below float epsilon). ``variant='sps+'`` clips
    ``f - f_min`` at 0. The update needs the loss: ``update(g, s, p, value=f)``.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.scale_by_polyak()
        >>> u, _ = tx.update({"w": jnp.array([2.0])}, tx.init(None), value=2.0)
        >>> float(u["w"][0])
        1.0

    Reference: Loizou et al., `Stochastic Polyak Step-size for SGD
    <https://arxiv.org/abs/2002.10542>`_, 2021.
    """
    validation.finite(f_min=f_min)
    validation.check("max_learning_rate", max_learning_rate, low=0.0, finite=False)
    validation.non_negative("eps", eps)
    if variant not in POLYAK_VARIANTS:
        raise ValueError(f"variant must be one of {POLYAK_VARIANTS}, got {variant!r}")

    def update_fn(updates, state: EmptyState, params=None, *, value, **extra_args):
        del params, extra_args
        sq = tree_math.norm(updates, squared=True)
        gap = jnp.array(value - f_min).astype(sq.dtype)
        if variant == "sps+":
            gap = jax.nn.relu(gap)
        step = jnp.where(sq + eps <= jnp.finfo(float).eps, jnp.array(0.0),
                         jnp.minimum(gap / (sq + eps), max_learning_rate))
        return tree_math.scale(step, updates), state

    return GradientTransformation(init_empty_state, update_fn)


def polyak_sgd(max_learning_rate: float = 1.0, scaling: ScalarOrSchedule = 1.0, f_min: float = 0.0,
               eps: float = 0.0, variant: str = "sps") -> GradientTransformation:
    """SGD with Polyak step sizes: ``sgd(scaling)`` then :func:`scale_by_polyak`
    (``optax.polyak_sgd``); pass ``value=loss`` to ``update``.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.polyak_sgd()
        >>> u, _ = tx.update({"w": jnp.array([2.0])}, tx.init({"w": jnp.zeros(1)}), value=2.0)
        >>> float(u["w"][0])
        -1.0
    """
    validation.learning_rate(scaling, name="scaling")
    return chain(sgd(learning_rate=scaling),
                 scale_by_polyak(max_learning_rate=max_learning_rate, f_min=f_min, eps=eps, variant=variant))
