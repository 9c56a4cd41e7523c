"""Small array helpers with optax's names (``optax._src.utils``): dtypes, diagonals, a
diagonal Gaussian, and :func:`scale_gradient`.
"""

from __future__ import annotations

import functools
from typing import Any, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np


def canonicalize_dtype(dtype: Optional[Any]) -> Optional[np.dtype]:
    """``dtype`` as JAX's canonical ``np.dtype`` (float64 -> float32 without x64); None stays None.

    Example:
        >>> import jax.numpy as jnp
        >>> canonicalize_dtype(jnp.bfloat16)
        dtype(bfloat16)
    """
    if dtype is None:
        return None
    return jax.dtypes.canonicalize_dtype(dtype)


def tile_second_to_last_dim(a: jax.typing.ArrayLike) -> jax.Array:
    """``out[..., i, j] = a[..., i]``: the last axis repeated ``a.shape[-1]`` times along a new last axis.

    Example:
        >>> tile_second_to_last_dim(jnp.array([1, 2])).tolist()
        [[1, 1], [2, 2]]
    """
    a = jnp.asarray(a)
    return jnp.broadcast_to(a[..., None], a.shape + (a.shape[-1],))


def set_diags(a: jax.Array, new_diags: jax.typing.ArrayLike) -> jax.Array:
    """A copy of the ``n`` square ``d x d`` matrices ``a`` (shape ``(n, d, d)``) with diagonals ``new_diags`` ``(n, d)``.

    Example:
        >>> set_diags(jnp.zeros((1, 2, 2)), jnp.array([[1.0, 2.0]])).tolist()
        [[[1.0, 0.0], [0.0, 2.0]]]
    """
    a = jnp.asarray(a)
    new_diags = jnp.asarray(new_diags)
    if a.ndim != 3:
        raise ValueError(f"Expected `a` to be a 3D tensor (n, d, d), got shape {a.shape}")
    if new_diags.ndim != 2:
        raise ValueError(f"Expected `new_diags` to be a 2D array (n, d), got shape {new_diags.shape}")
    n, d, d1 = a.shape
    if d != d1:
        raise ValueError(f"Shape mismatch: expected `a.shape` to be (n, d, d), got {a.shape}")
    if new_diags.shape != (n, d):
        raise ValueError(f"Shape mismatch: expected `new_diags.shape` to be {(n, d)}, got {new_diags.shape}")
    idx = jnp.arange(d)
    return a.at[:, idx, idx].set(new_diags.astype(a.dtype))


class MultiNormalDiagFromLogScale:
    """A Gaussian with diagonal covariance: mean ``loc`` and standard deviation ``exp(log_scale)``.

    ``loc`` and ``log_scale`` broadcast against each other (``ValueError`` if they cannot).
    """

    def __init__(self, loc: jax.Array, log_scale: jax.Array):
        self._mean = jnp.asarray(loc)
        self._log_scale = jnp.asarray(log_scale)
        self._scale = jnp.exp(self._log_scale)
        self._param_shape = jax.lax.broadcast_shapes(self._mean.shape, self._log_scale.shape)

    def sample(self, shape: Sequence[int], key: jax.Array) -> jax.Array:
        """Draws of shape ``shape + broadcast(loc, log_scale).shape``."""
        eps = jax.random.normal(key, tuple(shape) + tuple(self._param_shape))
        return self._mean + self._scale * eps

    def log_prob(self, x: jax.typing.ArrayLike) -> jax.Array:
        """The log density of ``x`` (summed over all axes: a scalar)."""
        z = (jnp.asarray(x) - self._mean) / self._scale
        return jnp.sum(-0.5 * z**2 - self._log_scale - 0.5 * jnp.log(2 * jnp.pi))

    @property
    def log_scale(self) -> jax.Array:
        return self._log_scale

    @property
    def params(self) -> list[jax.Array]:
        """``[loc, log_scale]``."""
        return [self._mean, self._log_scale]


def multi_normal(loc: jax.Array, log_scale: jax.Array) -> MultiNormalDiagFromLogScale:
    """A diagonal Gaussian with mean ``loc`` and log standard deviation ``log_scale``."""
    return MultiNormalDiagFromLogScale(loc=loc, log_scale=log_scale)


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def _scale_gradient(inputs: Any, scale: float) -> Any:
    return inputs


def _scale_gradient_fwd(inputs, scale):
    return inputs, None


def _scale_gradient_bwd(scale, _, g):
    return (jax.tree.map(lambda x: x * scale, g),)


_scale_gradient.defvjp(_scale_gradient_fwd, _scale_gradient_bwd)


def scale_gradient(inputs: Any, scale: float) -> Any:
    """The identity on ``inputs`` (a pytree) whose gradient is multiplied by ``scale`` on the way back.

    ``d/dx f(scale_gradient(x, s)) = s * f'(x)``; ``scale=0`` is ``stop_gradient``.

    Example:
        >>> import jax
        >>> jax.grad(lambda x: scale_gradient(x, 0.5) ** 2)(3.0)
        Array(3., dtype=float32, weak_type=True)
    """
    return _scale_gradient(inputs, scale)
