"""Yogi: Adam with an additive, sign-controlled second moment (Zaheer et al., 2018)."""

from typing import NamedTuple

import jax
import jax.numpy as jnp

from optjax import tree_math, validation
from optjax.base import GradientTransformation, ScalarOrSchedule, Updates
from optjax.combine import chain
from optjax.numerics import abs_sq, safe_increment
from optjax.transforms import scale_by_learning_rate


class ScaleByYogiState(NamedTuple):
    """optax's ``ScaleByAdamState`` layout: step count and the two moments."""

    count: jax.Array  # int32 scalar
    mu: Updates
    nu: Updates


def scale_by_yogi(
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-3,
    eps_root: float = 0.0,
    initial_accumulator_value: float = 1e-6,
) -> GradientTransformation:
    r"""Yogi's rescaling (optax's ``scale_by_yogi``)::

        m_t = b1 m_{t-1} + (1 - b1) g
        v_t = v_{t-1} - (1 - b2) sign(v_{t-1} - g^2) g^2
        u   = m_t / (1 - b1^t) / (sqrt(v_t / (1 - b2^t) + eps_root) + eps)

    Both moments start at ``initial_accumulator_value``.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.scale_by_yogi()
        >>> u, _ = tx.update({"w": jnp.array([0.5])}, tx.init({"w": jnp.zeros(1)}))
        >>> round(float(u["w"][0]), 3)
        0.996

    Reference: Zaheer et al., `Adaptive Methods for Nonconvex Optimization
    <https://papers.nips.cc/paper/2018/hash/90365351ccc7437a1309dc64e4db32a3-Abstract.html>`_, 2018.
    """
    validation.unit_interval("b1", b1)
    validation.unit_interval("b2", b2)
    validation.non_negative("eps", eps)
    validation.non_negative("eps_root", eps_root)
    validation.non_negative("initial_accumulator_value", initial_accumulator_value)

    def init_fn(params):
        mu = tree_math.full_like(params, initial_accumulator_value)
        nu = tree_math.full_like(params, initial_accumulator_value)
        return ScaleByYogiState(count=jnp.zeros([], jnp.int32), mu=mu, nu=nu)

    def update_fn(updates, state, params=None):
        del params
        mu = tree_math.update_moment(updates, state.mu, b1, 1)
        nu = jax.tree.map(lambda g, v: v - (1 - b2) * jnp.sign(v - abs_sq(g)) * abs_sq(g),
                          updates, state.nu)
        count = safe_increment(state.count)
        mu_hat = tree_math.bias_correction(mu, b1, count)
        nu_hat = tree_math.bias_correction(nu, b2, count)
        updates = jax.tree.map(lambda m, v: m / (jnp.sqrt(v + eps_root) + eps), mu_hat, nu_hat)
        return updates, ScaleByYogiState(count=count, mu=mu, nu=nu)

    return GradientTransformation(init_fn, update_fn)


def yogi(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999,
         eps: float = 1e-3) -> GradientTransformation:
    """Yogi: :func:`scale_by_yogi` then ``-learning_rate``, as ``optax.yogi``.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.yogi(0.1)
        >>> u, _ = tx.update({"w": jnp.array([0.5])}, tx.init({"w": jnp.zeros(1)}))
        >>> round(float(u["w"][0]), 4)
        -0.0996
    """
    return chain(scale_by_yogi(b1=b1, b2=b2, eps=eps), scale_by_learning_rate(learning_rate))
