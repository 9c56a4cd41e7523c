"""AdaBelief: Adam whose second moment tracks the belief ``(g - m)**2``.

Reference: Zhuang et al., *AdaBelief Optimizer*, NeurIPS 2020.
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optjax import numerics, per_leaf, validation
from optjax.base import GradientTransformation, ScalarOrSchedule
from optjax.optimizers._util import bias_correction, with_decay


class ScaleByBeliefState(NamedTuple):
    count: jax.Array
    mu: Any
    nu: Any
    # the update reads the old nu: optjax.update_and_apply orders its in-place write
    fields_read_by_update = ("nu",)


def scale_by_belief(
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-16,
    eps_root: float = 1e-16,
    nesterov: bool = False,
    *,
    mu_dtype: Any = None,
    nu_dtype: Any = None,
) -> GradientTransformation:
    """``m <- b1 m + (1-b1) g; s <- b2 s + (1-b2)(g - m)**2 + eps_root;
    u = m_hat / (sqrt(s_hat) + eps)`` (optax's ``scale_by_belief``)."""
    validation.unit_interval("b1", b1)
    validation.unit_interval("b2", b2)
    validation.non_negative("eps", eps)
    validation.non_negative("eps_root", eps_root)

    @jax.jit
    def leaf(g, p, mu, nu, *, count):
        del p
        t = count.astype(g.real.dtype)
        mu = b1 * mu + (1.0 - b1) * g
        err = g - mu
        nu = b2 * nu + (1.0 - b2) * (err * jnp.conj(err)).real + eps_root
        bc1 = bias_correction(b1, count, t.dtype)
        if nesterov:
            m_hat = b1 * mu / bias_correction(b1, count + 1, t.dtype) + (1.0 - b1) * g / bc1
        else:
            m_hat = mu / bc1
        u = m_hat / (jnp.sqrt(nu / bias_correction(b2, count, t.dtype)) + eps)
        return u, (mu, nu)

    def init_fn(params):
        return ScaleByBeliefState(
            count=numerics.zero_count(),
            mu=per_leaf.zeros(params, mu_dtype),
            nu=per_leaf.second_moments(params, nu_dtype),
        )

    def update_fn(updates, state, params=None, **extra_args):
        del params, extra_args
        count = numerics.safe_increment(state.count)
        updates, (mu, nu) = per_leaf.apply(leaf, updates, (state.mu, state.nu), count=count)
        return updates, ScaleByBeliefState(count=count, mu=mu, nu=nu)

    return GradientTransformation(init_fn, update_fn)


def adabelief(
    learning_rate: ScalarOrSchedule = 1e-3,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-16,
    eps_root: float = 1e-16,
    *,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    decoupled_weight_decay: bool = True,
    mask: Any = None,
    mu_dtype: Any = None,
    nu_dtype: Any = None,
) -> GradientTransformation:
    """AdaBelief (optax's signature); ``weight_decay`` is decoupled by default
    (as optax HEAD), coupled with ``decoupled_weight_decay=False``.

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.adabelief(1e-3)
    >>> u, s = tx.update({"w": jnp.ones(2)}, tx.init({"w": jnp.ones(2)}))
    """
    core = scale_by_belief(b1, b2, eps, eps_root, nesterov, mu_dtype=mu_dtype, nu_dtype=nu_dtype)
    return with_decay(core, learning_rate, weight_decay, decoupled=decoupled_weight_decay, mask=mask)
