"""Loss operators with ordinary (autodiff) gradients: ``smooth_l1``, ``softmax_cross_entropy``."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from optjax.compat.mxnet.ops.registry import register


@register("smooth_l1", ("data",))
def smooth_l1(data, *, scalar: float = 1.0):
    """``0.5 (sigma x)^2`` where ``|x| < 1 / sigma^2``, else ``|x| - 0.5 / sigma^2``
    (``sigma = scalar``)."""
    s2 = jnp.asarray(scalar * scalar, data.dtype)
    return jnp.where(jnp.abs(data) < 1 / s2, 0.5 * s2 * data * data, jnp.abs(data) - 0.5 / s2)


@register("softmax_cross_entropy", ("data", "label"))
def softmax_cross_entropy(data, label):
    """``-sum_i log softmax(data[i])[label[i]]`` over the batch, shape (1,)."""
    logp = jax.nn.log_softmax(data, axis=-1)
    picked = jnp.take_along_axis(logp, label.astype(jnp.int32).reshape(-1, 1), axis=-1)
    return -jnp.sum(picked).reshape((1,))
