"""Weight decay, coupled (an L2 term in the gradient) and decoupled (AdamW).

Both take an optional per-leaf multiplier in the same forms as :func:`lr_mult`
(a pytree, a callable of params, or path patterns; 0 turns decay off for a
leaf), and :func:`mxnet_wd_mult` gives MXNet's rule that only names ending in
``_weight`` or ``_gamma`` decay.
"""

from typing import Any, NamedTuple

import jax

from optjax import numerics, validation
from optjax.base import NO_PARAMS_MSG, EmptyState, GradientTransformation, PyTree, ScalarOrSchedule, is_schedule, value_at
from optjax.transforms.masking import MaskedState
from optjax.tree import leaf_names, resolve_per_leaf, tree_map_none


class WeightDecaySchedule(NamedTuple):
    """The step count a scheduled weight decay (or learning rate) is evaluated at
    (optax's layout; kept only when one of them is a schedule)."""

    count: jax.Array


def mxnet_wd_mult(params: PyTree) -> PyTree:
    """MXNet's default ``wd_mult``: 1.0 for leaves whose name ends in ``weight`` or
    ``gamma`` (``fc1_weight``, ``bn/gamma``), 0.0 for the rest (biases, betas,
    moving statistics). Pass it as ``weight_decay_mult=optjax.mxnet_wd_mult``.
    """
    def rule(name):
        last = name.rsplit("/", 1)[-1]
        return 1.0 if last.endswith("weight") or last.endswith("gamma") else 0.0

    return tree_map_none(rule, leaf_names(params))


def _resolve_mult(mult: Any, params: PyTree) -> PyTree | None:
    if mult is None:
        return None

    def check(name, v):
        validation.non_negative(f"weight_decay_mult for '{name}'", v)

    return resolve_per_leaf(mult, params, name="weight_decay_mult", default=1.0, validate=check)


def _decay_transform(weight_decay, mask, weight_decay_mult, *, name, sign, lr):
    validation.non_negative("weight_decay", weight_decay)
    validation.learning_rate(lr, optional=True)
    scheduled = is_schedule(weight_decay) or is_schedule(lr)

    # optax's layout: a count only for a schedule, and a mask wraps the state in
    # MaskedState (optax builds `masked(add_decayed_weights(wd), mask)`)
    def wrap(inner):
        return inner if mask is None else MaskedState(inner)

    def init_fn(params):
        del params
        return wrap(WeightDecaySchedule(numerics.zero_count()) if scheduled else EmptyState())

    def update_fn(updates, state, params=None, **extra_args):
        del extra_args
        inner = state if mask is None else state.inner_state
        if validation.is_static_zero(weight_decay) and not scheduled:  # nothing to add (no params needed)
            return updates, state
        if params is None:
            raise ValueError(NO_PARAMS_MSG.format(name=name))
        count = inner.count if scheduled else 0
        wd = value_at(weight_decay, count)
        rate = wd
        if lr is not None:
            rate = sign * value_at(lr, count) * wd
        mult = _resolve_mult(weight_decay_mult, params)
        if mask is not None:
            keep = resolve_per_leaf(mask, params, name="weight decay mask", default=False)
            base = mult if mult is not None else tree_map_none(lambda _: 1.0, params)
            mult = tree_map_none(lambda m, k: m if bool(k) else 0.0, base, keep)

        def add(u, p, m=1.0):
            if m == 0.0:
                return u
            cdt = numerics.compute_dtype(u.dtype)
            return numerics.cast(numerics.cast(u, cdt) + (rate * m) * numerics.cast(p, cdt), u.dtype)

        if mult is None:
            new = tree_map_none(add, updates, params)
        else:
            new = tree_map_none(add, updates, params, mult)
        if scheduled:
            inner = WeightDecaySchedule(numerics.safe_increment(inner.count))
        return new, wrap(inner)

    return GradientTransformation(init_fn, update_fn)


def add_decayed_weights(
    weight_decay: ScalarOrSchedule = 0.0,
    mask: Any = None,
    *,
    weight_decay_mult: Any = None,
) -> GradientTransformation:
    """Add ``wd * m_i * p_i`` to each update (``m_i`` the per-leaf multiplier).

    Placed *before* an adaptive rule (``chain(add_decayed_weights(wd), adam)``)
    this is coupled L2 decay, torch's ``Adam(weight_decay=wd)``; placed after it
    and before the learning rate (``chain(scale_by_adam(), add_decayed_weights(wd),
    scale_by_learning_rate(lr))``) it is decoupled decay as in AdamW,
    ``p <- p - lr * (adam_update + wd * p)``.

    Args:
      weight_decay: ``wd >= 0``, a float or a schedule of the step.
      mask: optional boolean per leaf (same forms as ``weight_decay_mult``):
        False leaves are not decayed (optax's ``mask``).
      weight_decay_mult: per-leaf multiplier ``m_i >= 0`` (MXNet's ``wd_mult``):
        a pytree, a callable of params (e.g. :func:`mxnet_wd_mult`) or path
        patterns (unmatched leaves 1.0).
    """
    return _decay_transform(weight_decay, mask, weight_decay_mult, name="add_decayed_weights", sign=1.0, lr=None)


def decoupled_weight_decay(
    weight_decay: ScalarOrSchedule,
    learning_rate: ScalarOrSchedule = 1.0,
    *,
    mask: Any = None,
    weight_decay_mult: Any = None,
) -> GradientTransformation:
    """Subtract ``lr * wd * m_i * p_i`` from updates that already carry the learning rate.

    For chains that end in ``scale_by_learning_rate``: ``chain(adam(lr),
    decoupled_weight_decay(wd, lr))`` is torch's ``AdamW`` step
    ``p <- p - lr * wd * p - lr * adam_update``; with the default
    ``learning_rate=1.0`` it is Loshchilov and Hutter's fully decoupled
    ``p <- p - wd * p``. ``lr`` may be the same schedule the optimizer uses.
    """
    return _decay_transform(
        weight_decay, mask, weight_decay_mult, name="decoupled_weight_decay", sign=-1.0, lr=learning_rate
    )
