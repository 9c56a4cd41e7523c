"""Transforms built on per-leaf or per-unit norms (optax's ``adaptive_grad_clip``,
``clip_by_block_rms``, ``per_example_*_clip``, ``centralize``,
``normalize_by_update_norm``, ``scale_by_param_block_norm/rms``)."""

from __future__ import annotations

from typing import Optional, Union

import jax
import jax.numpy as jnp

from optjax import tree_math, validation
from optjax.base import GradientTransformation, NO_PARAMS_MSG, init_empty_state
from optjax.numerics import abs_sq as _abs_sq, safe_norm, safe_root_mean_squares  # noqa: F401  (re-exported)


def unitwise_norm(x: jax.Array, axis: Optional[Union[int, tuple[int, ...]]] = None) -> jax.Array:
    """The 2-norm of each output unit of ``x``, broadcast to ``x.shape``: over all of a
    scalar/vector, axis 0 of a 2-D/3-D (``IO``/multi-head) kernel, the first ``ndim - 1``
    axes of a 4-D/5-D conv kernel; ``axis`` overrides.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> optjax.unitwise_norm(jnp.array([[3.0, 0.0], [4.0, 1.0]])).tolist()
        [[5.0, 1.0], [5.0, 1.0]]
    """
    if axis is not None:
        sq = jnp.sum(_abs_sq(x), axis=axis, keepdims=True)
    elif jnp.squeeze(x).ndim <= 1:
        sq = jnp.sum(_abs_sq(x), keepdims=True)
    elif x.ndim in (2, 3):
        sq = jnp.sum(_abs_sq(x), axis=0, keepdims=True)
    elif x.ndim in (4, 5):
        sq = jnp.sum(_abs_sq(x), axis=tuple(range(x.ndim - 1)), keepdims=True)
    else:
        raise ValueError(f"unitwise_norm: expected a parameter of rank 1 to 5, got shape {x.shape}; "
                         "pass axis= to name the reduction axes")
    return jnp.broadcast_to(jnp.sqrt(sq), x.shape)


def unitwise_clip(g_norm: jax.Array, max_norm: jax.Array, grad: jax.Array, div_eps: float = 1e-6) -> jax.Array:
    """``grad`` where ``g_norm < max_norm``, else ``grad * max_norm / max(g_norm, div_eps)``."""
    if not (jnp.shape(g_norm) == jnp.shape(max_norm) == jnp.shape(grad)):
        raise ValueError(f"unitwise_clip: shapes differ: g_norm {jnp.shape(g_norm)}, "
                         f"max_norm {jnp.shape(max_norm)}, grad {jnp.shape(grad)}")
    clipped = grad * (max_norm / jnp.maximum(g_norm, div_eps))
    return jnp.where(g_norm < max_norm, grad, clipped)


def adaptive_grad_clip(clipping: float, eps: float = 1e-3,
                       axis: Optional[Union[int, tuple[int, ...]]] = None) -> GradientTransformation:
    r"""Adaptive gradient clipping (AGC): per unit, ``g <- g * lambda |p| / |g|`` when
    ``|g| > lambda max(|p|, eps)``, norms from :func:`unitwise_norm`; ``lambda = clipping``.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.adaptive_grad_clip(0.1)
        >>> p = {"w": jnp.array([3.0, 4.0])}
        >>> u, _ = tx.update({"w": jnp.array([0.0, 10.0])}, tx.init(p), p)
        >>> [round(x, 4) for x in u["w"].tolist()]
        [0.0, 0.5]

    Reference: Brock et al., `High-Performance Large-Scale Image Recognition Without
    Normalization <https://arxiv.org/abs/2102.06171>`_, 2021.
    """

    def update_fn(updates, state, params=None):
        if params is None:
            raise ValueError(NO_PARAMS_MSG)
        g_norm, p_norm = jax.tree.map(lambda x: unitwise_norm(x, axis=axis), (updates, params))
        max_norm = jax.tree.map(lambda x: clipping * jnp.maximum(x, eps), p_norm)
        return jax.tree.map(unitwise_clip, g_norm, max_norm, updates), state

    return GradientTransformation(init_empty_state, update_fn)


def clip_by_block_rms(threshold: float) -> GradientTransformation:
    """Per leaf, ``u / max(1, rms(u) / threshold)``: leaves whose RMS exceeds
    ``threshold`` are scaled down to it.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.clip_by_block_rms(1.0)
        >>> u, _ = tx.update({"w": jnp.array([2.0, 2.0])}, tx.init(None))
        >>> u["w"].tolist()
        [1.0, 1.0]
    """
    validation.non_negative("threshold", threshold)

    def update_fn(updates, state, params=None):
        del params

        def clip_fn(u):
            return u / jnp.maximum(1.0, jnp.sqrt(jnp.mean(_abs_sq(u))) / threshold)

        return jax.tree.map(clip_fn, updates), state

    return GradientTransformation(init_empty_state, update_fn)


def _has_batch_dim(grads) -> bool:
    return all(jnp.ndim(g) >= 1 for g in jax.tree.leaves(grads))


def per_example_global_norm_clip(grads, l2_norm_clip: float):
    """Clip each example's gradient (axis 0 of every leaf) to global norm ``l2_norm_clip``
    and sum over examples. Returns ``(summed_grads, number_of_examples_clipped)``.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> g, n = optjax.per_example_global_norm_clip([jnp.array([[3.0, 4.0], [0.3, 0.4]])], 1.0)
        >>> [round(x, 4) for x in g[0].tolist()], int(n)
        ([0.9, 1.2], 1)
    """
    if not _has_batch_dim(grads):
        raise ValueError("grads: per_example_global_norm_clip expects every leaf to have a batch "
                         "dimension in axis 0")
    norms = jax.vmap(tree_math.norm)(grads)
    multipliers = jnp.nan_to_num(jnp.minimum(l2_norm_clip / norms, 1.0), nan=1.0)
    num_clipped = jnp.sum(multipliers < 1.0)
    return jax.tree.map(lambda g: jnp.tensordot(multipliers, g, axes=1), grads), num_clipped


def per_example_layer_norm_clip(grads, global_l2_norm_clip: float, uniform: bool = True):
    """Per-layer variant of :func:`per_example_global_norm_clip`: layer ``l`` is clipped to
    ``C / sqrt(L)`` (``uniform``) or ``C sqrt(n_l / n)``. Returns ``(grads, num_clipped)``
    trees.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> g, n = optjax.per_example_layer_norm_clip([jnp.array([[3.0, 4.0]])], 1.0)
        >>> [round(x, 4) for x in g[0].tolist()], n[0].tolist()
        ([0.6, 0.8], 1)
    """
    if not _has_batch_dim(grads):
        raise ValueError("grads: per_example_layer_norm_clip expects every leaf to have a batch "
                         f"dimension in axis 0; got shapes {jax.tree.map(jnp.shape, grads)}")
    if uniform:
        num_layers = len(jax.tree.leaves(grads))
        clips = jax.tree.map(lambda _: global_l2_norm_clip * (1.0 / num_layers) ** 0.5, grads)
    else:
        total = jax.tree.reduce(lambda x, g: x + g[0].size, grads, 0)
        clips = jax.tree.map(lambda g: global_l2_norm_clip * (g[0].size / total) ** 0.5, grads)
    result = jax.tree.map(per_example_global_norm_clip, grads, clips)
    return jax.tree.transpose(outer_treedef=jax.tree.structure(grads),
                              inner_treedef=jax.tree.structure((0, 0)), pytree_to_transpose=result)


def centralize() -> GradientTransformation:
    """Gradient centralization: subtract from each leaf of rank > 1 its mean over all
    axes but the first (leaves of rank <= 1 pass unchanged).

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> u, _ = optjax.centralize().update({"w": jnp.array([[1.0, 3.0]])}, None)
        >>> u["w"].tolist()
        [[-1.0, 1.0]]

    Reference: Yong et al., `Gradient Centralization
    <https://arxiv.org/abs/2004.01461>`_, 2020.
    """

    def sub_mean(g):
        if g.ndim > 1:
            return g - g.mean(tuple(range(1, g.ndim)), keepdims=True)
        return g

    def update_fn(updates, state, params=None):
        del params
        return jax.tree.map(sub_mean, updates), state

    return GradientTransformation(init_empty_state, update_fn)


def normalize_by_update_norm(scale_factor: float = 1.0, eps: float = 1e-6) -> GradientTransformation:
    """``u <- scale_factor * u / (|u| + eps)`` with ``|u|`` the global 2-norm.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.normalize_by_update_norm(eps=0.0)
        >>> u, _ = tx.update({"w": jnp.array([3.0, 4.0])}, tx.init(None))
        >>> u["w"].tolist()
        [0.6000000238418579, 0.800000011920929]
    """
    validation.finite(scale_factor=scale_factor)
    validation.non_negative("eps", eps)

    def update_fn(updates, state, params=None):
        del params
        g_norm = (tree_math.norm(updates) + eps) / scale_factor
        return jax.tree.map(lambda g: g / g_norm, updates), state

    return GradientTransformation(init_empty_state, update_fn)


def scale_by_param_block_norm(min_scale: float = 1e-3) -> GradientTransformation:
    """Per leaf, ``u * max(|p|, min_scale)`` (the parameter block's 2-norm).

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> p = {"w": jnp.array([3.0, 4.0])}
        >>> u, _ = optjax.scale_by_param_block_norm().update({"w": jnp.ones(2)}, None, p)
        >>> u["w"].tolist()
        [5.0, 5.0]
    """
    validation.non_negative("min_scale", min_scale)

    def update_fn(updates, state, params=None):
        if params is None:
            raise ValueError(NO_PARAMS_MSG)
        return jax.tree.map(lambda u, p: u * safe_norm(p, min_scale), updates, params), state

    return GradientTransformation(init_empty_state, update_fn)


def scale_by_param_block_rms(min_scale: float = 1e-3) -> GradientTransformation:
    """Per leaf, ``u * max(rms(p), min_scale)``.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> p = {"w": jnp.array([2.0, 2.0])}
        >>> u, _ = optjax.scale_by_param_block_rms().update({"w": jnp.ones(2)}, None, p)
        >>> u["w"].tolist()
        [2.0, 2.0]
    """
    validation.non_negative("min_scale", min_scale)

    def update_fn(updates, state, params=None):
        if params is None:
            raise ValueError(NO_PARAMS_MSG)
        return jax.tree.map(lambda u, p: u * safe_root_mean_squares(p, min_scale), updates, params), state

    return GradientTransformation(init_empty_state, update_fn)
