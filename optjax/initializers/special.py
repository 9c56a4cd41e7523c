"""Structured deterministic initializers: ``Bilinear``, ``LSTMBias`` and the small
fixed fills MXNet's name dispatch uses (spatial-transformer ``loc`` bias,
quantized weights)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from optjax import validation
from optjax.initializers.core import DEFAULT_DTYPE, DType, Initializer, Shape, normalize_shape, set_description


def bilinear_kernel(shape: Shape) -> np.ndarray:
    """The bilinear upsampling kernel as a float32 numpy array (MXNet's exact arithmetic).

    With ``W = shape[3]``, ``H = shape[2]``: ``f = ceil(W / 2)``,
    ``c = (2f - 1 - f % 2) / (2f)``, and element ``i`` of the flattened array is
    ``(1 - |x/f - c|) * (1 - |y/f - c|)`` with ``x = i % W``, ``y = (i // W) % H``
    (computed in float64, stored as float32); every ``(out, in)`` channel pair gets
    the same kernel. Note ``f`` comes from the width for both axes, as in MXNet.
    """
    shape = normalize_shape(shape)
    if len(shape) != 4:
        raise ValueError(f"shape must be 4-D (out, in, height, width) for bilinear, got {shape}")
    n = math.prod(shape)
    i = np.arange(n)
    f = np.ceil(shape[3] / 2.0)
    c = (2 * f - 1 - f % 2) / (2.0 * f)
    x = i % shape[3]
    y = (i // shape[3]) % shape[2]
    w = (1 - np.abs(x / f - c)) * (1 - np.abs(y / f - c))
    return w.astype(np.float32).reshape(shape)


def bilinear(key: jax.Array | None, shape: Shape, dtype: DType = DEFAULT_DTYPE) -> jax.Array:
    """Bilinear upsampling weights for a ``Deconvolution`` of shape ``(out, in, H, W)``.

    MXNet: ``mx.init.Bilinear()`` (and the legacy name rule for names starting with
    ``upsampling``). See :func:`bilinear_kernel` for the formula; a shape that is not
    4-D is a ``ValueError``. Ignores the key.

    >>> from optjax.initializers import bilinear
    >>> bilinear(None, (1, 1, 4, 4))[0, 0, 0]
    Array([0.0625, 0.1875, 0.1875, 0.0625], dtype=float32)
    """
    return jnp.asarray(bilinear_kernel(shape), dtype)


def lstm_bias(forget_bias: float = 1.0) -> Initializer:
    """MXNet's ``LSTMBias(forget_bias=1.0)``: zeros, then ``arr[n:2n] = forget_bias``
    with ``n = shape[0] // 4`` (gate order i, f, c, o: the forget gate is second).

    >>> import jax
    >>> from optjax.initializers import lstm_bias
    >>> lstm_bias(1.0)(jax.random.key(0), (8,))
    Array([0., 0., 1., 1., 0., 0., 0., 0.], dtype=float32)
    """
    validation.check("forget_bias", forget_bias)

    def init(key: jax.Array | None, shape: Shape, dtype: DType = DEFAULT_DTYPE) -> jax.Array:
        shape = normalize_shape(shape)
        if len(shape) < 1:
            raise ValueError(f"shape must have at least 1 dimension for lstm_bias, got {shape}")
        n = int(shape[0] / 4)
        return jnp.zeros(shape, dtype).at[n:2 * n].set(forget_bias)

    return set_description(init, f"lstm_bias(forget_bias={forget_bias!r})")


def loc_bias(key: jax.Array | None, shape: Shape, dtype: DType = DEFAULT_DTYPE) -> jax.Array:
    """The identity affine transform ``[1, 0, 0, 0, 1, 0]`` for a spatial transformer's
    localisation bias (MXNet's legacy rule for names ``stn_loc*bias``). Shape ``(6,)``."""
    shape = normalize_shape(shape)
    if shape != (6,):
        raise ValueError(f"shape must be (6,) for the spatial-transformer loc bias, got {shape}")
    return jnp.asarray([1.0, 0, 0, 0, 1.0, 0], dtype)


def quantized_weight(key: jax.Array, shape: Shape, dtype: DType = jnp.int8) -> jax.Array:
    """MXNet's ``_init_quantized_weight`` for ``*weight_quantize`` names: **one** random
    integer in ``[-127, 127)`` broadcast to the whole array (MXNet draws a single
    ``randint`` with no shape), cast to ``dtype`` (int8 by default)."""
    v = jax.random.randint(key, (), -127, 127, jnp.int32).astype(jnp.int8)
    return jnp.broadcast_to(v, normalize_shape(shape)).astype(dtype)
