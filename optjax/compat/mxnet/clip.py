"""MXNet's elementwise clip, with its answer for a negative bound."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp


def mxnet_clip(x: Any, c: Any) -> Any:
    """MXNet's ``clip(x, -c, c)`` elementwise, including its answer for ``c < 0``
    (``x > c ? c : (x < -c ? -c : x)``, as ``mx.nd.clip`` computes it).

    >>> import jax.numpy as jnp
    >>> mxnet_clip(jnp.array([-2.0, 0.5, 2.0]), 1.0)
    Array([-1. ,  0.5,  1. ], dtype=float32)
    """
    return jnp.where(x > c, c, jnp.where(x < -c, -c, x)).astype(x.dtype)
