"""SGD with momentum: ``trace`` and ``sgd``.

Reference: torch.optim.SGD (momentum, dampening, nesterov, maximize);
MXNet SGD keeps the learning rate inside the momentum buffer, which differs
from torch as soon as the learning rate changes (``lr_in_momentum_buffer``).
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optjax import numerics, per_leaf, validation
from optjax.base import GradientTransformation, ScalarOrSchedule, identity
from optjax.optimizers._util import concrete_nonzero, is_zero, with_decay


class TraceState(NamedTuple):
    """The momentum buffer ``trace`` (one leaf per param), optax's layout."""

    trace: Any


class DampenedTraceState(NamedTuple):
    """The step count and the momentum buffer (with torch's ``dampening``, whose
    first step is undampened)."""

    count: jax.Array
    trace: Any


def trace(
    decay: float,
    nesterov: bool = False,
    dampening: float = 0.0,
    accumulator_dtype: Any = None,
) -> GradientTransformation:
    """Momentum: ``b <- decay * b + (1 - dampening) * g``; update ``b`` (or
    ``g + decay * b`` with ``nesterov``).

    The first step sets ``b = g`` undampened, as torch does (with
    ``dampening=0`` this equals a zero-initialised buffer, optax's ``trace``).

    The state is optax's ``TraceState(trace)``; a nonzero ``dampening`` adds the
    step count (``DampenedTraceState(count, trace)``).

    Args:
      decay: momentum ``mu`` in [0, 1].
      nesterov: Nesterov momentum (needs ``dampening == 0``, as in torch).
      dampening: ``tau`` in [0, 1].
      accumulator_dtype: dtype of the buffer (default: the param's).
    """
    validation.check("momentum", decay, low=0.0, high=1.0)
    validation.check("dampening", dampening, low=0.0, high=1.0)
    if nesterov and concrete_nonzero(dampening):
        raise ValueError("nesterov momentum requires dampening == 0 (as in torch.optim.SGD)")

    dampened = not is_zero(dampening)

    @jax.jit
    def leaf(g, p, b, *, count):
        del p
        new = decay * b + (1.0 - dampening) * g
        if dampened:
            new = jnp.where(count == 1, g, new)
        u = g + decay * new if nesterov else new
        return u, (new,)

    def init_fn(params):
        buf = per_leaf.zeros(params, accumulator_dtype)
        return DampenedTraceState(count=numerics.zero_count(), trace=buf) if dampened else TraceState(trace=buf)

    def update_fn(updates, state, params=None, **extra_args):
        del params, extra_args
        if not dampened:
            updates, (b,) = per_leaf.apply(leaf, updates, (state.trace,), count=0)
            return updates, TraceState(trace=b)
        count = numerics.safe_increment(state.count)
        updates, (b,) = per_leaf.apply(leaf, updates, (state.trace,), count=count)
        return updates, DampenedTraceState(count=count, trace=b)

    return GradientTransformation(init_fn, update_fn)


def sgd(
    learning_rate: ScalarOrSchedule = 1e-3,
    momentum: float | None = None,
    nesterov: bool = False,
    *,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    maximize: bool = False,
    lr_in_momentum_buffer: bool = False,
    accumulator_dtype: Any = None,
) -> GradientTransformation:
    """Stochastic gradient descent with optional momentum and coupled weight decay.

    ``g <- (+-)g + wd * p``; ``b <- mu * b + (1 - tau) * g``; ``p <- p - lr * b``
    (torch.optim.SGD with the same flags; ``optax.sgd`` when ``weight_decay=0``).

    With ``lr_in_momentum_buffer=True`` the buffer holds ``lr * g`` instead
    (MXNet's ``mom <- mu * mom - lr * g; w <- w + mom``); both agree while the
    learning rate is constant.

    Args:
      learning_rate: ``lr >= 0``, a float or a schedule (0-based step).
      momentum: ``mu`` in [0, 1], or None for none.
      nesterov: Nesterov momentum.
      dampening: ``tau`` (torch's ``dampening``).
      weight_decay: coupled L2 coefficient ``wd >= 0``.
      maximize: ascend instead (torch's ``maximize``).
      lr_in_momentum_buffer: MXNet's buffer convention.
      accumulator_dtype: dtype of the momentum buffer.

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.sgd(0.1, momentum=0.9)
    >>> params = {"w": jnp.ones(2)}
    >>> u, s = tx.update({"w": jnp.ones(2)}, tx.init(params), params)
    >>> u["w"]
    Array([-0.1, -0.1], dtype=float32)
    """
    validation.unit_interval("dampening", dampening, high_open=False)
    mom = (
        identity()
        if momentum is None and not nesterov
        else trace(0.0 if momentum is None else momentum, nesterov, dampening, accumulator_dtype)
    )
    return with_decay(None, learning_rate, weight_decay, maximize=maximize, momentum=mom,
                      lr_in_momentum_buffer=lr_in_momentum_buffer)
