"""Activation operators: ``Activation``, ``LeakyReLU`` (leaky/prelu/elu/selu/gelu/rrelu),
``softmax``, ``log_softmax``, ``softmin``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from optjax.compat.mxnet.base import MXNetError
from optjax.compat.mxnet.ops.registry import register

def in_float32(fn):
    """``fn`` computed in float32 for float16 (and bfloat16) inputs and rounded once, as
    MXNet's CPU kernels do for half precision."""

    def wrapped(x, *args, **kwargs):
        if x.dtype in (jnp.float16, jnp.bfloat16):
            return fn(x.astype(jnp.float32), *args, **kwargs).astype(x.dtype)
        return fn(x, *args, **kwargs)

    return wrapped


_ACT = {
    "relu": jax.nn.relu,
    "sigmoid": jax.nn.sigmoid,
    "tanh": jnp.tanh,
    "softrelu": jax.nn.softplus,  # log(1 + exp(x))
    "softsign": jax.nn.soft_sign,  # x / (1 + |x|)
}


@register("Activation", ("data",))
def activation(data, *, act_type: str):
    """Elementwise ``act_type``: ``relu`` max(x, 0), ``sigmoid`` 1/(1+exp(-x)),
    ``tanh``, ``softrelu`` log(1+exp(x)), ``softsign`` x/(1+|x|)."""
    if act_type not in _ACT:
        raise MXNetError(f"Invalid Input: '{act_type}', valid values are: "
                         "{'relu', 'sigmoid', 'softrelu', 'softsign', 'tanh'}")
    return in_float32(_ACT[act_type])(data)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_LAMBDA = 1.0507009873554804934193349852946


def _prelu_shapes(data_shape, *, act_type: str = "leaky", **_):
    if act_type != "prelu":
        return {}
    return {"gamma": (data_shape[1] if len(data_shape) > 1 else 1,)}


def _gamma_like(gamma, data):
    """``gamma`` broadcast along axis 1 (one slope per channel), or a scalar slope."""
    if gamma.size == 1 or data.ndim < 2:
        return gamma.reshape(())
    return gamma.reshape((1, -1) + (1,) * (data.ndim - 2))


@register("LeakyReLU", ("data", "gamma"), needs_key=True, needs_mode=True,
          param_shapes=_prelu_shapes)
def leaky_relu(data, gamma=None, *, act_type: str = "leaky", slope: float = 0.25,
               lower_bound: float = 0.125, upper_bound: float = 0.334,
               key=None, is_train: bool = False):
    """MXNet's parametrized rectifiers (negative part shown; x for x > 0 unless noted):

    ``leaky`` slope*x; ``prelu`` gamma*x with the learned ``gamma`` (one per
    channel on axis 1, or one scalar); ``elu`` slope*(exp(x)-1); ``selu``
    lambda*x (x > 0) and lambda*alpha*(exp(x)-1), with MXNet's gradient lambda*(y + alpha)
    for x <= 0 (not the exact y + lambda*alpha); ``gelu`` 0.5*x*(1+erf(x/sqrt 2))
    everywhere; ``rrelu`` a slope drawn uniformly in [lower_bound, upper_bound]
    per element in training, (lower_bound+upper_bound)/2 in inference.
    """
    neg = data < 0
    if act_type == "leaky":
        return jnp.where(neg, data * jnp.asarray(slope, data.dtype), data)
    if act_type == "prelu":
        if gamma is None:
            raise MXNetError("LeakyReLU(act_type='prelu') needs the gamma input")
        return jnp.where(neg, _gamma_like(gamma, data) * data, data)
    if act_type == "elu":
        return jnp.where(data > 0, data, jnp.asarray(slope, data.dtype) * jnp.expm1(data))
    if act_type == "selu":
        return _selu(data)
    if act_type == "gelu":
        return jax.nn.gelu(data, approximate=False)
    if act_type == "rrelu":
        if is_train:
            s = jax.random.uniform(key, data.shape, data.dtype, lower_bound, upper_bound)
        else:
            s = jnp.asarray((lower_bound + upper_bound) / 2, data.dtype)
        return jnp.where(neg, s * data, data)
    raise MXNetError(f"Invalid Input: '{act_type}', valid values are: "
                     "{'elu', 'gelu', 'leaky', 'prelu', 'rrelu', 'selu'}")


@jax.custom_vjp
def _selu(x):
    return (_SELU_LAMBDA * jnp.where(x > 0, x, _SELU_ALPHA * jnp.expm1(x))).astype(x.dtype)


def _selu_fwd(x):
    y = _selu(x)
    return y, (x, y)


def _selu_bwd(res, g):
    # MXNet 1.9.1's gradient, measured: lambda * (y + alpha) for x <= 0 (the exact
    # derivative is y + lambda * alpha); lambda for x > 0.
    x, y = res
    return (g * jnp.where(x > 0, _SELU_LAMBDA, _SELU_LAMBDA * (y + _SELU_ALPHA)).astype(x.dtype),)


_selu.defvjp(_selu_fwd, _selu_bwd)


def _masked(data, length, axis, fill):
    """Positions at or beyond ``length`` (per row, along ``axis``) set to ``fill``."""
    axis = axis % data.ndim
    idx = jax.lax.broadcasted_iota(jnp.int32, data.shape, axis)
    lshape = list(data.shape)
    lshape[axis] = 1
    keep = idx < length.astype(jnp.int32).reshape(lshape)
    return jnp.where(keep, data, fill), keep


def _softmax_family(name, fn, sign):
    def op(data, length=None, *, axis: int = -1, temperature: float | None = None,
           dtype: str | None = None, use_length: bool = False):
        x = data if dtype is None else data.astype(dtype)
        out_dtype = x.dtype
        if x.dtype in (jnp.float16, jnp.bfloat16):  # MXNet accumulates half precision in float32
            x = x.astype(jnp.float32)
        if temperature is not None and temperature != 1.0:
            x = x / jnp.asarray(temperature, x.dtype)
        x = sign * x
        if use_length and length is not None:
            x, keep = _masked(x, length, axis, -jnp.inf)
            return jnp.where(keep, fn(x, axis=axis), 0).astype(out_dtype)
        return fn(x, axis=axis).astype(out_dtype)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = (f"``{name}(data, axis=-1, temperature=None)``: "
                  + {"softmax": "exp(x/T) / sum(exp(x/T))", "log_softmax": "x/T - log(sum(exp(x/T)))",
                     "softmin": "exp(-x/T) / sum(exp(-x/T))"}[name]
                  + " along ``axis``; ``use_length`` masks positions beyond ``length`` (output 0).")
    return op


register("softmax", ("data", "length"))(_softmax_family("softmax", jax.nn.softmax, 1))
register("log_softmax", ("data", "length"))(_softmax_family("log_softmax", jax.nn.log_softmax, 1))
register("softmin", ("data", "length"))(_softmax_family("softmin", jax.nn.softmax, -1))


@register("hard_sigmoid", ("data",))
def hard_sigmoid(data, *, alpha: float = 0.2, beta: float = 0.5):
    """``max(0, min(1, alpha * x + beta))``."""
    return jnp.clip(data * jnp.asarray(alpha, data.dtype) + jnp.asarray(beta, data.dtype), 0, 1)


@register("SoftmaxActivation", ("data",))
def softmax_activation(data, *, mode: str = "instance"):
    """Softmax over the last axis (``mode='instance'``) or over axis 1 (``'channel'``)."""
    return jax.nn.softmax(data, axis=1 if mode == "channel" else -1)
