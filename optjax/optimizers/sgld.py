"""Stochastic gradient Langevin dynamics (``mx.optimizer.SGLD``).

Reference: Welling and Teh, *Bayesian Learning via Stochastic Gradient Langevin
Dynamics*, ICML 2011; MXNet 1.9.1 ``optimizer.py:1509-1536``.
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optjax import numerics, per_leaf, validation
from optjax.base import GradientTransformation, ScalarOrSchedule, value_at
from optjax.tree import is_none


class SgldState(NamedTuple):
    """``key``: the PRNG key the next step's noise is drawn from."""

    count: jax.Array
    key: jax.Array


def sgld(
    learning_rate: ScalarOrSchedule = 0.01,
    *,
    weight_decay: Any = 0.0,
    key: Any = None,
) -> GradientTransformation:
    """SGLD: half a gradient step plus Gaussian noise of variance ``lr``::

        w <- w - lr/2 * (g + wd * w) + N(0, lr)

    The noise comes from ``key`` (a ``jax.random.key``/``PRNGKey`` or an int
    seed), carried in the state and split every step; each leaf draws from its
    own fold of the step key, so results do not depend on leaf order. MXNet
    draws from its own RNG, so only the distribution can match MXNet.

    Args:
      learning_rate: ``lr >= 0``, float or schedule.
      weight_decay: coupled L2 coefficient ``>= 0``.
      key: required; a missing key is a ValueError.

    >>> import jax, jax.numpy as jnp, optjax
    >>> tx = optjax.sgld(0.01, key=jax.random.key(0))
    >>> p = {"w": jnp.ones(2)}
    >>> u, s = tx.update({"w": jnp.ones(2)}, tx.init(p), p)
    """
    if key is None:
        raise ValueError(
            "sgld needs a PRNG key for its Langevin noise: pass key=jax.random.key(seed) "
            "(or an int seed), e.g. optjax.sgld(0.01, key=jax.random.key(0))"
        )
    if isinstance(key, int):
        key = jax.random.key(key)
    validation.learning_rate(learning_rate)
    validation.non_negative("weight_decay", weight_decay)
    no_wd = validation.is_static_zero(weight_decay)

    @jax.jit
    def leaf(g, p, index, *, lr, step_key):
        G = g if no_wd else g + weight_decay * p
        noise = jax.random.normal(jax.random.fold_in(step_key, index), g.shape, g.dtype)
        return -lr / 2.0 * G + jnp.sqrt(jnp.asarray(lr, g.dtype)) * noise, (index,)

    def init_fn(params):
        del params
        return SgldState(count=numerics.zero_count(), key=jnp.array(key, copy=True))  # a step may donate it

    def update_fn(updates, state, params=None, **extra_args):
        del extra_args
        new_key, step_key = jax.random.split(state.key)
        # each leaf draws from its own fold of the step key: the leaf's position
        leaves, treedef = jax.tree.flatten(updates, is_leaf=is_none)
        index = treedef.unflatten(range(len(leaves)))
        updates, _ = per_leaf.apply(leaf, updates, (index,), params, name="sgld", needs_params=not no_wd,
                                    lr=value_at(learning_rate, state.count), step_key=step_key)
        return updates, SgldState(count=numerics.safe_increment(state.count), key=new_key)

    return GradientTransformation(init_fn, update_fn)
