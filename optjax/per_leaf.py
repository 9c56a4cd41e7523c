"""Per-leaf math over whole trees: the one piece of plumbing optimizers share.

An optimizer writes ``init_fn`` and ``update_fn`` in optax's shape and keeps its
math for one leaf in a function ``leaf(g, p, *state_leaves, **step_args) ->
(update, new_state_leaves)``. Per-step work (the count, a schedule, a PRNG
split) is ordinary code in ``update_fn``; :func:`apply` then runs ``leaf``
over every leaf of the update tree::

    def update_fn(updates, state, params=None, **extra_args):
        count = numerics.safe_increment(state.count)
        updates, (mu,) = per_leaf.apply(leaf, updates, (state.mu,), count=count)
        return updates, MyState(count, mu)

For every optimizer alike, :func:`apply`

* skips leaves without a gradient (None: the update is None and that leaf's
  state is unchanged, as torch skips a parameter whose ``.grad`` is None) and
  leaves a mask left out (:class:`~optjax.MaskedNode`: no state, no work);
* runs ``leaf`` in at least float32 (bf16/f16 leaves are upcast) and casts the
  update back to the gradient's dtype and each state leaf to its own dtype, so
  state dtypes never drift;
* raises a ValueError naming the first differing path when the update tree does
  not match the state or the params, and, at trace time, a ValueError or
  TypeError naming the leaf whose update has another shape than its param (or,
  without params, its state) or a dtype that cannot update it
  (integer, or complex for a real param): nothing is broadcast or truncated.

``leaf`` is made a ``jax.jit`` once, in the factory: all leaves of the same
shapes and dtypes then share one trace (a 1000-leaf tree traces the rule once;
XLA inlines the calls, so the compiled step and its numbers are those of calling
the rule per leaf), and an eager ``update`` reuses the compiled rule instead of
tracing again. Step arguments are passed as the jit's arguments: Python numbers
become traced scalars of the same value.

:func:`zeros`, :func:`full` and :func:`copy` build state that mirrors the params
and keeps their sharding, also under ``jax.jit(init)``.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp

from optjax import numerics
from optjax.base import NO_PARAMS_MSG, MaskedNode, PyTree
from optjax.tree import (
    flatten_with_names,
    full_mirroring,
    is_absent,
    is_none,
    leaf_mismatch,
    state_dtype,
    tree_map_none,
    tree_structure_error,
    zeros_mirroring,
)


def zeros(params: PyTree, dtype: Any = None) -> PyTree:
    """Zeros shaped like each param (in ``dtype`` if given), with its sharding."""
    return tree_map_none(lambda p: zeros_mirroring(p, dtype), params)


def full(params: PyTree, value: Any, dtype: Any = None) -> PyTree:
    """``value`` everywhere, shaped like each param, with its sharding."""
    return tree_map_none(lambda p: full_mirroring(p, value, dtype), params)


def second_moments(params: PyTree, dtype: Any = None, value: Any = 0.0) -> PyTree:
    """``value`` shaped like each param, for a running mean or sum of squares:
    stored in at least float32 unless ``dtype`` says otherwise (a dtype, or
    ``"param"`` for each param's own; see :func:`optjax.numerics.second_moment_dtype`)."""
    return tree_map_none(
        lambda p: full_mirroring(p, value, numerics.second_moment_dtype(state_dtype(p), dtype)), params)


def copy(params: PyTree, dtype: Any = None) -> PyTree:
    """A copy of each param (in ``dtype`` if given): new buffers, so a step may
    donate params and state together."""
    return tree_map_none(lambda p: jnp.array(p, state_dtype(p, dtype), copy=True), params)


def nothing(params: PyTree) -> PyTree:
    """None for each param: a state field an option leaves unused keeps the tree's shape."""
    return tree_map_none(lambda p: None, params)


def flatten_like_state(
    updates: PyTree, reference: PyTree, reference_name: str = "the optimizer state"
) -> tuple[list[Any], Any]:
    """Flatten ``updates`` (None counts as a leaf) and check it against ``reference``."""
    g_leaves, treedef = jax.tree.flatten(updates, is_leaf=is_none)
    try:
        treedef.flatten_up_to(reference)
    except (ValueError, TypeError) as e:
        msg = tree_structure_error(reference, updates, reference_name, "the update tree")
        raise ValueError(msg or f"the update tree does not match {reference_name}: {e}") from None
    return g_leaves, treedef


def _check_leaves(updates: PyTree, g_leaves: list[Any], ref_leaves: list[Any], ref_name: str) -> None:
    """Each update leaf has its reference leaf's shape and a dtype that can update it."""
    for i, (g, ref) in enumerate(zip(g_leaves, ref_leaves)):
        if leaf_mismatch("", ref, g, ref_name, "the update") is not None:
            path = flatten_with_names(updates)[0][i]
            raise leaf_mismatch(path, ref, g, ref_name, "the update")


def _upcast(x: Any) -> Any:
    if x is None or isinstance(x, MaskedNode):
        return x
    if isinstance(x, (bool, int, float, complex)):  # a Python number leaf: the float rule
        return jnp.asarray(x, state_dtype(x) if not isinstance(x, complex) else jnp.result_type(complex))
    if not hasattr(x, "dtype"):
        return x
    return numerics.cast(x, numerics.compute_dtype(x.dtype))


def _cast_like(x: Any, like: Any) -> Any:
    if x is None or like is None or not hasattr(like, "dtype"):
        return x
    return numerics.cast(jnp.asarray(x), like.dtype)


def apply(
    leaf: Callable[..., tuple[Any, Sequence[Any]]],
    updates: PyTree,
    state: Sequence[PyTree] = (),
    params: PyTree | None = None,
    *,
    name: str = "this transform",
    needs_params: bool = False,
    state_like_params: bool = True,
    **step_args: Any,
) -> tuple[PyTree, tuple[PyTree, ...]]:
    """``leaf`` on every leaf: ``(new updates, new state trees)``.

    Args:
      leaf: ``leaf(g, p, *state_leaves, **step_args) -> (u, new_state_leaves)``
        for one leaf; ``p`` is None unless ``needs_params``.
      updates: the update (gradient) tree.
      state: trees shaped like the params, one per per-leaf state field (a
        field an option leaves unused may hold None leaves).
      params: the params; required when ``needs_params``.
      name: names the transform in the error for missing params.
      needs_params: ``leaf`` reads the param.
      state_like_params: the state trees have the params' shapes (the
        default), so without params each update leaf is checked against the
        first state tree that holds that leaf; False for a rule whose state is
        reduced (per-row sums).
      **step_args: values shared by all leaves this step (the count, a
        learning rate, a PRNG key).
    """
    if needs_params and params is None:
        raise ValueError(NO_PARAMS_MSG.format(name=name))
    state = tuple(state)
    reference = state[0] if state else (params if needs_params else updates)
    g_leaves, treedef = flatten_like_state(updates, reference)
    s_leaves = [treedef.flatten_up_to(s) for s in state]
    if params is not None:
        try:
            p_leaves = treedef.flatten_up_to(params)
        except (ValueError, TypeError):
            msg = tree_structure_error(updates, params, "the update tree", "params")
            raise ValueError(msg or "params do not match the update tree") from None
        _check_leaves(updates, g_leaves, p_leaves, "params")
    elif state and state_like_params:
        mirror = [next((x[i] for x in s_leaves if not is_absent(x[i])), None) for i in range(len(g_leaves))]
        _check_leaves(updates, g_leaves, mirror, "the optimizer state")
    if not needs_params:
        p_leaves = [None] * len(g_leaves)

    out_u = []
    out_s: list[list[Any]] = [[] for _ in state]
    for i, g in enumerate(g_leaves):
        olds = [s[i] for s in s_leaves]
        if is_absent(g):
            out_u.append(g)
            news = olds
        else:
            u, news = leaf(_upcast(g), _upcast(p_leaves[i]), *map(_upcast, olds), **step_args)
            out_u.append(_cast_like(u, g))
            news = [_cast_like(new, old) for new, old in zip(news, olds)]
        for out, new in zip(out_s, news):
            out.append(new)
    return treedef.unflatten(out_u), tuple(treedef.unflatten(s) for s in out_s)
