"""Group AdaGrad: one accumulator per row (``mx.optimizer.contrib.GroupAdaGrad``).

Reference: Duchi, Hazan and Singer, *Adaptive Subgradient Methods*, JMLR 2011
(row-wise variant for embeddings); MXNet 1.9.1 ``optimizer/contrib.py:30-100``.
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optjax import numerics, per_leaf, validation
from optjax.base import GradientTransformation, ScalarOrSchedule, value_at
from optjax.tree import flatten_with_names, full_mirroring, is_absent, tree_map_none


class GroupAdagradState(NamedTuple):
    """``sum_of_squares``: per row, shape ``(rows, 1)`` for a ``(rows, cols)`` leaf."""

    count: jax.Array
    sum_of_squares: Any


def group_adagrad(
    learning_rate: ScalarOrSchedule = 0.01,
    eps: float = 1e-5,
    *,
    initial_accumulator_value: float = 0.0,
) -> GradientTransformation:
    """AdaGrad with one history value per row of a 2-D weight::

        h <- h + mean(g**2, axis=1, keepdims=True)        # shape (rows, 1)
        w <- w - lr * g / sqrt(h + eps)

    Every leaf must be 2-D (an embedding table, a dense kernel); any other is
    a ValueError naming the leaf. MXNet's class has no weight decay (it
    asserts ``wd == 0``).

    Args:
      learning_rate: ``lr >= 0``, float or schedule.
      eps: ``>= 0``, inside the square root.
      initial_accumulator_value: starting ``h``, ``>= 0`` (MXNet: 0).

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.group_adagrad(0.1)
    >>> p = {"emb": jnp.ones((3, 2))}
    >>> u, s = tx.update({"emb": jnp.ones((3, 2))}, tx.init(p), p)
    >>> s.sum_of_squares["emb"].shape
    (3, 1)
    """
    validation.learning_rate(learning_rate)
    validation.non_negative("eps", eps)
    validation.non_negative("initial_accumulator_value", initial_accumulator_value)

    @jax.jit
    def leaf(g, p, sum_of_squares, *, lr):
        del p
        h = sum_of_squares + jnp.mean(g * g, axis=1, keepdims=True)
        return -lr * g / jnp.sqrt(h + eps), (h,)

    def h_init(p):
        # From the param's first column, so the (rows, 1) history follows the
        # param's row sharding (a fresh jnp.full would be replicated under jit).
        return full_mirroring(p[:, :1], initial_accumulator_value)

    def init_fn(params):
        _check_2d(params)
        return GroupAdagradState(count=numerics.zero_count(), sum_of_squares=tree_map_none(h_init, params))

    def update_fn(updates, state, params=None, **extra_args):
        del params, extra_args
        _check_2d(updates)
        updates, (h,) = per_leaf.apply(leaf, updates, (state.sum_of_squares,), state_like_params=False,
                                       lr=value_at(learning_rate, state.count))
        return updates, GroupAdagradState(count=numerics.safe_increment(state.count), sum_of_squares=h)

    return GradientTransformation(init_fn, update_fn)


def _check_2d(tree):
    names, leaves, _ = flatten_with_names(tree)
    for n, x in zip(names, leaves):
        if not is_absent(x) and getattr(x, "ndim", 2) != 2:
            raise ValueError(f"group_adagrad needs 2-D leaves; '{n}' has shape {tuple(x.shape)}")
