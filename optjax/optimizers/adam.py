"""The Adam family's core: ``scale_by_adam``, with the peers' conventions as options.

References: Kingma and Ba, *Adam: A Method for Stochastic Optimization*, 2014;
Reddi et al., *On the Convergence of Adam and Beyond* (AMSGrad), 2018;
Loshchilov and Hutter, *Decoupled Weight Decay Regularization* (AdamW), 2019.
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optjax import numerics, per_leaf, validation
from optjax.base import GradientTransformation, ScalarOrSchedule
from optjax.optimizers._util import bias_correction, with_decay

EPS_PLACEMENTS = ("corrected", "uncorrected")
AMSGRAD_MODES = (None, "raw", "corrected")


class ScaleByAdamState(NamedTuple):
    """The step count and the first and second moments (one leaf per param)."""

    count: jax.Array
    mu: Any
    nu: Any


class ScaleByAmsgradState(NamedTuple):
    """:class:`ScaleByAdamState` and the running maximum ``nu_max`` (with ``amsgrad``)."""

    count: jax.Array
    mu: Any
    nu: Any
    nu_max: Any


def scale_by_adam(
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    *,
    mu_dtype: Any = None,
    nu_dtype: Any = None,
    nesterov: bool = False,
    amsgrad: str | None = None,
    eps_placement: str = "corrected",
) -> GradientTransformation:
    """Rescale updates by Adam's moment estimates.

    The state is optax's ``ScaleByAdamState(count, mu, nu)``; with ``amsgrad`` it
    is ``ScaleByAmsgradState(count, mu, nu, nu_max)`` (optax's ``scale_by_amsgrad``).

    With ``t`` the step (1, 2, ...)::

        m <- b1 * m + (1 - b1) * g
        v <- b2 * v + (1 - b2) * g**2
        m_hat = m / (1 - b1**t),  v_hat = v / (1 - b2**t)
        u = m_hat / (sqrt(v_hat + eps_root) + eps)                      # "corrected"
        u = m_hat * sqrt(1 - b2**t) / (sqrt(v + eps_root) + eps)        # "uncorrected"

    Args:
      b1, b2: decay rates in [0, 1).
      eps: added to the denominator, >= 0. ``eps_placement="corrected"`` adds
        it to ``sqrt(v_hat)`` (optax, torch.optim.Adam); ``"uncorrected"`` adds it
        to ``sqrt(v)``, folding the bias correction into the step (MXNet's
        Adam, torch's SparseAdam).
      eps_root: added inside the square root, >= 0.
      mu_dtype, nu_dtype: storage dtypes of the moments. ``mu`` defaults to
        the param's dtype, ``nu`` (and ``nu_max``) to at least float32 (bf16 and
        f16 params get float32 ``nu``; ``nu_dtype="param"`` keeps the param's
        dtype: see :func:`optjax.numerics.second_moment_dtype`). The math
        always runs in at least float32.
      nesterov: Nesterov momentum on ``m_hat`` (optax's NAdam form).
      amsgrad: None; ``"raw"`` keeps the running max of the *uncorrected* ``v``
        (torch's ``amsgrad=True``); ``"corrected"`` the max of ``v_hat`` (optax's
        ``amsgrad``).
    """
    validation.unit_interval("b1", b1)
    validation.unit_interval("b2", b2)
    validation.non_negative("eps", eps)
    validation.non_negative("eps_root", eps_root)
    validation.one_of("eps_placement", eps_placement, EPS_PLACEMENTS)
    validation.one_of("amsgrad", amsgrad, AMSGRAD_MODES)

    if amsgrad == "corrected" and eps_placement != "corrected":
        raise ValueError("amsgrad='corrected' needs eps_placement='corrected'")

    @jax.jit
    def leaf(g, p, mu, nu, nu_max, *, count):
        del p
        t = count.astype(g.real.dtype)
        mu = b1 * mu + (1.0 - b1) * g
        nu = b2 * nu + (1.0 - b2) * (g * jnp.conj(g)).real
        bc1 = bias_correction(b1, count, t.dtype)
        bc2 = bias_correction(b2, count, t.dtype)
        if nesterov:
            m_hat = b1 * mu / bias_correction(b1, count + 1, t.dtype) + (1.0 - b1) * g / bc1
        else:
            m_hat = mu / bc1
        v = nu
        if amsgrad == "raw":
            v = nu_max = jnp.maximum(nu_max, nu)
        if eps_placement == "corrected":
            v_hat = v / bc2
            if amsgrad == "corrected":
                v_hat = nu_max = jnp.maximum(nu_max, v_hat)
            u = m_hat / (jnp.sqrt(v_hat + eps_root) + eps)
        else:
            u = m_hat * jnp.sqrt(bc2) / (jnp.sqrt(v + eps_root) + eps)
        return u, (mu, nu, nu_max)

    def init_fn(params):
        count, mu, nu = numerics.zero_count(), per_leaf.zeros(params, mu_dtype), per_leaf.second_moments(params, nu_dtype)
        if amsgrad:
            return ScaleByAmsgradState(count=count, mu=mu, nu=nu, nu_max=per_leaf.second_moments(params, nu_dtype))
        return ScaleByAdamState(count=count, mu=mu, nu=nu)

    def update_fn(updates, state, params=None, **extra_args):
        del params, extra_args
        count = numerics.safe_increment(state.count)
        nu_max = state.nu_max if amsgrad else per_leaf.nothing(state.mu)
        updates, (mu, nu, nu_max) = per_leaf.apply(leaf, updates, (state.mu, state.nu, nu_max), count=count)
        if amsgrad:
            return updates, ScaleByAmsgradState(count=count, mu=mu, nu=nu, nu_max=nu_max)
        return updates, ScaleByAdamState(count=count, mu=mu, nu=nu)

    return GradientTransformation(init_fn, update_fn)


def scale_by_amsgrad(
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    mu_dtype: Any = None,
) -> GradientTransformation:
    """AMSGrad's rescaling (``optax.scale_by_amsgrad``): :func:`scale_by_adam` with
    ``amsgrad="corrected"``, the running maximum of ``v_hat``.

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.scale_by_amsgrad()
    >>> tx.init({"w": jnp.ones(2)})._fields
    ('count', 'mu', 'nu', 'nu_max')
    """
    return scale_by_adam(b1, b2, eps, eps_root, mu_dtype=mu_dtype, amsgrad="corrected")


def adam(
    learning_rate: ScalarOrSchedule = 1e-3,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    *,
    weight_decay: float = 0.0,
    mu_dtype: Any = None,
    nu_dtype: Any = None,
    nesterov: bool = False,
    amsgrad: str | None = None,
    eps_placement: str = "corrected",
    decoupled_weight_decay: bool = False,
    maximize: bool = False,
) -> GradientTransformation:
    """Adam: ``p <- p - lr * u`` with ``u`` from :func:`scale_by_adam`.

    ``weight_decay`` is coupled L2 (added to the gradient before the moments),
    as torch's ``Adam(weight_decay=wd)``; with ``decoupled_weight_decay=True``
    it is AdamW's ``p <- p - lr * (u + wd * p)`` (torch's
    ``Adam(decoupled_weight_decay=True)``, same as :func:`adamw`).
    ``maximize`` ascends (torch's flag). Defaults follow optax (and torch: lr
    1e-3, betas (0.9, 0.999), eps 1e-8). torch's ``amsgrad=True`` is
    ``amsgrad="raw"``.

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.adam(1e-3)
    >>> params = {"w": jnp.ones(2)}
    >>> u, s = tx.update({"w": jnp.ones(2)}, tx.init(params), params)
    """
    core = scale_by_adam(b1, b2, eps, eps_root, mu_dtype=mu_dtype, nu_dtype=nu_dtype,
                         nesterov=nesterov, amsgrad=amsgrad, eps_placement=eps_placement)
    return with_decay(core, learning_rate, weight_decay,
                      decoupled=decoupled_weight_decay, maximize=maximize)


def adamw(
    learning_rate: ScalarOrSchedule = 1e-3,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    weight_decay: ScalarOrSchedule = 1e-4,
    mask: Any = None,
    *,
    weight_decay_mult: Any = None,
    mu_dtype: Any = None,
    nu_dtype: Any = None,
    nesterov: bool = False,
    amsgrad: str | None = None,
    eps_placement: str = "corrected",
) -> GradientTransformation:
    """AdamW: ``p <- p - lr * (u + wd * m_i * p)``, decoupled weight decay.

    Equals torch's ``AdamW(lr, betas, eps, weight_decay)`` (whose default wd is
    1e-2; optax's, kept here, is 1e-4). ``mask`` / ``weight_decay_mult`` select
    or scale decay per leaf (see :func:`add_decayed_weights`).
    """
    core = scale_by_adam(b1, b2, eps, eps_root, mu_dtype=mu_dtype, nu_dtype=nu_dtype,
                         nesterov=nesterov, amsgrad=amsgrad, eps_placement=eps_placement)
    return with_decay(core, learning_rate, weight_decay, decoupled=True, mask=mask,
                      weight_decay_mult=weight_decay_mult, keep_zero_decay=True)


def amsgrad(
    learning_rate: ScalarOrSchedule = 1e-3,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    mu_dtype: Any = None,
    *,
    nu_dtype: Any = None,
    mode: str = "corrected",
    weight_decay: float = 0.0,
    decoupled_weight_decay: bool = False,
) -> GradientTransformation:
    """AMSGrad: Adam with the running maximum of the second moment.

    ``mode="corrected"`` (default, ``optax.amsgrad``) keeps ``max(v_hat)``;
    ``mode="raw"`` keeps ``max(v)`` and divides by the current ``1 - b2**t``
    (torch's ``Adam(amsgrad=True)``; the two differ by up to 2e-3 after 6 steps).

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.amsgrad(1e-3)
    >>> u, s = tx.update({"w": jnp.ones(2)}, tx.init({"w": jnp.ones(2)}))
    """
    validation.one_of("mode", mode, ("raw", "corrected"))
    return adam(learning_rate, b1, b2, eps, eps_root, weight_decay=weight_decay,
                mu_dtype=mu_dtype, nu_dtype=nu_dtype, amsgrad=mode,
                decoupled_weight_decay=decoupled_weight_decay)
