"""Constant and simple random initializers: MXNet's ``Zero``, ``One``, ``Constant``,
``Uniform`` and ``Normal``.

All follow the ``jax.nn.initializers`` convention ``(key, shape, dtype) -> Array``;
the deterministic ones ignore the key.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from optjax import validation
from optjax.initializers.core import DEFAULT_DTYPE, DType, Initializer, Shape, normalize_shape, set_description


def zeros(key: jax.Array | None, shape: Shape, dtype: DType = DEFAULT_DTYPE) -> jax.Array:
    """All zeros. MXNet: ``mx.init.Zero()`` (registered as ``"zero"``/``"zeros"``).

    >>> import jax
    >>> from optjax.initializers import zeros
    >>> zeros(jax.random.key(0), (2,))
    Array([0., 0.], dtype=float32)
    """
    return jnp.zeros(normalize_shape(shape), dtype)


def ones(key: jax.Array | None, shape: Shape, dtype: DType = DEFAULT_DTYPE) -> jax.Array:
    """All ones. MXNet: ``mx.init.One()`` (registered as ``"one"``/``"ones"``).

    >>> import jax
    >>> from optjax.initializers import ones
    >>> ones(jax.random.key(0), (2,))
    Array([1., 1.], dtype=float32)
    """
    return jnp.ones(normalize_shape(shape), dtype)


def constant(value: Any) -> Initializer:
    """Fill with ``value``: a scalar, or an array broadcast to the shape.

    MXNet: ``mx.init.Constant(value)`` (``arr[:] = value``). A value that does not
    broadcast to the requested shape is a ``ValueError`` naming ``value``.

    >>> import jax
    >>> from optjax.initializers import constant
    >>> constant(0.5)(jax.random.key(0), (2, 2))
    Array([[0.5, 0.5],
           [0.5, 0.5]], dtype=float32)
    """
    if not isinstance(value, jax.core.Tracer):
        arr = np.asarray(value)
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
            raise ValueError(f"value must be a number or a numeric array, got {value!r}")

    def init(key: jax.Array | None, shape: Shape, dtype: DType = DEFAULT_DTYPE) -> jax.Array:
        shape = normalize_shape(shape)
        v = jnp.asarray(value, dtype)
        try:
            return jnp.broadcast_to(v, shape)
        except ValueError:
            raise ValueError(f"value of shape {tuple(v.shape)} does not broadcast to the shape {shape}") from None

    return set_description(init, f"constant({value!r})" if np.ndim(value) == 0 else f"constant(<array {np.shape(value)}>)")


def uniform(scale: float = 0.07) -> Initializer:
    """Uniform on ``[-scale, scale)`` (MXNet's convention, **not** jax's ``[0, scale)``).

    MXNet: ``mx.init.Uniform(scale=0.07)``. ``Module.fit``/``init_params`` default to
    ``Uniform(0.01)``; Gluon's ``initialize()`` defaults to ``Uniform()`` (0.07).

    >>> import jax
    >>> from optjax.initializers import uniform
    >>> w = uniform(1.0)(jax.random.key(0), (1000,))
    >>> bool((w >= -1).all() and (w < 1).all())
    True
    """
    validation.check("scale", scale, low=0.0)

    def init(key: jax.Array, shape: Shape, dtype: DType = DEFAULT_DTYPE) -> jax.Array:
        return jax.random.uniform(key, normalize_shape(shape), dtype, minval=-scale, maxval=scale)

    return set_description(init, f"uniform(scale={scale!r})")


def normal(sigma: float = 0.01) -> Initializer:
    """Normal with mean 0 and standard deviation ``sigma``.

    MXNet: ``mx.init.Normal(sigma=0.01)``.

    >>> import jax
    >>> from optjax.initializers import normal
    >>> normal(0.5)(jax.random.key(0), (3, 4)).shape
    (3, 4)
    """
    validation.check("sigma", sigma, low=0.0)

    def init(key: jax.Array, shape: Shape, dtype: DType = DEFAULT_DTYPE) -> jax.Array:
        return sigma * jax.random.normal(key, normalize_shape(shape), dtype)

    return set_description(init, f"normal(sigma={sigma!r})")
