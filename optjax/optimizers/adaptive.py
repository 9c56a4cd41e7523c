"""Per-coordinate adaptive rules without (or with a simple) first moment:
RMSprop, Adagrad, Adadelta and Adamax, each with the peers' conventions as options.

References: Tieleman and Hinton, *Lecture 6.5 - RMSProp*, 2012; Graves,
*Generating Sequences With Recurrent Neural Networks* (centered RMSprop), 2013;
Duchi et al., *Adaptive Subgradient Methods*, 2011; Zeiler, *ADADELTA*, 2012;
Kingma and Ba, *Adam* (AdaMax, section 7), 2014.
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optjax import numerics, per_leaf, validation
from optjax.base import GradientTransformation, ScalarOrSchedule, identity
from optjax.optimizers._util import bias_correction as _bias_correction, is_zero, with_decay
from optjax.optimizers.momentum import trace
from optjax.transforms.moments import ScaleByRStdDevState, ScaleByRStdDevWithCountState


def _sq(g):
    return (g * jnp.conj(g)).real


# ----------------------------------------------------------------------------
# RMSprop


class ScaleByRmsState(NamedTuple):
    """``nu``: running mean of ``g**2`` (optax's layout)."""

    nu: Any


class ScaleByRmsWithCountState(NamedTuple):
    """The step count and ``nu`` (with ``bias_correction``)."""

    count: jax.Array
    nu: Any


def _rms_state(centered: bool, bias_correction: bool, count, mu, nu):
    """optax's class for the options: ``scale_by_rms``'s (count only with a bias
    correction) or, centered, ``scale_by_stddev``'s (``mu`` and ``nu``)."""
    if centered:
        if bias_correction:
            return ScaleByRStdDevWithCountState(count=count, mu=mu, nu=nu)
        return ScaleByRStdDevState(mu=mu, nu=nu)
    return ScaleByRmsWithCountState(count=count, nu=nu) if bias_correction else ScaleByRmsState(nu=nu)


def scale_by_rms(
    decay: float = 0.9,
    eps: float = 1e-8,
    initial_scale: float = 0.0,
    eps_in_sqrt: bool = True,
    bias_correction: bool = False,
    *,
    centered: bool = False,
    nu_dtype: Any = None,
    mu_dtype: Any = None,
) -> GradientTransformation:
    """Divide by the root mean square of past gradients::

        nu <- decay * nu + (1 - decay) * g**2          (nu starts at initial_scale)
        mu <- decay * mu + (1 - decay) * g             (centered only)
        var = nu - mu**2 if centered else nu           (bias-corrected if asked)
        u = g / sqrt(var + eps)     if eps_in_sqrt     (optax, MXNet)
        u = g / (sqrt(var) + eps)   otherwise          (torch.optim.RMSprop)

    Args:
      decay: ``alpha`` (torch) / ``gamma1`` (MXNet) in [0, 1).
      eps: >= 0.
      initial_scale: starting value of ``nu`` (optax's ``initial_scale``).
      eps_in_sqrt: where eps goes (see above).
      bias_correction: divide the moments by ``1 - decay**t`` (optax option).
      centered: subtract the squared mean gradient (torch/MXNet ``centered``).
      nu_dtype, mu_dtype: storage dtypes of the running means (``nu``: at least
        float32 by default, ``"param"`` for the param's dtype; ``mu``: the param's).

    The state has optax's layout: ``ScaleByRmsState(nu)``, with the step count
    (``ScaleByRmsWithCountState``) only under ``bias_correction``; centered, the
    layout of optax's ``scale_by_stddev`` (``mu``, ``nu``; and ``count``).
    """
    validation.non_negative("initial_scale", initial_scale)
    validation.unit_interval("decay", decay)
    validation.non_negative("eps", eps)

    @jax.jit
    def leaf(g, p, mu, nu, *, count):
        del p
        nu = decay * nu + (1.0 - decay) * _sq(g)
        var = nu
        if centered:
            mu = decay * mu + (1.0 - decay) * g
        if bias_correction:
            bc = _bias_correction(decay, count, var.dtype)
            var = var / bc
            m = mu / bc if centered else None
        else:
            m = mu
        if centered:
            var = var - _sq(m)
        if eps_in_sqrt:
            return g * jax.lax.rsqrt(var + eps), (mu, nu)
        return g / (jnp.sqrt(var) + eps), (mu, nu)

    def init_fn(params):
        mu = per_leaf.zeros(params, mu_dtype) if centered else None
        return _rms_state(centered, bias_correction, numerics.zero_count(), mu,
                          per_leaf.second_moments(params, nu_dtype, initial_scale))

    def update_fn(updates, state, params=None, **extra_args):
        del params, extra_args
        count = numerics.safe_increment(state.count) if bias_correction else 0
        mu = state.mu if centered else per_leaf.nothing(state.nu)
        updates, (mu, nu) = per_leaf.apply(leaf, updates, (mu, state.nu), count=count)
        return updates, _rms_state(centered, bias_correction, count, mu, nu)

    return GradientTransformation(init_fn, update_fn)


def rmsprop(
    learning_rate: ScalarOrSchedule = 1e-2,
    decay: float = 0.9,
    eps: float = 1e-8,
    initial_scale: float = 0.0,
    eps_in_sqrt: bool = True,
    centered: bool = False,
    momentum: float | None = None,
    nesterov: bool = False,
    bias_correction: bool = False,
    *,
    lr_in_momentum_buffer: bool = True,
    weight_decay: float = 0.0,
    maximize: bool = False,
    nu_dtype: Any = None,
    mu_dtype: Any = None,
    accumulator_dtype: Any = None,
) -> GradientTransformation:
    """RMSprop, optionally centered and with momentum (optax's signature).

    ``d = sqrt(var + eps)`` (``eps_in_sqrt``) or ``sqrt(var) + eps``, see
    :func:`scale_by_rms`; then

    * ``lr_in_momentum_buffer=True`` (optax, MXNet): ``b <- mu * b + lr * g / d;
      p <- p - b``;
    * ``lr_in_momentum_buffer=False`` (torch): ``b <- mu * b + g / d;
      p <- p - lr * b``.

    The two agree while the learning rate is constant. ``weight_decay`` is
    coupled L2 (torch). ``torch.optim.RMSprop(lr, alpha, eps, wd, momentum,
    centered)`` is ``rmsprop(lr, decay=alpha, eps=eps, eps_in_sqrt=False,
    centered=centered, momentum=momentum, weight_decay=wd,
    lr_in_momentum_buffer=False)``. Defaults follow optax (decay 0.9; torch's
    alpha is 0.99).

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.rmsprop(1e-2, momentum=0.9, centered=True)
    >>> u, s = tx.update({"w": jnp.ones(2)}, tx.init({"w": jnp.ones(2)}))
    """
    if momentum is not None:
        validation.check("momentum", momentum, low=0.0, high=1.0)
    core = scale_by_rms(decay, eps, initial_scale, eps_in_sqrt, bias_correction,
                        centered=centered, nu_dtype=nu_dtype, mu_dtype=mu_dtype)
    mom = (identity() if is_zero(momentum) and not nesterov
           else trace(0.0 if momentum is None else momentum, nesterov,
                      accumulator_dtype=accumulator_dtype))
    return with_decay(core, learning_rate, weight_decay, maximize=maximize, momentum=mom,
                      lr_in_momentum_buffer=lr_in_momentum_buffer)


# ----------------------------------------------------------------------------
# Adagrad


class ScaleByRssState(NamedTuple):
    """``sum_of_squares``: the accumulated ``g**2`` (torch's ``sum``; optax's layout)."""

    sum_of_squares: Any


class ScaleByRssWithCountState(NamedTuple):
    """The step count and ``sum_of_squares`` (with torch's ``lr_decay``)."""

    count: jax.Array
    sum_of_squares: Any


def scale_by_rss(
    initial_accumulator_value: float = 0.1,
    eps: float = 1e-7,
    *,
    eps_in_sqrt: bool = True,
    lr_decay: float = 0.0,
    accumulator_dtype: Any = None,
) -> GradientTransformation:
    """Adagrad's scaling: ``s <- s + g**2``; then

    * ``eps_in_sqrt=True`` (optax, MXNet): ``u = g / sqrt(s + eps)`` (0 where s == 0);
    * ``eps_in_sqrt=False`` (torch): ``u = g / (sqrt(s) + eps)``;

    and ``u <- u / (1 + (t - 1) * lr_decay)`` (torch's ``lr_decay``, t = 1, 2, ...).

    The state is optax's ``ScaleByRssState(sum_of_squares)``; a nonzero
    ``lr_decay`` adds the step count (``ScaleByRssWithCountState``).
    """
    validation.non_negative("initial_accumulator_value", initial_accumulator_value)
    validation.non_negative("eps", eps)
    validation.non_negative("lr_decay", lr_decay)

    decays = not is_zero(lr_decay)

    @jax.jit
    def leaf(g, p, sum_of_squares, *, count):
        del p
        s = sum_of_squares + _sq(g)
        if eps_in_sqrt:
            u = jnp.where(s > 0, jax.lax.rsqrt(s + eps), 0.0) * g
        else:
            u = g / (jnp.sqrt(s) + eps)
        if decays:
            u = u / (1.0 + (count.astype(s.dtype) - 1.0) * lr_decay)
        return u, (s,)

    def init_fn(params):
        s = per_leaf.second_moments(params, accumulator_dtype, initial_accumulator_value)
        return ScaleByRssWithCountState(numerics.zero_count(), s) if decays else ScaleByRssState(s)

    def update_fn(updates, state, params=None, **extra_args):
        del params, extra_args
        count = numerics.safe_increment(state.count) if decays else 0
        updates, (s,) = per_leaf.apply(leaf, updates, (state.sum_of_squares,), count=count)
        return updates, ScaleByRssWithCountState(count, s) if decays else ScaleByRssState(s)

    return GradientTransformation(init_fn, update_fn)


def adagrad(
    learning_rate: ScalarOrSchedule = 1e-2,
    initial_accumulator_value: float = 0.1,
    eps: float = 1e-7,
    *,
    eps_in_sqrt: bool = True,
    lr_decay: float = 0.0,
    weight_decay: float = 0.0,
    maximize: bool = False,
    accumulator_dtype: Any = None,
) -> GradientTransformation:
    """Adagrad (optax's signature and defaults: init 0.1, eps 1e-7 inside the sqrt).

    ``torch.optim.Adagrad(lr, lr_decay, weight_decay, initial_accumulator_value,
    eps)`` is ``adagrad(lr, initial_accumulator_value, eps, eps_in_sqrt=False,
    lr_decay=lr_decay, weight_decay=weight_decay)`` (torch: init 0, eps 1e-10).
    MXNet's AdaGrad is ``adagrad(lr, 0.0, eps)`` (``sqrt(h + eps)``).

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.adagrad(1e-2, 0.0, 1e-10, eps_in_sqrt=False)
    >>> u, s = tx.update({"w": jnp.ones(2)}, tx.init({"w": jnp.ones(2)}))
    """
    core = scale_by_rss(initial_accumulator_value, eps, eps_in_sqrt=eps_in_sqrt,
                        lr_decay=lr_decay, accumulator_dtype=accumulator_dtype)
    return with_decay(core, learning_rate, weight_decay, maximize=maximize)


# ----------------------------------------------------------------------------
# Adadelta


class ScaleByAdaDeltaState(NamedTuple):
    """``e_g``: running mean of ``g**2``; ``e_x``: running mean of the squared steps."""

    e_g: Any
    e_x: Any


def scale_by_adadelta(rho: float = 0.9, eps: float = 1e-6, *, accumulator_dtype: Any = None
                      ) -> GradientTransformation:
    """``e_g <- rho e_g + (1-rho) g**2; u = sqrt(e_x + eps) / sqrt(e_g + eps) * g;
    e_x <- rho e_x + (1-rho) u**2`` (eps inside both roots, as torch and optax)."""
    validation.check("rho", rho, low=0.0, high=1.0, low_open=True)
    validation.non_negative("eps", eps)

    @jax.jit
    def leaf(g, p, e_g, e_x):
        del p
        e_g = rho * e_g + (1.0 - rho) * _sq(g)
        u = jnp.sqrt(e_x + eps) / jnp.sqrt(e_g + eps) * g
        e_x = rho * e_x + (1.0 - rho) * _sq(u)
        return u, (e_g, e_x)

    def init_fn(params):
        return ScaleByAdaDeltaState(
            e_g=per_leaf.second_moments(params, accumulator_dtype),
            e_x=per_leaf.second_moments(params, accumulator_dtype),
        )

    def update_fn(updates, state, params=None, **extra_args):
        del params, extra_args
        updates, (e_g, e_x) = per_leaf.apply(leaf, updates, (state.e_g, state.e_x))
        return updates, ScaleByAdaDeltaState(e_g=e_g, e_x=e_x)

    return GradientTransformation(init_fn, update_fn)


def adadelta(
    learning_rate: ScalarOrSchedule | None = None,
    rho: float = 0.9,
    eps: float = 1e-6,
    weight_decay: float = 0.0,
    weight_decay_mask: Any = None,
    *,
    maximize: bool = False,
    accumulator_dtype: Any = None,
) -> GradientTransformation:
    """Adadelta; ``learning_rate`` is a plain multiplier (None means 1.0, the
    paper and torch's default). Weight decay is coupled (torch, optax).

    ``torch.optim.Adadelta(lr, rho, eps, weight_decay)`` is ``adadelta(lr, rho,
    eps, weight_decay)``.

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.adadelta(1.0)
    >>> u, s = tx.update({"w": jnp.ones(2)}, tx.init({"w": jnp.ones(2)}))
    """
    lr = 1.0 if learning_rate is None else learning_rate
    core = scale_by_adadelta(rho, eps, accumulator_dtype=accumulator_dtype)
    return with_decay(core, lr, weight_decay, maximize=maximize, mask=weight_decay_mask, keep_zero_decay=True)


# ----------------------------------------------------------------------------
# Adamax


class ScaleByAdamaxState(NamedTuple):
    """``mu``: first moment; ``nu``: the exponentially weighted infinity norm."""

    count: jax.Array
    mu: Any
    nu: Any


def scale_by_adamax(
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    *,
    eps_in_max: bool = False,
    mu_dtype: Any = None,
    nu_dtype: Any = None,
) -> GradientTransformation:
    """AdaMax: ``m <- b1 m + (1-b1) g``; then

    * ``eps_in_max=False`` (optax): ``u_inf <- max(b2 u_inf, |g|)``,
      ``u = m / (1 - b1**t) / (u_inf + eps)``;
    * ``eps_in_max=True`` (torch): ``u_inf <- max(b2 u_inf, |g| + eps)``,
      ``u = m / (1 - b1**t) / u_inf``.

    ``eps=0`` gives MXNet's form (no eps; a coordinate whose gradient has
    always been 0 then divides 0 by 0, as in MXNet).
    """
    validation.unit_interval("b1", b1)
    validation.unit_interval("b2", b2)
    validation.non_negative("eps", eps)

    @jax.jit
    def leaf(g, p, mu, nu, *, count):
        del p
        mu = b1 * mu + (1.0 - b1) * g
        bc1 = _bias_correction(b1, count, mu.real.dtype)
        if eps_in_max:
            nu = jnp.maximum(b2 * nu, jnp.abs(g) + eps)
            u = mu / bc1 / nu
        else:
            nu = jnp.maximum(b2 * nu, jnp.abs(g))
            u = mu / bc1 / (nu + eps)
        return u, (mu, nu)

    def init_fn(params):
        return ScaleByAdamaxState(
            count=numerics.zero_count(),
            mu=per_leaf.zeros(params, mu_dtype),
            nu=per_leaf.second_moments(params, nu_dtype),
        )

    def update_fn(updates, state, params=None, **extra_args):
        del params, extra_args
        count = numerics.safe_increment(state.count)
        updates, (mu, nu) = per_leaf.apply(leaf, updates, (state.mu, state.nu), count=count)
        return updates, ScaleByAdamaxState(count=count, mu=mu, nu=nu)

    return GradientTransformation(init_fn, update_fn)


def adamax(
    learning_rate: ScalarOrSchedule = 2e-3,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    *,
    eps_in_max: bool = False,
    weight_decay: float = 0.0,
    decoupled_weight_decay: bool = False,
    maximize: bool = False,
    mu_dtype: Any = None,
    nu_dtype: Any = None,
) -> GradientTransformation:
    """AdaMax (optax's signature). ``torch.optim.Adamax(lr, betas, eps, wd)`` is
    ``adamax(lr, *betas, eps, eps_in_max=True, weight_decay=wd)``;
    ``decoupled_weight_decay=True`` gives ``optax.adamaxw``.

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.adamax(2e-3)
    >>> u, s = tx.update({"w": jnp.ones(2)}, tx.init({"w": jnp.ones(2)}))
    """
    core = scale_by_adamax(b1, b2, eps, eps_in_max=eps_in_max, mu_dtype=mu_dtype, nu_dtype=nu_dtype)
    return with_decay(core, learning_rate, weight_decay,
                      decoupled=decoupled_weight_decay, maximize=maximize)
