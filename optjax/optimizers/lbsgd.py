"""Large-batch SGD with gradient accumulation and learning-rate warm-up
(``mx.optimizer.LBSGD``).

Reference: Goyal et al., *Accurate, Large Minibatch SGD*, 2017; You et al.,
*Large Batch Training of Convolutional Networks* (LARS), 2017; MXNet 1.9.1
``optimizer.py:1056-1246``.
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from optjax import numerics, per_leaf, validation
from optjax.base import GradientTransformation, ScalarOrSchedule, value_at

WARMUP_STRATEGIES = ("linear", "power2", "sqrt", "lars")


def clip_gradient_fn(clip_gradient: Any):
    """MXNet's ``clip_gradient`` (None, 0 or negative: no clipping) as a function,
    or None when it is statically off. A jax value (injected, possibly traced)
    is decided inside the computation, never by Python truthiness. For a positive
    bound MXNet's clip is ``jnp.clip``."""
    if clip_gradient is None:
        return None
    if isinstance(clip_gradient, (int, float, np.number)) and not isinstance(clip_gradient, bool):
        if clip_gradient <= 0:
            return None
        return lambda G: jnp.clip(G, -clip_gradient, clip_gradient)
    return lambda G: jnp.where(clip_gradient > 0, jnp.clip(G, -clip_gradient, clip_gradient), G).astype(G.dtype)


class LbsgdState(NamedTuple):
    """``cum_grad``: gradients summed since the last macro-batch step;
    ``velocity``: the momentum buffer in MXNet's sign (None without momentum)."""

    count: jax.Array
    cum_grad: Any
    velocity: Any
    # the update reads the old velocity: optjax.update_and_apply orders its in-place write
    fields_read_by_update = ("velocity",)


def lbsgd(
    learning_rate: ScalarOrSchedule = 0.01,
    momentum: float = 0.0,
    *,
    weight_decay: Any = 0.0,
    warmup_strategy: str = "linear",
    warmup_epochs: int = 5,
    batch_scale: int = 1,
    updates_per_epoch: int = 32,
    begin_epoch: int = 0,
    num_epochs: int = 60,
    rescale_grad: Any = 1.0,
    clip_gradient: float | None = None,
    accumulator_dtype: Any = None,
) -> GradientTransformation:
    """LBSGD: accumulate ``batch_scale`` gradients, then take one SGD step.

    Let ``n = begin_epoch * updates_per_epoch + t`` (``t`` = 1, 2, ...). Every
    call adds ``g`` to ``cum_grad``; when ``n % batch_scale == 0``::

        G    = clip(rescale_grad * cum_grad / batch_scale, clip_gradient)
        lr_n = lr * mult(n)
        v    = mu * v - lr_n * wd * w - lr_n * G     (momentum > 0; else v = that step)
        w   <- w + v ;  cum_grad <- 0

    and otherwise the update is 0. ``mult`` ramps from 1 to ``batch_scale``
    over ``nwup = warmup_epochs * updates_per_epoch`` calls: ``"linear"``
    ``1 + (bs-1) n/nwup``, ``"power2"`` ``1 + (bs-1) (n/nwup)**2``, ``"sqrt"``
    ``1 + (bs-1) sqrt(n/nwup)`` (``bs`` once ``n >= nwup``; 1 if ``nwup <= 1``);
    ``"lars"`` is per leaf ``clip(sqrt(|w|^2 / (|G0|^2 + wd |w|^2 + 1e-18)), 0.01, 100)``
    with ``G0 = cum_grad / batch_scale`` (before rescale and clip).

    ``rescale_grad`` and ``clip_gradient`` act on the averaged macro-batch
    gradient, as in MXNet's kernel (clipping does not commute with the sum),
    so they are options here rather than transforms before it.

    Differences from MXNet 1.9.1: MXNet's first accumulated gradient *aliases*
    the caller's gradient array, so with a reused gradient buffer (Module,
    Trainer) its first macro-batch uses ``2*g_2/bs`` instead of ``(g_1+g_2)/bs``;
    this sums correctly. ``num_epochs`` is accepted and unused, as in MXNet.
    With ``batch_scale=1`` this is plain SGD with coupled weight decay.

    Args:
      learning_rate: ``lr >= 0``, float or schedule.
      momentum: ``mu`` in [0, 1].
      weight_decay: coupled L2 ``>= 0``.
      warmup_strategy: one of ``"linear", "power2", "sqrt", "lars"``.
      warmup_epochs, updates_per_epoch, begin_epoch: warm-up length in calls.
      batch_scale: calls per macro-batch, ``>= 1``.
      rescale_grad, clip_gradient: see above (``clip_gradient`` None, 0 or
        negative: no clipping, MXNet's C++ convention).

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.lbsgd(0.1, batch_scale=2)
    >>> p = {"w": jnp.ones(2)}
    >>> u, s = tx.update({"w": jnp.ones(2)}, tx.init(p), p)
    >>> u["w"]   # first of two accumulation calls: no step
    Array([0., 0.], dtype=float32)
    """
    validation.positive("rescale_grad", rescale_grad)
    validation.learning_rate(learning_rate)
    validation.check("momentum", momentum, low=0.0, high=1.0)
    validation.non_negative("weight_decay", weight_decay)
    validation.one_of("warmup_strategy", warmup_strategy, WARMUP_STRATEGIES)
    for n_, v_ in (("warmup_epochs", warmup_epochs), ("updates_per_epoch", updates_per_epoch),
                   ("begin_epoch", begin_epoch), ("num_epochs", num_epochs)):
        validation.non_negative(n_, v_)
    validation.check("batch_scale", batch_scale, low=1.0)
    if int(batch_scale) != batch_scale:
        raise ValueError(f"batch_scale must be an integer >= 1, got {batch_scale!r}")
    batch_scale = int(batch_scale)
    # Only a static 0 drops the velocity (an injected momentum is a concrete
    # array at init and a tracer at update; both must build the same state).
    has_momentum = not validation.is_static_zero(momentum)
    clip = clip_gradient_fn(clip_gradient)
    init_updates = int(begin_epoch) * int(updates_per_epoch)
    nwup = int(warmup_epochs) * int(updates_per_epoch)
    maxmult = float(batch_scale)

    def warmup_mult(n):
        if warmup_strategy == "lars":
            return None
        x = n.astype(jnp.float32) / max(nwup, 1)
        if warmup_strategy == "linear":
            ramp = 1.0 + (maxmult - 1.0) * x
        elif warmup_strategy == "power2":
            ramp = 1.0 + (maxmult - 1.0) * x * x
        else:
            ramp = 1.0 + (maxmult - 1.0) * jnp.sqrt(x)
        if nwup <= 1:
            ramp = jnp.float32(1.0)
        return jnp.where(n >= nwup, maxmult, ramp)

    @jax.jit
    def leaf(g, p, cum_grad, velocity, *, count, lr):
        n = count + init_updates
        cum = cum_grad + g
        apply = (n % batch_scale) == 0
        g0 = cum / batch_scale
        if warmup_strategy == "lars":
            w2 = jnp.sum(p * p)
            gg = jnp.sum(g0 * g0)
            mult = jnp.clip(jnp.sqrt(w2 / (gg + weight_decay * w2 + 1e-18)), 0.01, 100.0)
        else:
            mult = warmup_mult(n)
        lr_n = lr * mult
        G = rescale_grad * g0
        if clip is not None:
            G = clip(G)
        step = -(lr_n * weight_decay) * p - lr_n * G
        if has_momentum:
            new_v = momentum * velocity + step
            velocity = jnp.where(apply, new_v, velocity)
            step = new_v
        u = jnp.where(apply, step, jnp.zeros_like(step))
        cum = jnp.where(apply, jnp.zeros_like(cum), cum)
        return u, (cum, velocity)

    def init_fn(params):
        velocity = per_leaf.zeros(params, accumulator_dtype) if has_momentum else per_leaf.nothing(params)
        return LbsgdState(count=numerics.zero_count(), cum_grad=per_leaf.zeros(params), velocity=velocity)

    def update_fn(updates, state, params=None, **extra_args):
        del extra_args
        count = numerics.safe_increment(state.count)
        updates, (cum_grad, velocity) = per_leaf.apply(
            leaf, updates, (state.cum_grad, state.velocity), params, name="lbsgd", needs_params=True,
            count=count, lr=value_at(learning_rate, state.count))
        return updates, LbsgdState(count=count, cum_grad=cum_grad, velocity=velocity)

    return GradientTransformation(init_fn, update_fn)
