"""Gradient noise: ``g + N(0, eta / t^gamma)`` (Neelakantan et al., 2015)."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from optjax import tree_math, validation
from optjax.base import GradientTransformation
from optjax.numerics import safe_increment


class AddNoiseState(NamedTuple):
    """Step count and the key for the next draw (optax's layout)."""

    count: jax.Array
    rng_key: jax.Array


def _canonical_key(key) -> jax.Array:
    if isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return key
    return jax.random.key(key)


def add_noise(eta: float, gamma: float, key: jax.Array | int | None = None, *,
              seed: int | None = None) -> GradientTransformation:
    r"""Add Gaussian noise of variance ``eta / t^gamma`` at step ``t`` (1-based):
    ``u = g + sqrt(eta / t^gamma) z``, ``z ~ N(0, I)``, one key per leaf split
    from the state's key (the same draws as ``optax.add_noise`` for the same key).

    ``key`` is a typed key or an int seed (``seed=`` is optax's deprecated spelling);
    omitted, it is 0.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.add_noise(0.0, 0.55, key=0)
        >>> u, s = tx.update({"w": jnp.ones(2)}, tx.init({"w": jnp.zeros(2)}))
        >>> u["w"].tolist(), int(s.count)
        ([1.0, 1.0], 1)

    Reference: Neelakantan et al., `Adding Gradient Noise Improves Learning for Very
    Deep Networks <https://arxiv.org/abs/1511.06807>`_, 2015.
    """
    validation.non_negative("eta", eta)
    validation.finite(gamma=gamma)
    if seed is not None:
        if key is not None:
            raise ValueError("add_noise: pass only one of key and seed")
        key = seed
    if key is None:
        key = 0

    def init_fn(params):
        del params
        return AddNoiseState(count=jnp.zeros([], jnp.int32), rng_key=_canonical_key(key))

    def update_fn(updates, state, params=None):
        del params
        count = safe_increment(state.count)
        std = jnp.sqrt(eta / count**gamma)
        rng_key, sample_key = jax.random.split(state.rng_key)
        noise = tree_math.random_like(sample_key, updates, sampler=jax.random.normal)
        return tree_math.add_scale(updates, std, noise), AddNoiseState(count=count, rng_key=rng_key)

    return GradientTransformation(init_fn, update_fn)
