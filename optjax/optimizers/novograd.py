"""NovoGrad: layer-wise normalized gradients with decoupled weight decay (Ginsburg et al., 2019)."""

from typing import Any, NamedTuple, Optional

import jax
import jax.numpy as jnp

from optjax import tree_math, validation
from optjax.base import GradientTransformation, ScalarOrSchedule, Updates, NO_PARAMS_MSG, jit_once
from optjax.combine import chain
from optjax.numerics import safe_increment
from optjax.transforms import scale_by_learning_rate


class ScaleByNovogradState(NamedTuple):
    """Step count, first moment ``mu`` (per element), second moment ``nu`` (one scalar per leaf)."""

    count: jax.Array
    mu: Updates
    nu: Updates


def scale_by_novograd(
    b1: float = 0.9,
    b2: float = 0.25,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    weight_decay: float = 0.0,
    mu_dtype: Optional[Any] = None,
) -> GradientTransformation:
    r"""NovoGrad's rescaling (optax's ``scale_by_novograd``), per leaf ``l``::

        v_l = |g_l|^2                                  (first step)
        v_l = b2 v_l + (1 - b2) |g_l|^2                (after)
        m_l = g_l / (sqrt(v_l + eps_root) + eps) + wd p_l       (first step)
        m_l = b1 m_l + g_l / (sqrt(v_l + eps_root) + eps) + wd p_l  (after)

    The update is ``m``. Needs ``params``.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.scale_by_novograd()
        >>> p = {"w": jnp.array([3.0, 4.0])}
        >>> u, _ = tx.update({"w": jnp.array([3.0, 4.0])}, tx.init(p), p)
        >>> [round(x, 4) for x in u["w"].tolist()]
        [0.6, 0.8]

    Reference: Ginsburg et al., `Stochastic Gradient Methods with Layer-wise Adaptive
    Moments for Training of Deep Networks <https://arxiv.org/abs/1905.11286>`_, 2019.
    """
    validation.unit_interval("b1", b1)
    validation.unit_interval("b2", b2, high_open=False)
    validation.non_negative("eps", eps)
    validation.non_negative("eps_root", eps_root)
    validation.non_negative("weight_decay", weight_decay)
    mu_dtype = None if mu_dtype is None else jnp.dtype(mu_dtype)

    def init_fn(params):
        mu = jax.tree.map(lambda p: jnp.zeros(jnp.shape(p), mu_dtype or jnp.result_type(p)), params)
        nu = jax.tree.map(lambda p: jnp.zeros((), jnp.result_type(p)), params)
        return ScaleByNovogradState(count=jnp.zeros([], jnp.int32), mu=mu, nu=nu)

    def sq_norm(g):
        return jnp.linalg.norm(g) ** 2

    def mu_add(g, p, v):
        return g / (jnp.sqrt(v + eps_root) + eps) + weight_decay * p

    def first_nu(grads, nu):
        return jax.tree.map(lambda g, n: sq_norm(g).astype(n.dtype), grads, nu)

    def next_nu(grads, nu):
        return tree_math.update_moment(jax.tree.map(sq_norm, grads), nu, b2, 1)

    def first_mu(grads, params, mu, nu):
        del mu
        return jax.tree.map(mu_add, grads, params, nu)

    def next_mu(grads, params, mu, nu):
        return jax.tree.map(lambda m, u: b1 * m + u, mu, jax.tree.map(mu_add, grads, params, nu))

    def update_fn(updates, state, params=None):
        if params is None:
            raise ValueError(NO_PARAMS_MSG)
        count = safe_increment(state.count)
        nu = jax.lax.cond(count == 1, first_nu, next_nu, updates, state.nu)
        mu = jax.lax.cond(count == 1, first_mu, next_mu, updates, params, state.mu, nu)
        mu, nu = tree_math.cast_like(mu, state.mu), tree_math.cast_like(nu, state.nu)  # init's dtypes (mu_dtype)
        return mu, ScaleByNovogradState(count=count, mu=mu, nu=nu)

    return GradientTransformation(init_fn, jit_once(update_fn))


def novograd(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.25, eps: float = 1e-6,
             eps_root: float = 0.0, weight_decay: float = 0.0) -> GradientTransformation:
    """NovoGrad: :func:`scale_by_novograd` then ``-learning_rate``, as ``optax.novograd``.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.novograd(0.1)
        >>> p = {"w": jnp.array([3.0, 4.0])}
        >>> u, _ = tx.update({"w": jnp.array([3.0, 4.0])}, tx.init(p), p)
        >>> [round(x, 4) for x in u["w"].tolist()]
        [-0.06, -0.08]
    """
    return chain(scale_by_novograd(b1=b1, b2=b2, eps=eps, eps_root=eps_root, weight_decay=weight_decay),
                 scale_by_learning_rate(learning_rate))
