"""Transforms that change the layout of the arrays an inner transform sees (optax's ``flatten``)."""

from __future__ import annotations

from jax.flatten_util import ravel_pytree

from optjax.base import GradientTransformation, call_update


def flatten(inner: GradientTransformation) -> GradientTransformation:
    """Run ``inner`` on one vector: all leaves raveled and concatenated (``jax.flatten_util.ravel_pytree``).

    Fewer, larger arrays cut the per-leaf overhead of many small params; ``inner``'s state
    holds vectors of the total size. The updates come back in the params' tree and shapes.

    Example:
        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.flatten(optjax.sgd(0.1))
        >>> params = {"w": jnp.ones((2, 2)), "b": jnp.ones(2)}
        >>> updates, _ = tx.update(params, tx.init(params))
        >>> updates["w"].shape
        (2, 2)
    """

    def init_fn(params):
        return inner.init(ravel_pytree(params)[0])

    def update_fn(updates, state, params=None, **extra_args):
        flat, unravel = ravel_pytree(updates)
        flat_params = None if params is None else ravel_pytree(params)[0]
        flat, state = call_update(inner, flat, state, flat_params, extra_args)
        return unravel(flat), state

    return GradientTransformation(init_fn, update_fn)
