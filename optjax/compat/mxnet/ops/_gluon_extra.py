"""Neural-network operators gluon's layers and losses call, where the operator modules lack them.

This file is a stop-gap kept apart from the operator modules: each function here
is registered only when no operator module has registered that name already
(the package imports this module last), so the operator modules' versions win.
Every function follows the registry's conventions (:mod:`.registry`).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax import lax

from optjax.compat.mxnet.base import MXNetError
from optjax.compat.mxnet.ops.registry import OPS, register

_HI = lax.Precision.HIGHEST


def _register(name, inputs=("data",), **options):
    """``register`` unless an operator module registered ``name`` first."""
    def deco(fn):
        if name in OPS:
            return fn
        options["aliases"] = tuple(a for a in options.get("aliases", ()) if a not in OPS)
        return register(name, inputs, **options)(fn)
    return deco


def _tup(v, n, default):
    if v is None or v == ():
        return (default,) * n
    if isinstance(v, int):
        return (v,) * n
    return tuple(int(x) for x in v)


def _fc_shapes(data_shape, *, num_hidden, no_bias=False, flatten=True, **_):
    n_in = math.prod(data_shape[1:]) if flatten else data_shape[-1]
    return {"weight": (num_hidden, n_in), "bias": (num_hidden,)}


@_register("FullyConnected", ("data", "weight", "bias"), param_shapes=_fc_shapes)
def fully_connected(data, weight, bias=None, *, num_hidden: int, no_bias: bool = False,
                    flatten: bool = True):
    """``y = x W^T + b``; ``flatten`` folds all but the first axis of ``x`` into features."""
    x = data.reshape(data.shape[0], -1) if flatten else data
    if x.shape[-1] != weight.shape[1]:
        raise MXNetError(f"FullyConnected: input has {x.shape[-1]} features but weight has shape "
                         f"{tuple(weight.shape)} (expected ({num_hidden}, {x.shape[-1]}))")
    y = jnp.matmul(x, weight.T, precision=_HI)
    if bias is not None and not no_bias:
        y = y + bias
    return y


_LAYOUTS = {1: "NCW", 2: "NCHW", 3: "NCDHW"}


def _layout(nsp, layout):
    default = _LAYOUTS[nsp]
    if layout not in (None, default):
        raise MXNetError(f"layout {layout!r} is not supported on CPU; use {default!r}")
    return default


def _conv_shapes(data_shape, *, kernel, num_filter, num_group=1, no_bias=False, **_):
    return {"weight": (num_filter, data_shape[1] // num_group) + tuple(kernel),
            "bias": (num_filter,)}


@_register("Convolution", ("data", "weight", "bias"), param_shapes=_conv_shapes)
def convolution(data, weight, bias=None, *, kernel: tuple, num_filter: int, stride: tuple = (),
                dilate: tuple = (), pad: tuple = (), num_group: int = 1, workspace: int = 1024,
                no_bias: bool = False, cudnn_tune: str = None, cudnn_off: bool = False,
                layout: str = None):
    """N-d convolution (cross-correlation), channels first; weight ``(F, C/groups, *kernel)``."""
    nsp = len(kernel)
    lay = _layout(nsp, layout)
    stride, dilate, pad = _tup(stride, nsp, 1), _tup(dilate, nsp, 1), _tup(pad, nsp, 0)
    y = lax.conv_general_dilated(
        data, weight.astype(data.dtype), window_strides=stride, padding=[(p, p) for p in pad],
        rhs_dilation=dilate, dimension_numbers=(lay, "OI" + lay[2:], lay),
        feature_group_count=num_group, precision=_HI)
    if bias is not None and not no_bias:
        y = y + bias.reshape((1, -1) + (1,) * nsp)
    return y


def _deconv_shapes(data_shape, *, kernel, num_filter, num_group=1, **_):
    return {"weight": (data_shape[1], num_filter // num_group) + tuple(kernel),
            "bias": (num_filter,)}


@_register("Deconvolution", ("data", "weight", "bias"), param_shapes=_deconv_shapes)
def deconvolution(data, weight, bias=None, *, kernel: tuple, num_filter: int, stride: tuple = (),
                  dilate: tuple = (), pad: tuple = (), adj: tuple = (), target_shape: tuple = (),
                  num_group: int = 1, workspace: int = 512, no_bias: bool = True,
                  cudnn_tune: str = None, cudnn_off: bool = False, layout: str = None):
    """Transposed convolution: the gradient of ``Convolution`` with respect to its data.

    Output size ``(in - 1) * stride - 2 * pad + dilate * (kernel - 1) + 1 + adj``;
    weight ``(C, F/groups, *kernel)``.
    """
    nsp = len(kernel)
    lay = _layout(nsp, layout)
    stride, dilate = _tup(stride, nsp, 1), _tup(dilate, nsp, 1)
    pad, adj = _tup(pad, nsp, 0), _tup(adj, nsp, 0)
    c_in, g = weight.shape[0], num_group
    w = weight.reshape((g, c_in // g, num_filter // g) + tuple(kernel))
    w = jnp.swapaxes(w, 1, 2).reshape((num_filter, c_in // g) + tuple(kernel))
    w = jnp.flip(w, axis=tuple(range(2, 2 + nsp)))
    padding = [(d * (k - 1) - p, d * (k - 1) - p + a)
               for k, d, p, a in zip(kernel, dilate, pad, adj)]
    y = lax.conv_general_dilated(
        data, w.astype(data.dtype), window_strides=(1,) * nsp, padding=padding,
        lhs_dilation=stride, rhs_dilation=dilate, dimension_numbers=(lay, "OI" + lay[2:], lay),
        feature_group_count=g, precision=_HI)
    if bias is not None and not no_bias:
        y = y + bias.reshape((1, -1) + (1,) * nsp)
    return y


@_register("Pooling")
def pooling(data, *, kernel: tuple = (), pool_type: str = "max", global_pool: bool = False,
            cudnn_off: bool = False, pooling_convention: str = "valid", stride: tuple = (),
            pad: tuple = (), p_value: int = None, count_include_pad: bool = None,
            layout: str = None):
    """Max/avg/sum pooling over the spatial axes (channels first).

    ``'valid'`` convention: ``out = floor((in + 2 pad - kernel) / stride) + 1``;
    ``'full'``: ``ceil`` instead. Average pooling divides by the window clipped to
    the padded input (``count_include_pad``, MXNet's default) or by the number of
    real elements.
    """
    nsp = data.ndim - 2
    _layout(nsp, layout)
    axes = tuple(range(2, data.ndim))
    if global_pool:
        red = {"max": jnp.max, "avg": jnp.mean, "sum": jnp.sum}[pool_type]
        return red(data, axis=axes, keepdims=True)
    kernel = _tup(kernel, nsp, 1)
    stride, pad = _tup(stride, nsp, 1), _tup(pad, nsp, 0)
    extra = []
    for n, k, s, p in zip(data.shape[2:], kernel, stride, pad):
        span = n + 2 * p - k
        if pooling_convention == "full":
            out = -(-span // s) + 1
        elif pooling_convention == "valid":
            out = span // s + 1
        else:
            raise MXNetError(f"Pooling: pooling_convention {pooling_convention!r} is not supported")
        extra.append(max(0, (out - 1) * s + k - (n + 2 * p)))
    window, strides = (1, 1) + kernel, (1, 1) + stride
    padding = ((0, 0), (0, 0)) + tuple((p, p + e) for p, e in zip(pad, extra))
    if pool_type == "max":
        return lax.reduce_window(data, -jnp.inf, lax.max, window, strides, padding)
    total = lax.reduce_window(data, 0.0, lax.add, window, strides, padding)
    if pool_type == "sum":
        return total
    if pool_type != "avg":
        raise MXNetError(f"Pooling: pool_type {pool_type!r} is not supported")
    include = True if count_include_pad is None else count_include_pad
    spatial = data.shape[2:]
    if include:
        ones = jnp.ones(tuple(n + 2 * p for n, p in zip(spatial, pad)), data.dtype)
        pads = tuple((0, e) for e in extra)
    else:
        ones = jnp.ones(spatial, data.dtype)
        pads = tuple((p, p + e) for p, e in zip(pad, extra))
    count = lax.reduce_window(ones, 0.0, lax.add, kernel, stride, pads)
    return total / count


def _bn_shapes(data_shape, *, axis=1, **_):
    c = (data_shape[axis],)
    return {"gamma": c, "beta": c, "moving_mean": c, "moving_var": c}


@_register("BatchNorm", ("data", "gamma", "beta"), aux=("moving_mean", "moving_var"),
           needs_mode=True, param_shapes=_bn_shapes)
def batch_norm(data, gamma, beta, moving_mean, moving_var, *, eps: float = 1e-3,
               momentum: float = 0.9, fix_gamma: bool = True, use_global_stats: bool = False,
               output_mean_var: bool = False, axis: int = 1, cudnn_off: bool = False,
               min_calib_range: float = None, max_calib_range: float = None,
               is_train: bool = False):
    """``(x - mean) / sqrt(var + eps) * gamma + beta`` over every axis but ``axis``.

    Training (and not ``use_global_stats``): the batch's mean and biased variance,
    and the moving statistics become ``m * momentum + batch * (1 - momentum)``.
    Otherwise the moving statistics, unchanged. ``fix_gamma`` uses ``gamma = 1``.
    """
    ax = axis % data.ndim
    red = tuple(a for a in range(data.ndim) if a != ax)
    shape = [1] * data.ndim
    shape[ax] = data.shape[ax]
    x = data.astype(jnp.float32) if data.dtype == jnp.float16 else data
    if is_train and not use_global_stats:
        mean = jnp.mean(x, axis=red)
        var = jnp.mean(jnp.square(x - mean.reshape(shape)), axis=red)
        m, v = lax.stop_gradient(mean), lax.stop_gradient(var)
        new_aux = (moving_mean * momentum + m.astype(moving_mean.dtype) * (1 - momentum),
                   moving_var * momentum + v.astype(moving_var.dtype) * (1 - momentum))
    else:
        mean, var = moving_mean, moving_var
        new_aux = (moving_mean, moving_var)
    g = jnp.ones_like(gamma) if fix_gamma else gamma
    scale = g.reshape(shape) * lax.rsqrt(var.reshape(shape) + eps)
    out = (x - mean.reshape(shape)) * scale + beta.reshape(shape)
    return out.astype(data.dtype), new_aux


@_register("Dropout", needs_key=True, needs_mode=True)
def dropout(data, *, p: float = 0.5, mode: str = "training", axes: tuple = (),
            cudnn_off: bool = False, key=None, is_train: bool = False):
    """Training: zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``
    (``axes`` share one draw); inference: identity. The draws are JAX's."""
    if not (is_train or mode == "always") or p == 0:
        return data
    shape = tuple(1 if i in tuple(axes) else n for i, n in enumerate(data.shape))
    keep = jax.random.bernoulli(key, 1.0 - p, shape)
    return jnp.where(keep, data / (1.0 - p), jnp.zeros((), data.dtype)).astype(data.dtype)


_ACT = {"relu": jax.nn.relu, "sigmoid": jax.nn.sigmoid, "tanh": jnp.tanh,
        "softrelu": jax.nn.softplus, "softsign": jax.nn.soft_sign,
        "log_sigmoid": jax.nn.log_sigmoid, "mish": lambda x: x * jnp.tanh(jax.nn.softplus(x))}


@_register("Activation")
def activation(data, *, act_type: str):
    """``relu``, ``sigmoid``, ``tanh``, ``softrelu`` (``log(1 + e^x)``) or ``softsign``."""
    if act_type not in _ACT:
        raise MXNetError(f"Activation: act_type must be one of {sorted(_ACT)}, got {act_type!r}")
    return _ACT[act_type](data)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_LAMBDA = 1.0507009873554804934193349852946


@jax.custom_vjp
def _selu(x):
    return _SELU_LAMBDA * jnp.where(x > 0, x, _SELU_ALPHA * jnp.expm1(jnp.minimum(x, 0)))


def _selu_fwd(x):
    y = _selu(x)
    return y, y


def _selu_bwd(y, g):
    # MXNet 1.9.1's selu_grad evaluates lambda * (alpha + a) at the OUTPUT a = y, not
    # at alpha * (e^x - 1): for x < 0 its gradient is lambda * (alpha + y), which differs
    # from the derivative lambda * alpha * e^x. Kept for MXNet's numbers.
    return (g * _SELU_LAMBDA * jnp.where(y > 0, 1.0, _SELU_ALPHA + y),)


_selu.defvjp(_selu_fwd, _selu_bwd)


@_register("LeakyReLU", ("data", "gamma"))
def leaky_relu(data, gamma=None, *, act_type: str = "leaky", slope: float = 0.25,
               lower_bound: float = 0.125, upper_bound: float = 0.334):
    """``leaky``: ``x if x > 0 else slope x``; ``prelu``: a learned slope ``gamma`` per channel
    (axis 1); ``elu``: ``slope (e^x - 1)`` below 0; ``selu``; ``gelu`` (erf form);
    ``rrelu`` at inference: the mean slope."""
    x = data
    if act_type == "leaky":
        return jnp.where(x > 0, x, slope * x)
    if act_type == "prelu":
        g = gamma.reshape((1, -1) + (1,) * (x.ndim - 2)) if x.ndim > 1 else gamma
        return jnp.where(x > 0, x, g * x)
    if act_type == "elu":
        return jnp.where(x > 0, x, slope * jnp.expm1(jnp.minimum(x, 0)))
    if act_type == "selu":
        return _selu(x)
    if act_type == "gelu":
        return 0.5 * x * (1 + jax.scipy.special.erf(x / math.sqrt(2.0)))
    if act_type == "rrelu":
        s = (lower_bound + upper_bound) / 2
        return jnp.where(x > 0, x, s * x)
    raise MXNetError(f"LeakyReLU: unknown act_type {act_type!r}")


def _emb_shapes(data_shape, *, input_dim, output_dim, **_):
    return {"weight": (input_dim, output_dim)}


@_register("Embedding", ("data", "weight"), param_shapes=_emb_shapes)
def embedding(data, weight, *, input_dim: int, output_dim: int, dtype: str = "float32",
              sparse_grad: bool = False):
    """Rows of ``weight`` picked by the (clipped) integer values of ``data``."""
    return jnp.take(weight, data.astype(jnp.int32), axis=0, mode="clip")


def _ln_shapes(data_shape, *, axis=-1, **_):
    c = (data_shape[axis],)
    return {"gamma": c, "beta": c}


@_register("LayerNorm", ("data", "gamma", "beta"), param_shapes=_ln_shapes)
def layer_norm(data, gamma, beta, *, axis: int = -1, eps: float = 1e-5,
               output_mean_var: bool = False):
    """``(x - mean) / sqrt(var + eps) * gamma + beta``, statistics over ``axis``."""
    ax = axis % data.ndim
    mean = jnp.mean(data, axis=ax, keepdims=True)
    var = jnp.mean(jnp.square(data - mean), axis=ax, keepdims=True)
    shape = [1] * data.ndim
    shape[ax] = data.shape[ax]
    return (data - mean) * lax.rsqrt(var + eps) * gamma.reshape(shape) + beta.reshape(shape)


def _in_shapes(data_shape, **_):
    return {"gamma": (data_shape[1],), "beta": (data_shape[1],)}


@_register("InstanceNorm", ("data", "gamma", "beta"), param_shapes=_in_shapes)
def instance_norm(data, gamma, beta, *, eps: float = 1e-3):
    """Normalise each sample's channel over its spatial axes; ``gamma``/``beta`` per channel."""
    red = tuple(range(2, data.ndim))
    mean = jnp.mean(data, axis=red, keepdims=True)
    var = jnp.mean(jnp.square(data - mean), axis=red, keepdims=True)
    shape = (1, -1) + (1,) * (data.ndim - 2)
    return (data - mean) * lax.rsqrt(var + eps) * gamma.reshape(shape) + beta.reshape(shape)


def _scaled(data, temperature):
    return data if temperature is None else data / temperature


@_register("softmax")
def softmax(data, *, axis: int = -1, temperature: float = None, dtype: str = None,
            use_length: bool = False):
    """``exp(x / T) / sum(exp(x / T))`` along ``axis``."""
    return jax.nn.softmax(_scaled(data, temperature), axis=axis)


@_register("log_softmax")
def log_softmax(data, *, axis: int = -1, temperature: float = None,
                dtype: str = None, use_length: bool = False):
    """``log(softmax(x / T))`` along ``axis``, computed stably."""
    return jax.nn.log_softmax(_scaled(data, temperature), axis=axis)


@_register("pick", ("data", "index"))
def pick(data, index, *, axis: int = -1, keepdims: bool = False, mode: str = "clip"):
    """``data[..., index, ...]`` along ``axis``, one index per position of the other axes."""
    ax = axis % data.ndim
    n = data.shape[ax]
    idx = index.astype(jnp.int32)
    idx = jnp.clip(idx, 0, n - 1) if mode == "clip" else jnp.mod(idx, n)
    idx = idx.reshape(data.shape[:ax] + (1,) + data.shape[ax + 1:])
    r = jnp.take_along_axis(data, idx, axis=ax)
    return r if keepdims else jnp.squeeze(r, axis=ax)


@_register("one_hot", ("indices",))
def one_hot(indices, *, depth: int, on_value: float = 1.0, off_value: float = 0.0,
            dtype: str = "float32"):
    """``on_value`` at each index along a new last axis of size ``depth``, else ``off_value``."""
    hot = jax.nn.one_hot(indices.astype(jnp.int32), depth, dtype=jnp.bool_)
    return jnp.where(hot, on_value, off_value).astype(dtype)


@_register("where", ("condition", "x", "y"))
def where(condition, x, y):
    """``x`` where ``condition`` is non-zero, else ``y``."""
    return jnp.where(condition != 0, x, y)
