"""ASGD: averaged stochastic gradient descent (torch.optim.ASGD).

Reference: Polyak and Juditsky, *Acceleration of Stochastic Approximation by
Averaging*, 1992; Bottou, *Stochastic Gradient Descent Tricks*, 2012.
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optjax import numerics, per_leaf, validation
from optjax.base import GradientTransformation, ScalarOrSchedule, value_at
from optjax.combine import chain
from optjax.optimizers._util import is_zero
from optjax.transforms.scaling import scale
from optjax.transforms.weight_decay import add_decayed_weights


class ASGDState(NamedTuple):
    """``eta``: the step size for the next update; ``mu``: the averaging weight for
    the next update (float32 scalars); ``ax``: the averaged parameters (one leaf
    per param; read them with ``state.ax`` and evaluate with them)."""

    count: jax.Array
    eta: jax.Array
    mu: jax.Array
    ax: Any


def scale_by_asgd(
    learning_rate: ScalarOrSchedule = 1e-2,
    lambd: float = 1e-4,
    alpha: float = 0.75,
    t0: float = 1e6,
    *,
    ax_dtype: Any = None,
) -> GradientTransformation:
    """The ASGD step, returning the full update (it already carries the step size)::

        p' = p * (1 - lambd * eta) - eta * g;      u = p' - p
        ax <- p' if mu == 1 else ax + mu * (p' - ax)
        eta <- lr / (1 + lambd * lr * t)**alpha;   mu <- 1 / max(1, t - t0)

    ``eta`` starts at ``lr`` and ``mu`` at 1. A schedule ``lr`` is evaluated at
    ``t - 1`` when the next ``eta`` is computed.
    """
    validation.non_negative("t0", t0)
    validation.learning_rate(learning_rate)
    validation.non_negative("lambd", lambd)
    validation.non_negative("alpha", alpha)

    def lr_at(step):
        return jnp.asarray(value_at(learning_rate, step), jnp.float32)

    @jax.jit
    def leaf(g, p, ax, *, eta, mu):
        eta = eta.astype(g.dtype)
        new_p = p * (1.0 - lambd * eta) - eta * g
        ax = jnp.where(mu == 1.0, new_p, ax + (new_p - ax) * mu.astype(g.dtype))
        return new_p - p, (ax,)

    def init_fn(params):
        return ASGDState(count=numerics.zero_count(), eta=lr_at(0), mu=jnp.ones((), jnp.float32),
                         ax=per_leaf.copy(params, ax_dtype))

    def update_fn(updates, state, params=None, **extra_args):
        del extra_args
        updates, (ax,) = per_leaf.apply(leaf, updates, (state.ax,), params, name="asgd", needs_params=True,
                                        eta=state.eta, mu=state.mu)
        # eta and mu of the next update
        count = numerics.safe_increment(state.count)
        t = count.astype(jnp.float32)
        lr = lr_at(state.count)
        eta = (lr / (1.0 + lambd * lr * t) ** alpha).astype(jnp.float32)
        mu = (1.0 / jnp.maximum(1.0, t - t0)).astype(jnp.float32)
        return updates, ASGDState(count=count, eta=eta, mu=mu, ax=ax)

    return GradientTransformation(init_fn, update_fn)


def asgd(
    learning_rate: ScalarOrSchedule = 1e-2,
    lambd: float = 1e-4,
    alpha: float = 0.75,
    t0: float = 1e6,
    weight_decay: float = 0.0,
    *,
    maximize: bool = False,
    ax_dtype: Any = None,
) -> GradientTransformation:
    """Averaged SGD, ``torch.optim.ASGD(lr, lambd, alpha, t0, weight_decay)``
    (same arguments and defaults). Weight decay is coupled. The averaged
    parameters are ``state[-1].ax`` (the last element of the chain's state).

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.asgd(0.1, t0=0.0)
    >>> p = {"w": jnp.ones(2)}
    >>> u, s = tx.update({"w": jnp.ones(2)}, tx.init(p), p)
    >>> s[-1].ax["w"]
    Array([0.89998996, 0.89998996], dtype=float32)
    """
    parts = [scale(-1.0)] if maximize else []
    validation.non_negative("weight_decay", weight_decay)
    if not is_zero(weight_decay):
        parts.append(add_decayed_weights(weight_decay))
    parts.append(scale_by_asgd(learning_rate, lambd, alpha, t0, ax_dtype=ax_dtype))
    return chain(*parts)
