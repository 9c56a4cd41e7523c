"""RAdam: Adam with a rectified adaptive learning rate.

Reference: Liu et al., *On the Variance of the Adaptive Learning Rate and Beyond*, 2020.
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optjax import numerics, per_leaf, validation
from optjax.base import GradientTransformation, ScalarOrSchedule
from optjax.optimizers._util import bias_correction, with_decay


class ScaleByRAdamState(NamedTuple):
    count: jax.Array
    mu: Any
    nu: Any


def scale_by_radam(
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    threshold: float = 5.0,
    nesterov: bool = False,
    *,
    eps_placement: str = "corrected",
    strict_threshold: bool = False,
    mu_dtype: Any = None,
    nu_dtype: Any = None,
) -> GradientTransformation:
    """Rectified Adam::

        rho_inf = 2 / (1 - b2) - 1;  rho_t = rho_inf - 2 t b2**t / (1 - b2**t)
        r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
        u = r * m_hat / (sqrt(v_hat + eps_root) + eps)      if rho_t >= threshold
        u = m_hat                                            otherwise

    ``eps_placement="uncorrected"`` adds eps to ``sqrt(v)`` instead (torch:
    ``r * m_hat * sqrt(1 - b2**t) / (sqrt(v) + eps)``); ``strict_threshold``
    tests ``rho_t > threshold`` (torch) instead of ``>=`` (optax).
    """
    validation.non_negative("threshold", threshold)
    validation.unit_interval("b1", b1)
    validation.unit_interval("b2", b2)
    validation.non_negative("eps", eps)
    validation.non_negative("eps_root", eps_root)
    validation.one_of("eps_placement", eps_placement, ("corrected", "uncorrected"))
    rho_inf = 2.0 / (1.0 - b2) - 1.0

    @jax.jit
    def leaf(g, p, mu, nu, *, count):
        del p
        t = count.astype(g.real.dtype)
        mu = b1 * mu + (1.0 - b1) * g
        nu = b2 * nu + (1.0 - b2) * (g * jnp.conj(g)).real
        bc1 = bias_correction(b1, count, t.dtype)
        bc2 = bias_correction(b2, count, t.dtype)
        b2t = 1.0 - bc2
        rho = rho_inf - 2.0 * t * b2t / bc2
        if nesterov:
            m_hat = b1 * mu / bias_correction(b1, count + 1, t.dtype) + (1.0 - b1) * g / bc1
        else:
            m_hat = mu / bc1
        ok = rho > threshold if strict_threshold else rho >= threshold
        safe_rho = jnp.where(ok, rho, rho_inf)
        r = jnp.sqrt((safe_rho - 4.0) * (safe_rho - 2.0) * rho_inf
                     / ((rho_inf - 4.0) * (rho_inf - 2.0) * safe_rho))
        if eps_placement == "corrected":
            adaptive = m_hat * r / (jnp.sqrt(nu / bc2 + eps_root) + eps)
        else:
            adaptive = m_hat * (jnp.sqrt(bc2) / (jnp.sqrt(nu + eps_root) + eps)) * r
        return jnp.where(ok, adaptive, m_hat), (mu, nu)

    def init_fn(params):
        return ScaleByRAdamState(
            count=numerics.zero_count(),
            mu=per_leaf.zeros(params, mu_dtype),
            nu=per_leaf.second_moments(params, nu_dtype),
        )

    def update_fn(updates, state, params=None, **extra_args):
        del params, extra_args
        count = numerics.safe_increment(state.count)
        updates, (mu, nu) = per_leaf.apply(leaf, updates, (state.mu, state.nu), count=count)
        return updates, ScaleByRAdamState(count=count, mu=mu, nu=nu)

    return GradientTransformation(init_fn, update_fn)


def radam(
    learning_rate: ScalarOrSchedule = 1e-3,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    threshold: float = 5.0,
    nesterov: bool = False,
    *,
    eps_placement: str = "corrected",
    strict_threshold: bool = False,
    weight_decay: float = 0.0,
    decoupled_weight_decay: bool = False,
    maximize: bool = False,
    mu_dtype: Any = None,
    nu_dtype: Any = None,
) -> GradientTransformation:
    """RAdam (optax's signature). ``torch.optim.RAdam(lr, betas, eps, wd,
    decoupled_weight_decay=dwd)`` is ``radam(lr, *betas, eps,
    eps_placement="uncorrected", strict_threshold=True, weight_decay=wd,
    decoupled_weight_decay=dwd)`` (the optax defaults differ from it by ~3e-11).

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.radam(1e-3)
    >>> u, s = tx.update({"w": jnp.ones(2)}, tx.init({"w": jnp.ones(2)}))
    """
    core = scale_by_radam(b1, b2, eps, eps_root, threshold, nesterov, eps_placement=eps_placement,
                          strict_threshold=strict_threshold, mu_dtype=mu_dtype, nu_dtype=nu_dtype)
    return with_decay(core, learning_rate, weight_decay,
                      decoupled=decoupled_weight_decay, maximize=maximize)
