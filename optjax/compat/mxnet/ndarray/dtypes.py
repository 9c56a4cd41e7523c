"""MXNet dtype names and NumPy/JAX dtypes."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

__all__ = ["np_dtype", "DEFAULT"]

DEFAULT = np.dtype(np.float32)


def np_dtype(dtype, default=DEFAULT) -> np.dtype:
    """``dtype`` (a name, NumPy type or None) as a NumPy dtype; None gives ``default``.

    JAX without ``jax_enable_x64`` stores float64/int64 as float32/int32, as the
    arrays themselves then are.
    """
    if dtype is None:
        return np.dtype(default)
    if isinstance(dtype, str) and dtype == "bfloat16":
        return jnp.dtype(jnp.bfloat16)
    return np.dtype(dtype)
