"""Normalization operators: ``BatchNorm``, ``LayerNorm``, ``InstanceNorm``, ``L2Normalization``."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from optjax.compat.mxnet.base import MXNetError
from optjax.compat.mxnet.ops.registry import register


def _channel_shapes(data_shape, *, axis: int = 1, **_):
    c = (int(data_shape[axis % len(data_shape)]),)
    return {"gamma": c, "beta": c}


def _bn_shapes(data_shape, *, axis: int = 1, **_):
    c = (int(data_shape[axis % len(data_shape)]),)
    return {"gamma": c, "beta": c, "moving_mean": c, "moving_var": c}


def _bn_outputs(output_mean_var: bool = False, **_):
    return 3 if output_mean_var else 1


def _along(v, axis, ndim):
    shape = [1] * ndim
    shape[axis] = -1
    return v.reshape(shape)


def _bn_moving_average(*, momentum: float = 0.9, use_global_stats: bool = False, **_):
    return None if use_global_stats else float(momentum)


@register("BatchNorm", ("data", "gamma", "beta"), aux=("moving_mean", "moving_var"),
          num_outputs=_bn_outputs, needs_mode=True, param_shapes=_bn_shapes,
          moving_average=_bn_moving_average)
def batch_norm(data, gamma, beta, moving_mean, moving_var, *, eps: float = 1e-3,
               momentum: float = 0.9, fix_gamma: bool = True, use_global_stats: bool = False,
               output_mean_var: bool = False, axis: int = 1, cudnn_off: bool = False,
               min_calib_range: float | None = None, max_calib_range: float | None = None,
               is_train: bool = False):
    """``y = (x - mean) / sqrt(var + eps) * gamma + beta`` per channel (``axis``).

    Training (and not ``use_global_stats``): mean and *biased* variance of the
    batch over every axis but ``axis``; the new auxiliary states are
    ``moving = momentum * moving + (1 - momentum) * batch`` (biased variance, as
    MXNet 1.9.1 measured). Otherwise the moving statistics are used and left as
    they are. ``fix_gamma=True`` (the default) uses gamma = 1 and gives gamma a
    zero gradient. Defaults are MXNet's: ``eps=1e-3, momentum=0.9, fix_gamma=True``.
    With ``output_mean_var`` the outputs are ``(y, mean, 1/sqrt(var + eps))`` in
    training and ``(y, moving_mean, moving_var)`` otherwise.

    Returns ``(outputs, (new moving_mean, new moving_var))``. MXNet 1.9.1 writes the
    moving statistics in the BACKWARD pass of a training forward, reading them
    then (a training forward without backward leaves them unchanged; two backward
    passes over one retained graph update twice); the front ends do the same
    through the registry's ``moving_average`` rule.
    """
    ax = axis % data.ndim
    red = tuple(i for i in range(data.ndim) if i != ax)
    g = jnp.ones_like(gamma) if fix_gamma else gamma
    batch = is_train and not use_global_stats
    if batch:
        mean = jnp.mean(data, axis=red)
        var = jnp.mean(jnp.square(data - _along(mean, ax, data.ndim)), axis=red)
    else:
        mean, var = moving_mean.astype(data.dtype), moving_var.astype(data.dtype)
    inv = jax.lax.rsqrt(var + jnp.asarray(eps, var.dtype))
    y = (data - _along(mean, ax, data.ndim)) * _along(inv * g, ax, data.ndim) \
        + _along(beta, ax, data.ndim)
    if batch:
        m = jnp.asarray(momentum, moving_mean.dtype)
        new_aux = (moving_mean * m + jax.lax.stop_gradient(mean) * (1 - m),
                   moving_var * m + jax.lax.stop_gradient(var) * (1 - m))
        extra = (mean, inv)
    else:
        new_aux = (moving_mean, moving_var)
        extra = (moving_mean, moving_var)
    outs = (y,) + extra if output_mean_var else y
    return outs, new_aux


def _ln_outputs(output_mean_var: bool = False, **_):
    return 3 if output_mean_var else 1


@register("LayerNorm", ("data", "gamma", "beta"), num_outputs=_ln_outputs,
          param_shapes=lambda s, axis=-1, **_: _channel_shapes(s, axis=axis))
def layer_norm(data, gamma, beta, *, axis: int = -1, eps: float = 1e-5,
               output_mean_var: bool = False):
    """``(x - mean) / sqrt(var + eps) * gamma + beta`` over ``axis`` (default -1, eps 1e-5),
    gamma and beta of shape ``(data.shape[axis],)``. ``output_mean_var`` adds the mean
    and ``sqrt(var + eps)`` (kept-dim shapes)."""
    ax = axis % data.ndim
    mean = jnp.mean(data, axis=ax, keepdims=True)
    var = jnp.mean(jnp.square(data - mean), axis=ax, keepdims=True)
    std = jnp.sqrt(var + jnp.asarray(eps, data.dtype))
    y = (data - mean) / std * _along(gamma, ax, data.ndim) + _along(beta, ax, data.ndim)
    return (y, mean, std) if output_mean_var else y


@register("InstanceNorm", ("data", "gamma", "beta"), param_shapes=_channel_shapes)
def instance_norm(data, gamma, beta, *, eps: float = 1e-3):
    """``(x - mean) / sqrt(var + eps) * gamma + beta`` with mean and biased variance over
    the spatial axes (2, 3, ...) of each sample and channel; gamma, beta ``(C,)``; eps 1e-3."""
    red = tuple(range(2, data.ndim))
    mean = jnp.mean(data, axis=red, keepdims=True)
    var = jnp.mean(jnp.square(data - mean), axis=red, keepdims=True)
    y = (data - mean) * jax.lax.rsqrt(var + jnp.asarray(eps, data.dtype))
    return y * _along(gamma, 1, data.ndim) + _along(beta, 1, data.ndim)


@register("L2Normalization", ("data",))
def l2_normalization(data, *, eps: float = 1e-10, mode: str = "instance"):
    """``x / sqrt(sum(x^2) + eps)`` with the sum over every axis but the first
    (``mode='instance'``, default), over axis 1 (``'channel'``), or over axes 2...
    (``'spatial'``)."""
    axes = {"instance": tuple(range(1, data.ndim)), "channel": (1,),
            "spatial": tuple(range(2, data.ndim))}
    if mode not in axes:
        raise MXNetError(f"Invalid Input: '{mode}', valid values are: "
                         "{'channel', 'instance', 'spatial'}")
    ss = jnp.sum(jnp.square(data), axis=axes[mode], keepdims=True)
    return data / jnp.sqrt(ss + jnp.asarray(eps, data.dtype))


@register("LRN", ("data",))
def lrn(data, *, nsize: int, alpha: float = 1e-4, beta: float = 0.75, knorm: float = 2.0):
    """Local response normalization across channels (axis 1):
    ``x / (knorm + alpha / nsize * sum_{|c' - c| <= nsize // 2} x[c']^2) ^ beta``."""
    half = nsize // 2
    sq = jnp.square(data)
    pads = [(0, 0)] * data.ndim
    pads[1] = (half, half)
    window = [1] * data.ndim
    window[1] = nsize
    s = jax.lax.reduce_window(jnp.pad(sq, pads), np.zeros((), data.dtype), jax.lax.add,
                              window, [1] * data.ndim, [(0, 0)] * data.ndim)
    scale = knorm + (alpha / nsize) * s
    return data * scale ** jnp.asarray(-beta, data.dtype)


def _gn_outputs(output_mean_var: bool = False, **_):
    return 3 if output_mean_var else 1


@register("GroupNorm", ("data", "gamma", "beta"), num_outputs=_gn_outputs,
          param_shapes=lambda s, num_groups=1, **_: {"gamma": (int(num_groups),),
                                                      "beta": (int(num_groups),)})
def group_norm(data, gamma, beta, *, num_groups: int = 1, eps: float = 1e-5,
               output_mean_var: bool = False):
    """Normalize each group of ``C / num_groups`` channels over its channels and spatial axes:
    ``(x - mean) / sqrt(var + eps) * gamma[g] + beta[g]``; in MXNet 1.9.1 gamma and beta
    have one value per *group* (``(num_groups,)``). ``output_mean_var`` adds the mean and
    ``sqrt(var + eps)`` of each (sample, group)."""
    n, c = data.shape[:2]
    x = data.reshape((n, num_groups, -1))
    mean = jnp.mean(x, axis=-1, keepdims=True)
    var = jnp.mean(jnp.square(x - mean), axis=-1, keepdims=True)
    std = jnp.sqrt(var + jnp.asarray(eps, data.dtype))
    y = ((x - mean) / std) * gamma.reshape(1, -1, 1) + beta.reshape(1, -1, 1)
    y = y.reshape(data.shape)
    return (y, mean.reshape(n, num_groups), std.reshape(n, num_groups)) if output_mean_var else y
