"""Masks: run a transform on some leaves only; freeze parameters and auxiliary state."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax

from optjax.base import GradientTransformation, MaskedNode, PyTree, call_update, set_to_zero
from optjax.combine import partition
from optjax.tree import check_same_structure, flatten_with_names, is_absent, is_none, resolve_per_leaf


class MaskedState(NamedTuple):
    """The inner transform's state, over the masked-in leaves only."""

    inner_state: Any


def _resolve_mask(mask: Any, params: PyTree) -> PyTree:
    return resolve_per_leaf(mask, params, name="mask", default=False)


def _select(tree: PyTree, mask: PyTree) -> PyTree:
    return jax.tree.map(lambda x, m: x if bool(m) else MaskedNode(), tree, mask, is_leaf=is_none)


def masked(inner: GradientTransformation, mask: Any) -> GradientTransformation:
    """Apply ``inner`` to the leaves where ``mask`` is True; pass the others through.

    ``mask`` is a pytree of bools like the params, a callable ``f(params)`` giving
    one, or a mapping from path patterns to bools (unmatched leaves False).
    The inner state covers the masked-in leaves only.

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.masked(optjax.scale(0.0), {"*bias": True})
    >>> tx.update({"w": jnp.ones(1), "bias": jnp.ones(1)}, tx.init({"w": 0., "bias": 0.}))[0]
    {'bias': Array([0.], dtype=float32), 'w': Array([1.], dtype=float32)}
    """

    def init_fn(params):
        m = _resolve_mask(mask, params)
        return MaskedState(inner.init(_select(params, m)))

    def update_fn(updates, state, params=None, **extra_args):
        ref = params if params is not None else updates
        m = _resolve_mask(mask, ref)
        check_same_structure(m, updates, "the mask", "the update tree")
        sel_u = _select(updates, m)
        sel_p = None if params is None else _select(params, m)
        new_u, new_inner = call_update(inner, sel_u, state.inner_state, sel_p, extra_args)
        out = jax.tree.map(
            lambda u, n, k: n if bool(k) else u, updates, new_u, m,
            is_leaf=is_absent,
        )
        return out, MaskedState(new_inner)

    return GradientTransformation(init_fn, update_fn)


def _align_to_params(updates: PyTree, params: PyTree, frozen: PyTree) -> PyTree:
    """Give ``updates`` the structure of ``params``, with None for frozen leaves it lacks.

    Lets a gradient tree omit auxiliary state (BatchNorm moving statistics, say)
    entirely; a missing leaf that is not frozen is an error naming it.
    """
    try:
        jax.tree.structure(params, is_leaf=is_none).flatten_up_to(updates)
        return updates
    except (ValueError, TypeError):
        pass
    u_names, u_leaves, _ = flatten_with_names(updates)
    p_names, _, p_def = flatten_with_names(params)
    by_name = dict(zip(u_names, u_leaves))
    extra = set(u_names) - set(p_names)
    if extra:
        raise ValueError(f"the update tree has '{sorted(extra)[0]}', which is not a parameter")
    fz = dict(zip(p_names, jax.tree.leaves(frozen, is_leaf=is_none)))
    out = []
    for n in p_names:
        if n not in by_name and not fz.get(n):
            raise ValueError(f"the update tree has no gradient for '{n}', which is not frozen")
        out.append(by_name.get(n))
    return p_def.unflatten(out)


def freeze(mask: Any, inner: GradientTransformation | None = None) -> GradientTransformation:
    """Fix the parameters where ``mask`` is True: their updates are zero.

    ``freeze(mask)`` alone zeroes the masked updates (optax's ``freeze``), for
    use in a chain. ``freeze(mask, inner)`` runs ``inner`` on the trainable
    leaves only, so frozen leaves hold **no optimizer state**; use it for fixed
    parameters and for auxiliary state such as BatchNorm moving mean and
    variance, which the optimizer must never touch. Their gradient may be None
    or missing from the update tree (the result then has the params' structure,
    with None for those leaves, which :func:`apply_updates` leaves unchanged).

    >>> import jax.numpy as jnp, optjax
    >>> params = {"w": jnp.ones(2), "bn": {"moving_mean": jnp.zeros(2)}}
    >>> tx = optjax.freeze({"*moving_*": True}, optjax.sgd(0.1))
    >>> state = tx.init(params)
    >>> updates, state = tx.update({"w": jnp.ones(2)}, state, params)
    """
    if inner is None:
        return masked(set_to_zero(), mask)

    def labels(params):
        m = _resolve_mask(mask, params)
        return jax.tree.map(lambda k: "freeze" if bool(k) else "train", m)

    part = partition({"train": inner, "freeze": set_to_zero()}, labels)  # optax's labels

    def update_fn(updates, state, params=None, **extra_args):
        if params is not None:
            updates = _align_to_params(updates, params, _resolve_mask(mask, params))
        updates, state = part.update(updates, state, params, **extra_args)
        return updates, state

    return GradientTransformation(part.init, update_fn)


def selective_transform(optimizer: GradientTransformation, freeze_mask: Any) -> GradientTransformation:
    """optax's name for ``freeze(freeze_mask, optimizer)``."""
    return freeze(freeze_mask, optimizer)
