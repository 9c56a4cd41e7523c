"""NAdam: Adam with Nesterov momentum, in optax's form and in Dozat's
momentum-decay form (torch.optim.NAdam, MXNet's Nadam).

Reference: Dozat, *Incorporating Nesterov Momentum into Adam*, ICLR workshop 2016.
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optjax import numerics, per_leaf, validation
from optjax.base import GradientTransformation, ScalarOrSchedule
from optjax.optimizers._util import bias_correction, with_decay
from optjax.optimizers.adam import scale_by_adam


class ScaleByNadamState(NamedTuple):
    """Moments ``mu``, ``nu`` and, per parameter, ``mu_product`` = prod_{s<=t} mu_s
    (a float32 scalar per leaf; torch's ``state['mu_product']``, MXNet's ``m_schedule``)."""

    count: jax.Array
    mu: Any
    nu: Any
    mu_product: Any


def scale_by_nadam(
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    momentum_decay: float = 4e-3,
    *,
    mu_dtype: Any = None,
    nu_dtype: Any = None,
) -> GradientTransformation:
    """Dozat's NAdam with the momentum schedule ``psi = momentum_decay``::

        mu_t = b1 * (1 - 0.5 * 0.96**(t * psi)),  mu_{t+1} likewise
        P <- P * mu_t                                  (mu_product)
        m, v as in Adam;  d = sqrt(v / (1 - b2**t)) + eps
        u = (1 - mu_t) / (1 - P) * g / d + mu_{t+1} / (1 - P * mu_{t+1}) * m / d

    (torch.optim.NAdam; MXNet's Nadam with ``schedule_decay = psi``.)
    """
    validation.unit_interval("b1", b1)
    validation.unit_interval("b2", b2)
    validation.non_negative("eps", eps)
    validation.non_negative("momentum_decay", momentum_decay)

    @jax.jit
    def leaf(g, p, mu, nu, mu_product, *, count):
        del p
        t = count.astype(jnp.float32)
        mu_t = b1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1.0) * momentum_decay))
        prod = mu_product * mu_t
        prod_next = prod * mu_next
        mu = b1 * mu + (1.0 - b1) * g
        nu = b2 * nu + (1.0 - b2) * (g * jnp.conj(g)).real
        d = jnp.sqrt(nu / bias_correction(b2, count)) + eps
        u = ((1.0 - mu_t) / (1.0 - prod)) * g / d + (mu_next / (1.0 - prod_next)) * mu / d
        return u, (mu, nu, prod)

    def init_fn(params):
        return ScaleByNadamState(
            count=numerics.zero_count(),
            mu=per_leaf.zeros(params, mu_dtype),
            nu=per_leaf.second_moments(params, nu_dtype),
            mu_product=jax.tree.map(lambda p: jnp.ones((), jnp.float32), params),
        )

    def update_fn(updates, state, params=None, **extra_args):
        del params, extra_args
        count = numerics.safe_increment(state.count)
        updates, (mu, nu, mu_product) = per_leaf.apply(
            leaf, updates, (state.mu, state.nu, state.mu_product), count=count)
        return updates, ScaleByNadamState(count=count, mu=mu, nu=nu, mu_product=mu_product)

    return GradientTransformation(init_fn, update_fn)


def nadam(
    learning_rate: ScalarOrSchedule = 1e-3,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    mu_dtype: Any = None,
    *,
    momentum_decay: float | None = None,
    nu_dtype: Any = None,
    weight_decay: float = 0.0,
    decoupled_weight_decay: bool = False,
    maximize: bool = False,
) -> GradientTransformation:
    """NAdam.

    * ``momentum_decay=None`` (default): optax's ``nadam`` = Adam with
      ``nesterov=True`` (``u = (b1 m_hat_{t+1} + (1-b1) g_hat) / (sqrt(v_hat) + eps)``).
    * ``momentum_decay=psi``: Dozat's schedule, see :func:`scale_by_nadam`;
      ``torch.optim.NAdam(lr, betas, eps, wd, momentum_decay=psi,
      decoupled_weight_decay=dwd)`` is ``nadam(lr, *betas, eps,
      momentum_decay=psi, weight_decay=wd, decoupled_weight_decay=dwd)``
      (torch's defaults lr 2e-3, psi 4e-3). The two forms differ by ~0.02 after
      6 steps. ``eps_root`` applies to the optax form only.

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.nadam(2e-3, momentum_decay=4e-3)
    >>> u, s = tx.update({"w": jnp.ones(2)}, tx.init({"w": jnp.ones(2)}))
    >>> s[0].mu_product["w"]
    Array(0.45007348, dtype=float32)
    """
    if momentum_decay is None:
        core = scale_by_adam(b1, b2, eps, eps_root, mu_dtype=mu_dtype, nu_dtype=nu_dtype,
                             nesterov=True)
    else:
        core = scale_by_nadam(b1, b2, eps, momentum_decay, mu_dtype=mu_dtype, nu_dtype=nu_dtype)
    return with_decay(core, learning_rate, weight_decay,
                      decoupled=decoupled_weight_decay, maximize=maximize)
