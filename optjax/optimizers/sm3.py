"""SM3: memory-efficient adaptive optimization with per-axis accumulators (Anil et al., 2019)."""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from optjax import tree_math, validation
from optjax.base import GradientTransformation, Updates
from optjax.combine import chain
from optjax.transforms import scale


class ScaleBySM3State(NamedTuple):
    """``mu``: per leaf, one accumulator vector per axis; ``nu``: the momentum."""

    mu: Updates
    nu: Updates


def _zeros_like_axis(x, axis: int) -> jax.Array:
    return jnp.zeros((x.shape[axis],), x.dtype)


def scale_by_sm3(b1: float = 0.9, b2: float = 1.0, eps: float = 1e-8) -> GradientTransformation:
    r"""SM3's rescaling (optax's ``scale_by_sm3``). For a leaf of rank ``r >= 2`` with
    per-axis accumulators ``mu_i``::

        a   = (1 - b2) g^2 + b2 min_i mu_i (broadcast)      (b2 = 1: g^2 + min_i mu_i)
        u   = g / sqrt(a + eps)   (0 where a = 0)
        nu  = b1 nu + (1 - b1) u
        mu_i = max of a over all axes but i

    A leaf of rank < 2 keeps a full accumulator. The update is ``nu``.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.scale_by_sm3()
        >>> p = {"w": jnp.zeros((2, 2))}
        >>> u, s = tx.update({"w": jnp.ones((2, 2))}, tx.init(p))
        >>> [x.shape for x in s.mu["w"]], round(float(u["w"][0, 0]), 4)
        ([(2,), (2,)], 0.1)

    Reference: Anil et al., `Memory-Efficient Adaptive Optimization
    <https://arxiv.org/abs/1901.11150>`_, 2019.
    """
    validation.unit_interval("b1", b1, high_open=False)
    validation.unit_interval("b2", b2, high_open=False)
    validation.non_negative("eps", eps)

    def init_fn(params):
        for p in jax.tree.leaves(params):
            if jnp.iscomplexobj(p):
                raise ValueError("scale_by_sm3 does not support complex parameters")
        mu = jax.tree.map(lambda p: [_zeros_like_axis(p, i) for i in range(p.ndim)], params)
        return ScaleBySM3State(mu, tree_math.zeros_like(params))

    def expanded(shape, axis):
        return [1] * axis + [shape[axis]] + [1] * (len(shape) - axis - 1)

    def new_accum(g, v):
        c0 = (1.0 - b2) if b2 != 1.0 else 1.0
        if g.ndim < 2:
            return c0 * g**2 + b2 * v[0]
        return c0 * g**2 + b2 * functools.reduce(jnp.minimum, v)

    def new_mu(g, i):
        if g.ndim < 2:
            return g
        return jnp.max(g, axis=[a for a in range(g.ndim) if a != i])

    def update_fn(updates, state, params=None):
        del params
        mu = jax.tree.map(lambda g, v: [jnp.reshape(v[i], expanded(g.shape, i)) for i in range(g.ndim)],
                          updates, state.mu)
        accum = jax.tree.map(new_accum, updates, mu)
        inv = jax.tree.map(lambda t: jnp.where(t > 0, jax.lax.rsqrt(t + eps), 0.0), accum)
        up = jax.tree.map(lambda g, a: g * a, updates, inv)
        nu = tree_math.update_moment(up, state.nu, b1, 1)
        mu = jax.tree.map(lambda g: [new_mu(g, i) for i in range(g.ndim)], accum)
        return nu, ScaleBySM3State(mu=mu, nu=nu)

    return GradientTransformation(init_fn, update_fn)


def sm3(learning_rate: float, momentum: float = 0.9) -> GradientTransformation:
    """SM3: :func:`scale_by_sm3` (``b1 = momentum``) then ``-learning_rate`` (``optax.sm3``).

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.sm3(1.0)
        >>> u, _ = tx.update({"w": jnp.ones((2, 2))}, tx.init({"w": jnp.zeros((2, 2))}))
        >>> round(float(u["w"][0, 0]), 4)
        -0.1
    """
    validation.learning_rate(learning_rate)
    validation.unit_interval("momentum", momentum, high_open=False)
    return chain(scale_by_sm3(momentum), scale(-learning_rate))
