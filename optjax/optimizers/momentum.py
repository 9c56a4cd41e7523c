"""SGD with momentum: ``trace`` and ``sgd``.

Reference: torch.optim.SGD (momentum, dampening, nesterov, maximize);
MXNet SGD keeps the learning rate inside the momentum buffer, which differs
from torch as soon as the learning rate changes (``lr_in_momentum_buffer``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optjax import validation
from optjax.base import GradientTransformation, ScalarOrSchedule, identity
from optjax.combine import chain
from optjax.leafwise import leafwise, zeros
from optjax.optimizers._util import concrete_nonzero, is_zero
from optjax.transforms.scaling import scale, scale_by_learning_rate
from optjax.transforms.weight_decay import add_decayed_weights


class TraceState(NamedTuple):
    """The momentum buffer ``trace`` (one leaf per param) and the step count."""

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

    def rule(g, p, *, count, trace):
        del p
        b = decay * trace + (1.0 - dampening) * g
        if not is_zero(dampening):
            b = jnp.where(count == 1, g, b)
        u = g + decay * b if nesterov else b
        return u, {"trace": b}

    return leafwise(rule, TraceState, {"trace": zeros(accumulator_dtype)}, name="trace")


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
    validation.non_negative("weight_decay", weight_decay)
    mom = (
        identity()
        if is_zero(momentum) and not nesterov
        else trace(0.0 if momentum is None else momentum, nesterov, dampening, accumulator_dtype)
    )
    lr = scale_by_learning_rate(learning_rate)
    parts = [scale(-1.0)] if maximize else []
    if not is_zero(weight_decay):
        parts.append(add_decayed_weights(weight_decay))
    parts += [lr, mom] if lr_in_momentum_buffer else [mom, lr]
    return chain(*parts)
