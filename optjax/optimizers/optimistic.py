"""Optimistic gradient methods for min-max games (Daskalakis et al., 2018)."""

import warnings
from typing import Any, NamedTuple, Optional

import jax
import jax.numpy as jnp

from optjax import tree_math, validation
from optjax.base import GradientTransformation, ScalarOrSchedule, Updates
from optjax.combine import chain
from optjax.optimizers.adam import scale_by_adam
from optjax.transforms import scale_by_learning_rate


class ScaleByOptimisticGradientState(NamedTuple):
    """Whether no step was taken yet, and the previous step's input."""

    is_initial_step: jax.Array
    previous_gradient: Updates


def scale_by_optimistic_gradient(alpha: float = 1.0, beta: float = 1.0) -> GradientTransformation:
    r"""``u_t = (alpha + beta) g_t - beta g_{t-1}`` (``g_0`` standing in for ``g_{-1}``),
    as optax's ``scale_by_optimistic_gradient``.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.scale_by_optimistic_gradient()
        >>> s = tx.init({"w": jnp.zeros(1)})
        >>> u, s = tx.update({"w": jnp.array([1.0])}, s)
        >>> u, s = tx.update({"w": jnp.array([3.0])}, s)
        >>> float(u["w"][0])
        5.0

    Reference: Daskalakis et al., `Training GANs with Optimism
    <https://arxiv.org/abs/1711.00141>`_, 2018.
    """
    validation.finite(alpha=alpha, beta=beta)

    def init_fn(params):
        return ScaleByOptimisticGradientState(is_initial_step=jnp.array(True),
                                              previous_gradient=tree_math.zeros_like(params))

    def update_fn(updates, state, params=None):
        del params

        def f(g, prev):
            prev = jnp.where(state.is_initial_step, g, prev)
            return (alpha + beta) * g - beta * prev

        new = jax.tree.map(f, updates, state.previous_gradient)
        return new, ScaleByOptimisticGradientState(is_initial_step=jnp.array(False), previous_gradient=tree_math.cast_like(updates, state.previous_gradient))

    return GradientTransformation(init_fn, update_fn)


def optimistic_gradient_descent(learning_rate: ScalarOrSchedule, alpha: float = 1.0,
                                beta: float = 1.0) -> GradientTransformation:
    """Optimistic gradient descent: :func:`scale_by_optimistic_gradient` then ``-learning_rate``.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.optimistic_gradient_descent(0.1)
        >>> u, _ = tx.update({"w": jnp.array([1.0])}, tx.init({"w": jnp.zeros(1)}))
        >>> float(u["w"][0])
        -0.1
    """
    return chain(scale_by_optimistic_gradient(alpha=alpha, beta=beta), scale_by_learning_rate(learning_rate))


def optimistic_adam_v2(learning_rate: ScalarOrSchedule, *, alpha: float = 1.0, beta: float = 1.0,
                       b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8, eps_root: float = 0.0,
                       mu_dtype: Optional[Any] = None, nesterov: bool = True) -> GradientTransformation:
    """Optimistic Adam: Adam's direction fed to :func:`scale_by_optimistic_gradient`, then
    ``-learning_rate`` (``optax.optimistic_adam_v2``).

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.optimistic_adam_v2(0.1)
        >>> u, _ = tx.update({"w": jnp.array([2.0])}, tx.init({"w": jnp.zeros(1)}))
        >>> round(float(u["w"][0]), 3)
        -0.1
    """
    return chain(scale_by_adam(b1=b1, b2=b2, eps=eps, eps_root=eps_root, mu_dtype=mu_dtype, nesterov=nesterov),
                 scale_by_optimistic_gradient(alpha=alpha, beta=beta), scale_by_learning_rate(learning_rate))


def optimistic_adam(learning_rate: float, optimism: Optional[float] = None, b1: float = 0.9,
                    b2: float = 0.999, eps: float = 1e-8, eps_root: float = 0.0,
                    mu_dtype: Optional[Any] = None, *, nesterov: bool = True) -> GradientTransformation:
    """Deprecated form of :func:`optimistic_adam_v2` (``alpha = learning_rate``,
    ``beta = optimism``, step 1), kept as optax has it; no schedules.
    """
    validation.learning_rate(learning_rate)
    validation.finite(optimism=optimism)
    warnings.warn("`optimistic_adam` is deprecated, please use `optimistic_adam_v2` instead.",
                  category=DeprecationWarning, stacklevel=2)
    if callable(learning_rate):
        raise ValueError("learning_rate: optimistic_adam takes no schedule; optimistic_adam_v2 does")
    if optimism is None:
        optimism = learning_rate
    return chain(scale_by_adam(b1=b1, b2=b2, eps=eps, eps_root=eps_root, mu_dtype=mu_dtype, nesterov=nesterov),
                 scale_by_optimistic_gradient(alpha=learning_rate, beta=optimism), scale_by_learning_rate(1.0))
