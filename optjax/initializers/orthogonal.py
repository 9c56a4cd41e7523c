"""MXNet's ``Orthogonal`` initializer (Saxe et al. 2013)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from optjax import validation
from optjax.initializers.core import DEFAULT_DTYPE, DType, Initializer, Shape, normalize_shape, set_description

RAND_TYPES = ("uniform", "normal")


def orthogonal(scale: float = 1.414, rand_type: str = "uniform") -> Initializer:
    """MXNet's ``Orthogonal(scale=1.414, rand_type="uniform")``.

    1. ``tmp`` of shape ``(shape[0], prod(shape[1:]))`` from ``U(-1, 1)``
       (``rand_type="uniform"``) or ``N(0, 1)`` (``"normal"``);
    2. ``u, _, v = svd(tmp, full_matrices=False)``;
    3. ``res = u`` if ``u.shape == tmp.shape`` else ``v``;
    4. ``scale * res.reshape(shape)``.

    So the rows (``shape[0] <= prod(shape[1:])``) or the columns (otherwise) of the
    flattened result are orthogonal with norm ``scale``. The SVD runs in at least
    float32. An unknown ``rand_type`` or a 0-d shape is a ``ValueError``.

    >>> import jax, jax.numpy as jnp
    >>> from optjax.initializers import orthogonal
    >>> w = orthogonal(1.0)(jax.random.key(0), (4, 8))
    >>> bool(jnp.allclose(w @ w.T, jnp.eye(4), atol=1e-5))
    True
    """
    validation.one_of("rand_type", rand_type, RAND_TYPES)
    validation.check("scale", scale)

    def init(key: jax.Array, shape: Shape, dtype: DType = DEFAULT_DTYPE) -> jax.Array:
        shape = normalize_shape(shape)
        if len(shape) < 1:
            raise ValueError(f"shape must have at least 1 dimension for orthogonal, got {shape}")
        nout, nin = shape[0], math.prod(shape[1:])
        work = jnp.promote_types(dtype, jnp.float32)
        if rand_type == "uniform":
            tmp = jax.random.uniform(key, (nout, nin), work, minval=-1.0, maxval=1.0)
        else:
            tmp = jax.random.normal(key, (nout, nin), work)
        u, _, v = jnp.linalg.svd(tmp, full_matrices=False)
        res = u if u.shape == tmp.shape else v
        return (scale * res.reshape(shape)).astype(dtype)

    return set_description(init, f"orthogonal(scale={scale!r}, rand_type={rand_type!r})")
