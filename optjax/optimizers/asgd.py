"""ASGD: averaged stochastic gradient descent (torch.optim.ASGD).

Reference: Polyak and Juditsky, *Acceleration of Stochastic Approximation by
Averaging*, 1992; Bottou, *Stochastic Gradient Descent Tricks*, 2012.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optjax import validation
from optjax.base import GradientTransformation, ScalarOrSchedule, is_schedule
from optjax.combine import chain
from optjax.leafwise import copy, leafwise
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
    validation.non_negative("learning_rate", learning_rate)
    validation.non_negative("lambd", lambd)
    validation.non_negative("alpha", alpha)

    def lr_at(step):
        return jnp.asarray(learning_rate(step) if is_schedule(learning_rate) else learning_rate,
                           jnp.float32)

    def global_init(params):
        del params
        return {"eta": lr_at(0), "mu": jnp.ones((), jnp.float32)}

    def step_fn(*, count, eta, mu):
        t = count.astype(jnp.float32)
        lr = lr_at(count - 1)
        new_eta = lr / (1.0 + lambd * lr * t) ** alpha
        new_mu = 1.0 / jnp.maximum(1.0, t - t0)
        return {"eta": new_eta.astype(jnp.float32), "mu": new_mu.astype(jnp.float32)}, {"eta_t": eta, "mu_t": mu}

    def rule(g, p, *, count, ax, eta_t, mu_t):
        del count
        eta_t = eta_t.astype(g.dtype)
        new_p = p * (1.0 - lambd * eta_t) - eta_t * g
        ax = jnp.where(mu_t == 1.0, new_p, ax + (new_p - ax) * mu_t.astype(g.dtype))
        return new_p - p, {"ax": ax}

    return leafwise(rule, ASGDState, {"ax": copy(ax_dtype)}, name="asgd", needs_params=True,
                    global_init=global_init, step_fn=step_fn)


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
