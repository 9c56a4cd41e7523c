"""Noisy SGD: gradient noise, then the learning rate (Neelakantan et al., 2015)."""

import jax

from optjax.base import GradientTransformation, ScalarOrSchedule
from optjax.combine import chain
from optjax.transforms import scale_by_learning_rate
from optjax.transforms.noise import add_noise


def noisy_sgd(learning_rate: ScalarOrSchedule, eta: float = 0.01, gamma: float = 0.55,
              key: jax.Array | int | None = None, *, seed: int | None = None) -> GradientTransformation:
    """``-lr * (g + N(0, eta / t^gamma))``: :func:`optjax.add_noise` then
    ``-learning_rate`` (``optax.noisy_sgd``).

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.noisy_sgd(0.1, eta=0.0, key=0)
        >>> u, _ = tx.update({"w": jnp.ones(1)}, tx.init({"w": jnp.zeros(1)}))
        >>> round(float(u["w"][0]), 6)
        -0.1
    """
    return chain(add_noise(eta, gamma, key, seed=seed), scale_by_learning_rate(learning_rate))
