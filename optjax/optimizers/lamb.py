"""LAMB: layer-wise adaptive moments (``optax.lamb``, ``mx.optimizer.LAMB``),
and ``scale_by_trust_ratio``.

Reference: You et al., *Large Batch Optimization for Deep Learning: Training
BERT in 76 minutes*, ICLR 2020; MXNet 1.9.1 ``lamb_update_phase1/2``.
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optjax import numerics, per_leaf, validation
from optjax.base import GradientTransformation, ScalarOrSchedule, init_empty_state
from optjax.combine import chain
from optjax.optimizers._util import concrete_nonzero
from optjax.optimizers.adam import scale_by_adam
from optjax.transforms.scaling import scale_by_learning_rate
from optjax.transforms.weight_decay import add_decayed_weights


def trust_ratio(p, u, *, trust_coefficient=1.0, eps=0.0, min_norm=0.0, lower_bound=None, upper_bound=None):
    """``tc * |p| / (|u| + eps)`` for one leaf (1 where either norm is 0);
    ``|p|`` is first floored/capped by ``lower_bound``/``upper_bound``."""
    p_norm = jnp.sqrt(jnp.sum(numerics.abs_sq(p)))  # |z|^2 for complex leaves
    u_norm = jnp.sqrt(jnp.sum(numerics.abs_sq(u)))
    # norms are >= 0, so min_norm = 0 changes nothing (and min_norm may be traced)
    p_norm = jnp.maximum(p_norm, min_norm)
    u_norm = jnp.maximum(u_norm, min_norm)
    if lower_bound is not None:
        p_norm = jnp.maximum(p_norm, lower_bound)
    if upper_bound is not None:
        p_norm = jnp.minimum(p_norm, upper_bound)
    zero = (p_norm == 0.0) | (u_norm == 0.0)
    ratio = trust_coefficient * p_norm / (jnp.where(zero, 1.0, u_norm) + eps)
    return jnp.where(zero, 1.0, ratio)


def scale_by_trust_ratio(
    min_norm: float = 0.0,
    trust_coefficient: float = 1.0,
    eps: float = 0.0,
    *,
    lower_bound: float | None = None,
    upper_bound: float | None = None,
) -> GradientTransformation:
    """Scale each leaf's update by ``tc * |p| / (|u| + eps)`` (1 if either norm is 0).

    ``optax.scale_by_trust_ratio`` with two MXNet LAMB options: ``lower_bound``
    and ``upper_bound`` clamp ``|p|`` before the ratio (MXNet's LAMB
    ``lower_bound``/``upper_bound``). Needs params.
    """
    validation.non_negative("min_norm", min_norm)
    validation.non_negative("trust_coefficient", trust_coefficient)
    validation.non_negative("eps", eps)
    if lower_bound is not None:
        validation.non_negative("lower_bound", lower_bound)
    if upper_bound is not None:
        validation.non_negative("upper_bound", upper_bound)

    @jax.jit
    def leaf(g, p):
        r = trust_ratio(p, g, trust_coefficient=trust_coefficient, eps=eps, min_norm=min_norm,
                        lower_bound=lower_bound, upper_bound=upper_bound)
        return g * r, ()

    def update_fn(updates, state, params=None, **extra_args):
        del extra_args
        updates, () = per_leaf.apply(leaf, updates, (), params, name="scale_by_trust_ratio", needs_params=True)
        return updates, state

    return GradientTransformation(init_empty_state, update_fn)


class ScaleByLambMomentsState(NamedTuple):
    count: jax.Array
    mu: Any
    nu: Any


def _scale_by_uncorrected_moments(b1, b2, eps, mu_dtype, nu_dtype):
    """``m / (sqrt(v) + eps)`` without bias correction (LAMB's ``bias_correction=False``)."""

    @jax.jit
    def leaf(g, p, mu, nu):
        del p
        mu = b1 * mu + (1.0 - b1) * g
        nu = b2 * nu + (1.0 - b2) * g * g
        return mu / (jnp.sqrt(nu) + eps), (mu, nu)

    def init_fn(params):
        return ScaleByLambMomentsState(count=numerics.zero_count(), mu=per_leaf.zeros(params, mu_dtype),
                                       nu=per_leaf.second_moments(params, nu_dtype))

    def update_fn(updates, state, params=None, **extra_args):
        del params, extra_args
        updates, (mu, nu) = per_leaf.apply(leaf, updates, (state.mu, state.nu))
        return updates, ScaleByLambMomentsState(numerics.safe_increment(state.count), mu, nu)

    return GradientTransformation(init_fn, update_fn)


def lamb(
    learning_rate: ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-6,
    eps_root: float = 0.0,
    weight_decay: Any = 0.0,
    mask: Any = None,
    *,
    bias_correction: bool = True,
    lower_bound: float | None = None,
    upper_bound: float | None = None,
    mu_dtype: Any = None,
    nu_dtype: Any = None,
) -> GradientTransformation:
    """LAMB: Adam's direction plus decoupled decay, scaled per layer by a trust ratio::

        m <- b1 m + (1-b1) g ;  v <- b2 v + (1-b2) g**2
        r = m_hat / (sqrt(v_hat + eps_root) + eps) + wd * w      (m, v if not bias_correction)
        w <- w - lr * (|w| / |r|) * r                               (ratio 1 if a norm is 0)

    Same signature and numbers as ``optax.lamb``; the keyword-only options are
    MXNet's: ``bias_correction=False`` uses ``m / (sqrt(v) + eps)``,
    ``lower_bound``/``upper_bound`` clamp ``|w|`` in the ratio. MXNet's
    ``LAMB(learning_rate, beta1, beta2, epsilon, lower_bound, upper_bound,
    bias_correction, wd)`` is ``lamb(learning_rate, beta1, beta2, epsilon,
    weight_decay=wd, ...)`` after ``clip(rescale_grad * g)``.

    Args:
      learning_rate: ``lr >= 0``, float or schedule.
      b1, b2: decays in [0, 1).
      eps, eps_root: ``>= 0``.
      weight_decay: decoupled decay ``>= 0`` inside the trust ratio.
      mask: which leaves decay (see :func:`optjax.add_decayed_weights`).
      bias_correction, lower_bound, upper_bound: MXNet's options.
      mu_dtype: dtype of ``m`` (default: the param's).
      nu_dtype: dtype of ``v`` (default: at least float32; ``"param"`` for the
        param's dtype, see :func:`optjax.numerics.second_moment_dtype`).

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.lamb(1e-3)
    >>> p = {"w": jnp.ones(2)}
    >>> u, s = tx.update({"w": jnp.ones(2)}, tx.init(p), p)
    """
    validation.learning_rate(learning_rate)
    validation.unit_interval("b1", b1)
    validation.unit_interval("b2", b2)
    validation.non_negative("eps", eps)
    validation.non_negative("weight_decay", weight_decay)
    if bias_correction:
        moments = scale_by_adam(b1, b2, eps, eps_root, mu_dtype=mu_dtype, nu_dtype=nu_dtype)
    else:
        # A concrete nonzero eps_root is an error; a traced one (inject_hyperparams'
        # update) was already checked at construction. ``if eps_root`` would fail
        # on the tracer.
        if concrete_nonzero(eps_root):
            raise ValueError("eps_root needs bias_correction=True")
        moments = _scale_by_uncorrected_moments(b1, b2, eps, mu_dtype, nu_dtype)
    return chain(
        moments,
        add_decayed_weights(weight_decay, mask),
        scale_by_trust_ratio(lower_bound=lower_bound, upper_bound=upper_bound),
        scale_by_learning_rate(learning_rate),
    )
