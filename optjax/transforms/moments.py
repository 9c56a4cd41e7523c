"""Rescalings by running statistics that optax has and optjax's optimizers do not build
on: ``scale_by_stddev`` (centered RMS) and ``scale_by_distance_over_gradients`` (DoG)."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from optjax import tree_math, validation
from optjax.base import GradientTransformation, NO_PARAMS_MSG, OptState, Updates
from optjax.numerics import abs_sq, safe_increment


class ScaleByRStdDevState(NamedTuple):
    """First and second moments."""

    mu: Updates
    nu: Updates


class ScaleByRStdDevWithCountState(NamedTuple):
    """Step count, first and second moments (with ``bias_correction``)."""

    count: jax.Array
    mu: Updates
    nu: Updates


def scale_by_stddev(decay: float = 0.9, eps: float = 1e-8, initial_scale: float = 0.0,
                    eps_in_sqrt: bool = True, bias_correction: bool = False) -> GradientTransformation:
    r"""Divide by the running standard deviation (centered RMSProp)::

        mu = decay mu + (1 - decay) g,   nu = decay nu + (1 - decay) g^2
        u  = g / sqrt(nu - mu^2 + eps)     (eps_in_sqrt)
        u  = g / (sqrt(nu - mu^2) + eps)   (otherwise)

    ``nu`` starts at ``initial_scale``; ``bias_correction`` divides both moments by
    ``1 - decay^t`` (and keeps a count).

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.scale_by_stddev(decay=0.5, eps=0.0)
        >>> u, _ = tx.update({"w": jnp.array([2.0])}, tx.init({"w": jnp.zeros(1)}))
        >>> float(u["w"][0])
        2.0

    Reference: Graves, `Generating Sequences With Recurrent Neural Networks
    <https://arxiv.org/abs/1308.0850>`_, 2013.
    """
    validation.unit_interval("decay", decay)
    validation.non_negative("eps", eps)
    validation.non_negative("initial_scale", initial_scale)

    def init_fn(params):
        mu = tree_math.zeros_like(params)
        nu = tree_math.full_like(params, initial_scale)
        if bias_correction:
            return ScaleByRStdDevWithCountState(count=jnp.zeros([], jnp.int32), mu=mu, nu=nu)
        return ScaleByRStdDevState(mu=mu, nu=nu)

    def update_fn(updates, state, params=None):
        del params
        mu = tree_math.update_moment(updates, state.mu, decay, 1)
        nu = tree_math.update_moment_per_elem_norm(updates, state.nu, decay, 2)
        if bias_correction:
            count = safe_increment(state.count)
            mu_hat = tree_math.bias_correction(mu, decay, count)
            nu_hat = tree_math.bias_correction(nu, decay, count)
        else:
            mu_hat, nu_hat = mu, nu
        if eps_in_sqrt:
            scaling = jax.tree.map(lambda m, n: jax.lax.rsqrt(n - abs_sq(m) + eps), mu_hat, nu_hat)
        else:
            scaling = jax.tree.map(lambda m, n: 1 / (jnp.sqrt(n - abs_sq(m)) + eps), mu_hat, nu_hat)
        updates = jax.tree.map(lambda s, g: s * g, scaling, updates)
        if bias_correction:
            return updates, ScaleByRStdDevWithCountState(count=count, mu=mu, nu=nu)
        return updates, ScaleByRStdDevState(mu=mu, nu=nu)

    return GradientTransformation(init_fn, update_fn)


class ScaleByDistanceOverGradientsState(NamedTuple):
    """Per leaf: largest distance from the start, running sum of squared gradients,
    the starting parameters."""

    max_dist: OptState
    grad_sum_of_squares: OptState
    init_params: OptState


def scale_by_distance_over_gradients(reps_rel: float = 1e-6, eps: float = 1e-8, param_dtype=jnp.float32,
                                     global_scale: float = 1.0) -> GradientTransformation:
    r"""Layer-wise DoG: per leaf ``u = s * d / sqrt(G + eps) * g`` with
    ``d = max_t |p_t - p_0|`` (starting at ``reps_rel (1 + |p_0|)``), ``G = sum_t |g_t|^2``
    and ``s = global_scale``. Needs ``params``.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.scale_by_distance_over_gradients(reps_rel=0.5, eps=0.0)
        >>> p = {"w": jnp.array([0.0])}
        >>> u, _ = tx.update({"w": jnp.array([2.0])}, tx.init(p), p)
        >>> float(u["w"][0])
        0.5

    Reference: Ivgi et al., `DoG is SGD's Best Friend
    <https://arxiv.org/abs/2302.12022>`_, 2023.
    """
    validation.non_negative("reps_rel", reps_rel)
    validation.non_negative("eps", eps)
    validation.finite(global_scale=global_scale)

    def l2(x, y=0.0):
        return jnp.sqrt(jnp.square(x - y).sum())

    def init_fn(params):
        return ScaleByDistanceOverGradientsState(
            jax.tree.map(lambda x: reps_rel * (1 + l2(x)), params),
            jax.tree.map(lambda x: jnp.zeros(1), params),
            tree_math.cast(params, param_dtype))

    def update_fn(updates, state, params=None):
        if params is None:
            raise ValueError(NO_PARAMS_MSG)
        max_dist = jax.tree.map(lambda d, x, y: jnp.maximum(d, l2(x, y)), state.max_dist, params, state.init_params)
        g_sos = jax.tree.map(lambda x, y: x + jnp.square(y).sum(), state.grad_sum_of_squares, updates)
        updates = jax.tree.map(lambda g, d, s: global_scale * (d / jnp.sqrt(s + eps)) * g, updates, max_dist, g_sos)
        return updates, ScaleByDistanceOverGradientsState(max_dist, g_sos, state.init_params)

    return GradientTransformation(init_fn, update_fn)
