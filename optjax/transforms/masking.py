"""Masks: run a transform on some leaves only; freeze parameters and auxiliary state."""

from __future__ import annotations

from typing import Any

import jax

from optjax.base import GradientTransformation, MaskedNode, PyTree, call_update, set_to_zero
from optjax.combine import MaskedState, partition
from optjax.tree import (
    broadcast_prefix, check_leaves, check_same_structure, flatten_with_names, is_called_spec, is_none,
    is_params_placeholder, resolve_per_leaf,
)


def _resolve_mask(mask: Any, params: PyTree, patterns: bool = True) -> PyTree:
    return resolve_per_leaf(mask, params, name="mask", default=False, patterns=patterns)


def _layout(mask: Any, params: PyTree, per_leaf: PyTree) -> PyTree:
    """The mask to cut the trees with: the user's own tree where it is a prefix of the
    params (one MaskedNode then stands for a masked-out subtree, optax's state layout),
    else the per-leaf mask (path patterns)."""
    spec = mask(params) if is_called_spec(mask) else mask
    return spec if broadcast_prefix(spec, params) is not None else per_leaf


def _cut(tree: PyTree, layout: PyTree) -> PyTree:
    return jax.tree.map(lambda k, sub: sub if bool(k) else MaskedNode(), layout, tree, is_leaf=is_none)


def _merge(layout: PyTree, new: PyTree, old: PyTree) -> PyTree:
    return jax.tree.map(lambda k, n, u: n if bool(k) else u, layout, new, old, is_leaf=is_none)


def masked(inner: GradientTransformation, mask: Any) -> GradientTransformation:
    """Apply ``inner`` to the leaves where ``mask`` is True; pass the others through.

    ``mask`` is a pytree of bools like the params or a prefix of it (``{"encoder":
    False, "head": True}``), a function ``f(params)`` giving one, or a mapping from
    path patterns to bools (unmatched leaves False). A pytree that is itself callable
    (an equinox Module of bools) is used as a tree, not called, as in optax.
    The inner state covers the masked-in leaves only.

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.masked(optjax.scale(0.0), {"*bias": True})
    >>> tx.update({"w": jnp.ones(1), "bias": jnp.ones(1)}, tx.init({"w": 0., "bias": 0.}))[0]
    {'bias': Array([0.], dtype=float32), 'w': Array([1.], dtype=float32)}
    """

    def init_fn(params):
        if is_params_placeholder(params):  # tree.map_params looking for the params' copies
            return MaskedState(inner.init(params))
        layout = _layout(mask, params, _resolve_mask(mask, params))
        return MaskedState(inner.init(_cut(params, layout)))

    def update_fn(updates, state, params=None, **extra_args):
        ref = params if params is not None else updates
        m = _resolve_mask(mask, ref)
        check_same_structure(m, updates, "the mask", "the update tree")
        if params is not None:  # masked-out leaves pass through unchecked by the inner transform
            check_leaves(params, updates, "params", "the updates")
        layout = _layout(mask, ref, m)
        sel_p = None if params is None else _cut(params, layout)
        new_u, new_inner = call_update(inner, _cut(updates, layout), state.inner_state, sel_p, extra_args)
        return _merge(layout, new_u, updates), MaskedState(new_inner)

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


def freeze(mask: Any, inner: GradientTransformation | None = None, *,
           patterns: bool = True) -> GradientTransformation:
    """Fix the parameters where ``mask`` is True: their updates are zero.

    ``freeze(mask)`` alone zeroes the masked updates (optax's ``freeze``), for
    use in a chain. ``freeze(mask, inner)`` runs ``inner`` on the trainable
    leaves only, so frozen leaves hold **no optimizer state**; use it for fixed
    parameters and for auxiliary state such as BatchNorm moving mean and
    variance, which the optimizer must never touch. Their gradient may be None
    or missing from the update tree (the result then has the params' structure,
    with None for those leaves, which :func:`apply_updates` leaves unchanged).
    ``mask`` is read as in :func:`masked`; ``patterns=False`` reads a mapping as a
    tree only, so a mask missing a key is an error (optax's ``selective_transform``).

    >>> import jax.numpy as jnp, optjax
    >>> params = {"w": jnp.ones(2), "bn": {"moving_mean": jnp.zeros(2)}}
    >>> tx = optjax.freeze({"*moving_*": True}, optjax.sgd(0.1))
    >>> state = tx.init(params)
    >>> updates, state = tx.update({"w": jnp.ones(2)}, state, params)
    """
    if inner is None:
        return masked(set_to_zero(), mask)

    def labels(params):
        m = _resolve_mask(mask, params, patterns)
        return jax.tree.map(lambda k: "freeze" if bool(k) else "train", m)

    part = partition({"train": inner, "freeze": set_to_zero()}, labels)  # optax's labels

    def update_fn(updates, state, params=None, **extra_args):
        if params is not None:
            updates = _align_to_params(updates, params, _resolve_mask(mask, params, patterns))
        updates, state = part.update(updates, state, params, **extra_args)
        return updates, state

    return GradientTransformation(part.init, update_fn)


def selective_transform(optimizer: GradientTransformation, freeze_mask: Any) -> GradientTransformation:
    """optax's name for ``freeze(freeze_mask, optimizer)``, with optax's masks: a tree
    of bools like the params or a prefix of it (a mapping missing a key is an error,
    not a pattern mapping)."""
    return freeze(freeze_mask, optimizer, patterns=False)
