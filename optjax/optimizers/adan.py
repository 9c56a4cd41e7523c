"""Adan: adaptive Nesterov momentum (Xie et al., 2022)."""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optjax import tree_math, validation
from optjax.base import GradientTransformation, ScalarOrSchedule, Updates
from optjax.combine import chain
from optjax.numerics import safe_increment
from optjax.transforms import add_decayed_weights, scale_by_learning_rate


class ScaleByAdanState(NamedTuple):
    """optax's layout: moments ``m, v, n``, previous gradient ``g``, step ``t``."""

    m: Updates
    v: Updates
    n: Updates
    g: Updates
    t: jax.Array


def scale_by_adan(b1: float = 0.98, b2: float = 0.92, b3: float = 0.99, eps: float = 1e-8,
                  eps_root: float = 0.0) -> GradientTransformation:
    r"""Adan's rescaling (Algorithm 1 of the paper; optax's ``scale_by_adan``)::

        d   = g_t - g_{t-1}   (0 at the first step)
        m_t = b1 m + (1 - b1) g_t
        v_t = b2 v + (1 - b2) d
        n_t = b3 n + (1 - b3) (g_t + (1 - b2) d)^2
        u   = (m_hat + (1 - b2) v_hat) / (sqrt(n_hat + eps_root) + eps)

    with ``x_hat = x_t / (1 - b^t)``.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.scale_by_adan()
        >>> u, _ = tx.update({"w": jnp.array([2.0])}, tx.init({"w": jnp.zeros(1)}))
        >>> round(float(u["w"][0]), 4)
        1.0

    Reference: Xie et al., `Adan: Adaptive Nesterov Momentum Algorithm for Faster
    Optimizing Deep Models <https://arxiv.org/abs/2208.06677>`_, 2022.
    """
    validation.unit_interval("b1", b1)
    validation.unit_interval("b2", b2)
    validation.unit_interval("b3", b3)
    validation.non_negative("eps", eps)
    validation.non_negative("eps_root", eps_root)

    def init_fn(params):
        z = tree_math.zeros_like(params)
        return ScaleByAdanState(m=z, v=z, n=z, g=z, t=jnp.zeros([], jnp.int32))

    def update_fn(updates, state, params=None):
        del params
        g = updates
        diff = tree_math.where(state.t == 0, tree_math.zeros_like(g), tree_math.sub(g, state.g))
        m = tree_math.update_moment(g, state.m, b1, 1)
        v = tree_math.update_moment(diff, state.v, b2, 1)
        n = tree_math.update_moment_per_elem_norm(tree_math.add_scale(g, 1 - b2, diff), state.n, b3, 2)
        t = safe_increment(state.t)
        m_hat = tree_math.bias_correction(m, b1, t)
        v_hat = tree_math.bias_correction(v, b2, t)
        n_hat = tree_math.bias_correction(n, b3, t)
        u = tree_math.add_scale(m_hat, 1 - b2, v_hat)
        u = tree_math.div(u, jax.tree.map(lambda x: jnp.sqrt(x + eps_root) + eps, n_hat))
        # the state keeps init's dtypes (a weak-typed gradient would change them and retrace)
        m, v, n, g = (tree_math.cast_like(x, old)
                      for x, old in ((m, state.m), (v, state.v), (n, state.n), (g, state.g)))
        return u, ScaleByAdanState(m=m, v=v, n=n, g=g, t=t)

    return GradientTransformation(init_fn, update_fn)


def adan(learning_rate: ScalarOrSchedule, b1: float = 0.98, b2: float = 0.92, b3: float = 0.99,
         eps: float = 1e-8, eps_root: float = 1e-8, weight_decay: ScalarOrSchedule = 0.0,
         mask: Any = None) -> GradientTransformation:
    """Adan: :func:`scale_by_adan`, decoupled weight decay, ``-learning_rate`` (``optax.adan``).

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.adan(0.1)
        >>> p = {"w": jnp.zeros(1)}
        >>> u, _ = tx.update({"w": jnp.array([2.0])}, tx.init(p), p)
        >>> round(float(u["w"][0]), 4)
        -0.1
    """
    return chain(scale_by_adan(b1=b1, b2=b2, b3=b3, eps=eps, eps_root=eps_root),
                 add_decayed_weights(weight_decay, mask), scale_by_learning_rate(learning_rate))
