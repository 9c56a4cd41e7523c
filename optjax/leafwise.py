"""The pytree plumbing, written once: lift a per-leaf update rule to a transform.

An optimizer's math is a *rule* on one leaf::

    def rule(g, p, *, count, mu, nu):        # arrays of one leaf, count = step t (1, 2, ...)
        mu = b1 * mu + (1 - b1) * g
        nu = b2 * nu + (1 - b2) * g * g
        ...
        return update, {"mu": mu, "nu": nu}

and :func:`leafwise` turns it into a :class:`GradientTransformation` over any
pytree. The plumbing takes care, for every rule alike, of:

* the step counter (int32, saturating; the rule sees the incremented ``count``);
* None gradients (the update is None and that leaf's state is unchanged, as
  torch skips a parameter whose ``.grad`` is None);
* leaves left out by a mask (:class:`MaskedNode`): no state, no work;
* precision: the rule runs in at least float32 (bf16/f16 leaves are upcast),
  the update comes back in the gradient's dtype and each state leaf in its
  own dtype, so state dtypes never drift;
* a clear error naming the first differing path when the gradient tree does
  not match the state;
* state that mirrors params gets the params' sharding, also under ``jit(init)``;
* trace cost: all leaves of one update call share one ``jax.jit`` of the rule,
  so a tree of 1000 same-shaped leaves traces and lowers the rule once (XLA
  inlines the calls: the compiled step is the same as calling the rule per leaf).

Per-step work shared by all leaves (a PRNG split, a scalar schedule) goes in
``step_fn``; state that is not per-leaf goes in ``global_init``.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from optjax import numerics
from optjax.base import NO_PARAMS_MSG, GradientTransformation, PyTree
from optjax.tree import flatten_with_names, is_absent, tree_structure_error, zeros_mirroring

LeafInit = Callable[[jax.Array], jax.Array]

_is_none = lambda x: x is None  # noqa: E731


def zeros(dtype: Any = None) -> LeafInit:
    """A leaf initializer: zeros like the param (in ``dtype`` if given)."""
    return lambda p: zeros_mirroring(p, dtype)


def full(value: float, dtype: Any = None) -> LeafInit:
    """A leaf initializer: ``value`` everywhere, shaped like the param."""
    return lambda p: zeros_mirroring(p, dtype) + jnp.asarray(value, dtype if dtype is not None else p.dtype)


def copy(dtype: Any = None) -> LeafInit:
    """A leaf initializer: a copy of the param (in ``dtype`` if given): a new
    buffer, so a step may donate params and state together."""
    return lambda p: jnp.array(p, dtype if dtype is not None else p.dtype, copy=True)


def _upcast(x: Any) -> Any:
    if x is None or not hasattr(x, "dtype"):
        return x
    return x.astype(numerics.compute_dtype(x.dtype))


def _cast_like(x: Any, like: Any) -> Any:
    if x is None or like is None or not hasattr(like, "dtype"):
        return x
    return jnp.asarray(x).astype(like.dtype)


def flatten_like_state(
    updates: PyTree, reference: PyTree, reference_name: str = "the optimizer state"
) -> tuple[list[Any], Any]:
    """Flatten ``updates`` (None counts as a leaf) and check it against ``reference``."""
    g_leaves, treedef = jax.tree.flatten(updates, is_leaf=_is_none)
    try:
        treedef.flatten_up_to(reference)
    except (ValueError, TypeError) as e:
        msg = tree_structure_error(reference, updates, reference_name, "the update tree")
        raise ValueError(msg or f"the update tree does not match {reference_name}: {e}") from None
    return g_leaves, treedef


def _traced_once_per_signature(rule: Callable, step_kwargs: Mapping[str, Any]) -> Callable:
    """``rule`` as one ``jax.jit`` shared by all leaves of one update call.

    Leaves with the same shapes and dtypes then share one trace and one lowered
    function (XLA inlines the calls, so the compiled step and its numbers are
    those of calling ``rule`` directly); a 1000-leaf update traces the rule once
    instead of 1000 times. Per-step keyword arguments that are not arrays (Python
    hyperparameters, None) stay static, so a rule may branch on them as before.
    """
    static = {k: v for k, v in step_kwargs.items() if not isinstance(v, (jax.Array, np.ndarray, np.generic))}
    jitted = jax.jit(lambda *args, **kwargs: rule(*args, **kwargs, **static))

    def call(*args, **kwargs):
        return jitted(*args, **{k: v for k, v in kwargs.items() if k not in static})

    return call


def leafwise(
    rule: Callable[..., tuple[jax.Array, Mapping[str, jax.Array]]],
    state_cls: type,
    leaf_init: Mapping[str, LeafInit] | None = None,
    *,
    name: str,
    needs_params: bool = False,
    global_init: Callable[[PyTree], Mapping[str, Any]] | None = None,
    step_fn: Callable[..., tuple[Mapping[str, Any], Mapping[str, Any]]] | None = None,
    leaf_info: tuple[str, ...] = (),
    has_count: bool = True,
) -> GradientTransformation:
    """Lift ``rule`` to a transform whose state is ``state_cls``.

    Args:
      rule: ``rule(g, p, *, count, **state_leaves, **step_args, **info)`` for one
        leaf, returning ``(update, {field: new_value})`` for the fields of
        ``leaf_init``. ``p`` is None unless ``needs_params``.
      state_cls: a NamedTuple with fields ``count`` (if ``has_count``), the
        keys of ``leaf_init`` and the keys ``global_init`` returns.
      leaf_init: per-field ``f(param_leaf) -> array`` building the state.
      name: used in error messages.
      needs_params: the rule reads the param; ``update`` then requires params.
      global_init: ``f(params) -> {field: value}`` for state that is not per leaf.
      step_fn: ``f(count=..., **globals) -> (new_globals, step_args)`` run once a
        step before the rule; ``step_args`` are passed to every rule call.
      leaf_info: any of ``"index"`` (the leaf's position) and ``"path"`` (its
        ``a/b/c`` name) to pass to the rule as static keyword arguments.
      has_count: keep a step counter.
    """
    leaf_init = dict(leaf_init or {})
    fields = tuple(leaf_init)

    def init_fn(params):
        state = {f: jax.tree.map(fn, params) for f, fn in leaf_init.items()}
        if global_init is not None:
            state.update(global_init(params))
        if has_count:
            state["count"] = numerics.zero_count()
        return state_cls(**state)

    def update_fn(updates, state, params=None, **extra_args):
        del extra_args
        if needs_params and params is None:
            raise ValueError(NO_PARAMS_MSG.format(name=name))
        reference = getattr(state, fields[0]) if fields else (params if needs_params else updates)
        g_leaves, treedef = flatten_like_state(updates, reference)
        s_leaves = {f: treedef.flatten_up_to(getattr(state, f)) for f in fields}
        if needs_params:
            try:
                p_leaves = treedef.flatten_up_to(params)
            except (ValueError, TypeError):
                msg = tree_structure_error(updates, params, "the update tree", "params")
                raise ValueError(msg or "params do not match the update tree") from None
        else:
            p_leaves = [None] * len(g_leaves)

        new_state: dict[str, Any] = {}
        kwargs: dict[str, Any] = {}
        if has_count:
            count = numerics.safe_increment(state.count)
            new_state["count"] = count
            kwargs["count"] = count
        globals_ = {k: getattr(state, k) for k in state_cls._fields if k not in fields and k != "count"}
        if step_fn is not None:
            globals_, step_args = step_fn(**kwargs, **globals_)
            kwargs.update(step_args)
        new_state.update(globals_)

        paths = None
        if "path" in leaf_info:
            paths = flatten_with_names(updates)[0]
        apply_rule = _traced_once_per_signature(rule, kwargs) if not leaf_info else rule

        out_u = []
        out_s: dict[str, list] = {f: [] for f in fields}
        for i, g in enumerate(g_leaves):
            olds = {f: s_leaves[f][i] for f in fields}
            if is_absent(g):
                out_u.append(g)
                for f in fields:
                    out_s[f].append(olds[f])
                continue
            info = {}
            if "index" in leaf_info:
                info["index"] = i
            if "path" in leaf_info:
                info["path"] = paths[i]
            u, news = apply_rule(
                _upcast(g), _upcast(p_leaves[i]), **kwargs,
                **{f: _upcast(v) for f, v in olds.items()}, **info,
            )
            out_u.append(_cast_like(u, g))
            for f in fields:
                out_s[f].append(_cast_like(news[f], olds[f]))
        for f in fields:
            new_state[f] = treedef.unflatten(out_s[f])
        return treedef.unflatten(out_u), state_cls(**new_state)

    return GradientTransformation(init_fn, update_fn)
