"""Applying updates to params."""

from __future__ import annotations

import sys
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

from optjax import numerics
from optjax.base import GradientTransformation, OptState, Params, Updates, call_update
from optjax.tree import check_leaves, is_absent, is_none


def apply_updates(params: Params, updates: Updates) -> Params:
    """``params + updates``, each result in its param's dtype.

    A None update leaves its param unchanged (a parameter without gradient);
    a None param stays None. The trees must match (None counts as a leaf), and
    each update must have its param's shape (nothing is broadcast) and a dtype
    that can update it: an integer update, or a complex one for a real param,
    is a TypeError naming the leaf (see :func:`optjax.tree.check_leaves`).

    >>> import jax.numpy as jnp, optjax
    >>> optjax.apply_updates({"w": jnp.ones(2, jnp.bfloat16)}, {"w": jnp.full(2, 0.5)})["w"].dtype
    dtype(bfloat16)
    """
    check_leaves(params, updates, "params", "updates")

    def add(p, u):
        if p is None or u is None:
            return p
        p, u = jnp.asarray(p), jnp.asarray(u)
        # lax.add is what ``p + u`` computes for one dtype, without jnp's promotion work (per leaf per traced step)
        return numerics.cast(lax.add(p, u) if p.dtype == u.dtype else p + u, p.dtype)

    return jax.tree.map(add, params, updates, is_leaf=is_none)


def _ordered_after(s: jax.Array, p: jax.Array) -> jax.Array:
    """``s`` unchanged, but computed by XLA only once ``p`` (same shape) exists.

    Elementwise: ``p`` bit-cast to an unsigned integer and shifted right by its
    full width is 0 (XLA defines such a shift as 0 and does not fold it);
    converted to +0.0 and subtracted it changes nothing, since
    ``x - (+0.0) == x`` for every float ``x`` (-0.0, inf and NaN included).
    Elementwise rather than one element, so each device reads only its own
    shard of ``p`` (no cross-device traffic, any sharding).
    """
    if jnp.iscomplexobj(p):
        p = jnp.real(p)
    bits = {2: jnp.uint16, 4: jnp.uint32, 8: jnp.uint64}.get(p.dtype.itemsize)
    if bits is None or not jnp.issubdtype(p.dtype, jnp.floating):
        return s
    u = lax.bitcast_convert_type(p, bits)
    zero = lax.shift_right_logical(u, jnp.full(u.shape, 8 * p.dtype.itemsize, bits))
    return s - zero.astype(s.dtype)


# one trace per (shape, dtype) pair, however many leaves (XLA inlines the call)
_ordered_after_jit = jax.jit(_ordered_after)


def _after_params(tree: Any, new_params: Params) -> Any:
    """``tree`` (shaped like params) with each float leaf made to depend on its new param."""
    def dep(s, p):
        if (is_absent(s) or is_absent(p) or not hasattr(s, "dtype")
                or not jnp.issubdtype(s.dtype, jnp.inexact) or jnp.shape(p) != s.shape):
            return s
        return _ordered_after_jit(s, p)

    try:
        return jax.tree.map(dep, tree, new_params, is_leaf=is_absent)
    except (ValueError, TypeError):
        return tree  # not shaped like params (e.g. a partition's sub-tree): leave it as it is


def _optax_fields_read_by_update() -> dict[type, tuple[str, ...]]:
    """optax's state classes whose update reads the old value of these fields
    (found in their compiled HLO like optjax's own, benchmarks/experiments.py h).

    Looked up on the optax module itself, and only once optax is imported (an
    optax state cannot exist before): a renamed class fails loudly here, and
    the test suite checks both are still ordered.
    """
    optax = sys.modules.get("optax")
    if optax is None:
        return {}
    return {optax.ScaleByLionState: ("mu",), optax.ScaleByBeliefState: ("nu",)}


def _fields_read_by_update(node: Any, external: dict[type, tuple[str, ...]]) -> tuple[str, ...]:
    cls = type(node)
    own = getattr(cls, "fields_read_by_update", None)
    if own is not None:
        return tuple(own)
    return external.get(cls, ())


def update_and_apply(
    tx: GradientTransformation,
    grads: Updates,
    state: OptState,
    params: Params,
    **extra_args: Any,
) -> tuple[Params, OptState]:
    """One optimizer step: ``tx.update`` then :func:`apply_updates`, as one call.

    The numbers are exactly those of::

        updates, state = tx.update(grads, state, params, **extra_args)
        params = apply_updates(params, updates)

    ``grads`` is checked against ``params`` first, for any ``tx`` (same
    structure and shapes, floating dtypes: :func:`optjax.tree.check_leaves`);
    a ``tx`` whose first stage takes per-example gradients (a leading batch
    axis) is called as ``tx.update`` then :func:`apply_updates` instead.

    What it adds is an order for XLA. Some update rules read the *old* value of
    a state leaf that the same step overwrites (Lion: ``u = sign((1-b1) g + b1 m)``
    while ``m <- (1-b2) g + b2 m``). In a step that donates params and state, XLA
    then copies that state leaf to a params-sized temporary, because nothing says
    the param update reads ``m`` before ``m`` is overwritten. Here each such state
    leaf is made to depend on its new param (a data dependency that changes no
    value), so XLA writes both in place: no temporary and no copy pass.

    Only state fields that their transform declares as read by its update, in
    the class attribute ``fields_read_by_update`` of its state NamedTuple
    (``ScaleByLionState``: ``("mu",)``; a user's own transform can set it too),
    are ordered; optax's Lion and AdaBelief states are known as well. For every
    other transform this is the plain path.

    >>> import jax, jax.numpy as jnp, optjax
    >>> tx = optjax.lion(1e-4)
    >>> step = jax.jit(lambda p, s, g: optjax.update_and_apply(tx, g, s, p), donate_argnums=(0, 1))
    >>> p = {"w": jnp.ones(3)}
    >>> p, s = step(p, tx.init(p), {"w": jnp.ones(3)})
    """
    check_leaves(params, grads, "params", "grads")
    updates, new_state = call_update(tx, grads, state, params, extra_args)
    new_params = apply_updates(params, updates)
    external = _optax_fields_read_by_update()
    marked = lambda x: bool(_fields_read_by_update(x, external))  # noqa: E731

    def order(node):
        fields = _fields_read_by_update(node, external)
        if not fields:
            return node
        return node._replace(**{f: _after_params(getattr(node, f), new_params) for f in fields})

    return new_params, jax.tree.map(order, new_state, is_leaf=marked)
