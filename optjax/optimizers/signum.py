"""Sign-based SGD: ``sign_sgd`` and ``signum`` (``mx.optimizer.Signum``).

Reference: Bernstein et al., *signSGD: Compressed Optimisation for Non-Convex
Problems*, ICML 2018; MXNet 1.9.1 ``SignumKernel`` / ``SignSGDKernel``.
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optjax import numerics, per_leaf, validation
from optjax.base import EmptyState, GradientTransformation, ScalarOrSchedule, is_schedule, value_at
from optjax.transforms.averaging import EmaState
from optjax.transforms.scaling import ScaleByScheduleState

# optax's layout: sign_sgd is chain(scale_by_sign, scale_by_learning_rate) and signum
# chain(ema(beta, debias=False), scale_by_sign, scale_by_learning_rate). The step runs
# fused here (MXNet's decays sit inside it); the state keeps the chain's shape: a
# schedule's count in the learning-rate stage, EmptyState elsewhere.


def _lr_stage(learning_rate: ScalarOrSchedule, count: Any) -> NamedTuple:
    """The learning-rate stage's state: the schedule's count, or none."""
    return ScaleByScheduleState(count) if is_schedule(learning_rate) else EmptyState()


def _lr_step(learning_rate: ScalarOrSchedule, state: NamedTuple) -> tuple[Any, NamedTuple]:
    """``(lr this step, the stage's next state)``."""
    if not is_schedule(learning_rate):
        return learning_rate, state
    return value_at(learning_rate, state.count), ScaleByScheduleState(numerics.safe_increment(state.count))


def sign_sgd(learning_rate: ScalarOrSchedule, *, weight_decay: Any = 0.0) -> GradientTransformation:
    """signSGD: ``w <- (1 - lr * wd) * w - lr * sign(g)``.

    ``optax.sign_sgd(lr)`` when ``weight_decay == 0``; the decay is decoupled
    (MXNet's ``Signum(momentum=0)``, ``signsgd_update``). ``sign(0) = 0``.

    Args:
      learning_rate: ``lr >= 0``, float or schedule.
      weight_decay: decoupled decay ``wd >= 0`` (scaled by ``lr``).

    >>> import jax.numpy as jnp, optjax
    >>> optjax.sign_sgd(0.1).update({"w": jnp.array([2., -3.])}, optjax.sign_sgd(0.1).init(None))[0]["w"]
    Array([-0.1,  0.1], dtype=float32)
    """
    validation.learning_rate(learning_rate)
    validation.non_negative("weight_decay", weight_decay)
    no_wd = validation.is_static_zero(weight_decay)

    @jax.jit
    def leaf(g, p, *, lr, lr_wd):
        u = -lr * jnp.sign(g)
        if not no_wd:
            u = u - lr_wd * p
        return u, ()

    def init_fn(params):
        del params
        return (EmptyState(), _lr_stage(learning_rate, numerics.zero_count()))

    def update_fn(updates, state, params=None, **extra_args):
        del extra_args
        lr, lr_state = _lr_step(learning_rate, state[1])
        updates, () = per_leaf.apply(leaf, updates, (), params, name="sign_sgd", needs_params=not no_wd,
                                     lr=lr, lr_wd=lr * weight_decay)
        return updates, (state[0], lr_state)

    return GradientTransformation(init_fn, update_fn)


def signum(
    learning_rate: ScalarOrSchedule,
    beta: float = 0.9,
    *,
    weight_decay: Any = 0.0,
    wd_lh: Any = 0.0,
    accumulator_dtype: Any = None,
) -> GradientTransformation:
    """Signum: signSGD on an EMA of the gradient (``optax.signum`` when both decays are 0)::

        m <- beta * m + (1 - beta) * (g + wd * w)       # wd coupled, inside the EMA
        w <- (1 - lr * wd_lh) * w - lr * sign(m)          # wd_lh decoupled

    This is MXNet's ``Signum(momentum=beta, wd=wd, wd_lh=wd_lh)``; MXNet keeps
    ``-m`` as its state (exactly the negation, so the numbers are identical).
    The state has ``optax.signum``'s layout: ``(EmaState(count, ema), EmptyState(),
    EmptyState() or ScaleByScheduleState(count))`` with ``m`` in ``ema``.

    Args:
      learning_rate: ``lr >= 0``, float or schedule.
      beta: EMA decay in [0, 1) (MXNet's ``momentum``, default 0.9).
      weight_decay: coupled L2 ``wd >= 0``.
      wd_lh: decoupled decay ``>= 0`` (Loshchilov and Hutter).
      accumulator_dtype: dtype of ``m``.

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.signum(0.1)
    >>> u, s = tx.update({"w": jnp.array([2., -3.])}, tx.init({"w": jnp.zeros(2)}))
    >>> u["w"]
    Array([-0.1,  0.1], dtype=float32)
    """
    validation.learning_rate(learning_rate)
    validation.unit_interval("beta", beta)
    validation.non_negative("weight_decay", weight_decay)
    validation.non_negative("wd_lh", wd_lh)
    no_wd, no_lh = validation.is_static_zero(weight_decay), validation.is_static_zero(wd_lh)

    @jax.jit
    def leaf(g, p, mu, *, lr, lr_wd_lh):
        m = beta * mu
        if not no_wd:
            m = m + (1.0 - beta) * weight_decay * p
        m = m + (1.0 - beta) * g
        u = -lr * jnp.sign(m)
        if not no_lh:
            u = u - lr_wd_lh * p
        return u, (m,)

    def init_fn(params):
        zero = numerics.zero_count()
        return (EmaState(count=zero, ema=per_leaf.zeros(params, accumulator_dtype)), EmptyState(),
                _lr_stage(learning_rate, zero))

    def update_fn(updates, state, params=None, **extra_args):
        del extra_args
        ema, _, lr_state = state
        lr, lr_state = _lr_step(learning_rate, lr_state)
        updates, (m,) = per_leaf.apply(leaf, updates, (ema.ema,), params, name="signum",
                                       needs_params=not (no_wd and no_lh), lr=lr, lr_wd_lh=lr * wd_lh)
        return updates, (EmaState(count=numerics.safe_increment(ema.count), ema=m), EmptyState(), lr_state)

    return GradientTransformation(init_fn, update_fn)
