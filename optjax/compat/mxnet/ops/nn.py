"""Dense layers and products: ``FullyConnected``, ``dot``, ``batch_dot``, ``Embedding``, ``Dropout``."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from optjax.compat.mxnet.base import MXNetError
from optjax.compat.mxnet.ops._checks import fmt, same_dtype
from optjax.compat.mxnet.ops.registry import register


def _fc_shapes(data_shape, *, num_hidden: int, no_bias: bool = False, flatten: bool = True, **_):
    k = math.prod(data_shape[1:]) if flatten else data_shape[-1]
    shapes = {"weight": (int(num_hidden), int(k))}
    if not no_bias:
        shapes["bias"] = (int(num_hidden),)
    return shapes


@register("FullyConnected", ("data", "weight", "bias"), param_shapes=_fc_shapes)
def fully_connected(data, weight, bias=None, *, num_hidden: int, no_bias: bool = False,
                    flatten: bool = True):
    """``y = x W^T + b`` with ``W`` of shape ``(num_hidden, k)``.

    ``flatten=True`` (default) reads ``data`` as ``(N, k)`` with ``k`` the product
    of all axes but the first; ``flatten=False`` applies to the last axis only.

    >>> import jax.numpy as jnp
    >>> from optjax.compat.mxnet.ops.nn import fully_connected
    >>> fully_connected(jnp.ones((2, 3, 2)), jnp.ones((4, 6)), jnp.zeros(4), num_hidden=4).shape
    (2, 4)
    """
    x = data.reshape(data.shape[0], -1) if flatten else data
    if x.shape[-1] != weight.shape[-1] or weight.shape[0] != num_hidden:
        raise MXNetError(f"FullyConnected: shape inconsistent, provided weight {fmt(weight.shape)}"
                         f", inferred shape ({num_hidden},{x.shape[-1]}) from data "
                         f"{fmt(data.shape)}")
    same_dtype(data, weight)
    y = jnp.matmul(x, weight.T)
    if not no_bias and bias is not None:
        y = y + bias.astype(y.dtype)
    return y


def _as_matrix(a, transpose: bool, left: bool):
    """MXNet's N-D ``dot``: a left operand contracts its last axis (first if transposed),
    a right operand its first axis (last if transposed)."""
    if a.ndim == 1:
        a2 = a.reshape(1, -1) if left else a.reshape(-1, 1)
        return a2, ()
    contract_first = transpose if left else not transpose
    if contract_first:
        m = a.reshape(a.shape[0], -1)
        kept = a.shape[1:]
        return (m.T if left else m), kept
    m = a.reshape(-1, a.shape[-1])
    return (m if left else m.T), a.shape[:-1]


@register("dot", ("lhs", "rhs"))
def dot(lhs, rhs, *, transpose_a: bool = False, transpose_b: bool = False,
        forward_stype: str | None = None):
    """MXNet's ``dot``: for N-D inputs, ``lhs``'s last axis (its first with
    ``transpose_a``) contracts with ``rhs``'s first axis (its last with ``transpose_b``);
    the result has the remaining axes of ``lhs`` then of ``rhs``; 1-D . 1-D is shape (1,)."""
    same_dtype(lhs, rhs)
    a, ka = _as_matrix(lhs, transpose_a, True)
    b, kb = _as_matrix(rhs, transpose_b, False)
    if a.shape[1] != b.shape[0]:
        raise MXNetError(f"dot: shape inconsistent: lhs {fmt(lhs.shape)} (transpose_a="
                         f"{transpose_a}), rhs {fmt(rhs.shape)} (transpose_b={transpose_b})")
    out = jnp.matmul(a, b)
    shape = tuple(ka) + tuple(kb)
    return out.reshape(shape if shape else (1,))


@register("batch_dot", ("lhs", "rhs"))
def batch_dot(lhs, rhs, *, transpose_a: bool = False, transpose_b: bool = False,
              forward_stype: str | None = None):
    """Matrix products over the leading (batch) axes: ``(B, M, K) x (B, K, N) -> (B, M, N)``."""
    same_dtype(lhs, rhs)
    a = jnp.swapaxes(lhs, -1, -2) if transpose_a else lhs
    b = jnp.swapaxes(rhs, -1, -2) if transpose_b else rhs
    if lhs.ndim < 3 or a.shape[:-2] != b.shape[:-2] or a.shape[-1] != b.shape[-2]:
        raise MXNetError(f"batch_dot: shape inconsistent: lhs {fmt(lhs.shape)}, rhs "
                         f"{fmt(rhs.shape)} (transpose_a={transpose_a}, transpose_b={transpose_b})")
    return jnp.matmul(a, b)


def _embedding_shapes(data_shape, *, input_dim: int, output_dim: int, **_):
    return {"weight": (int(input_dim), int(output_dim))}


@register("Embedding", ("data", "weight"), param_shapes=_embedding_shapes)
def embedding(data, weight, *, input_dim: int, output_dim: int, dtype: str = "float32",
              sparse_grad: bool = False):
    """Rows of ``weight`` (``(input_dim, output_dim)``) at the indices ``data``
    (any dtype; clipped to ``[0, input_dim - 1]``); output ``data.shape + (output_dim,)``.
    ``sparse_grad`` is accepted: the weight gradient is dense here (same values)."""
    idx = jnp.clip(data.astype(jnp.int32), 0, input_dim - 1)
    return jnp.take(weight, idx, axis=0)


@register("Dropout", ("data",), needs_key=True, needs_mode=True)
def dropout(data, *, p: float = 0.5, mode: str = "training", axes: tuple = (),
            cudnn_off: bool = False, key=None, is_train: bool = False):
    """Inverted dropout: ``x * mask / (1 - p)`` with ``mask ~ Bernoulli(1 - p)``.

    Active when training (``mode='training'``) or always (``mode='always'``);
    otherwise the identity. ``axes`` lists axes along which one mask value is shared.
    """
    if not (is_train or mode == "always") or p == 0:
        return data
    shape = tuple(1 if i in {a % data.ndim for a in axes} else s for i, s in enumerate(data.shape))
    keep = jax.random.bernoulli(key, 1.0 - p, shape)
    return jnp.where(keep, data / jnp.asarray(1.0 - p, data.dtype), jnp.zeros((), data.dtype))
