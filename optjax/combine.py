"""Composing transforms: ``chain`` runs them in order, ``partition`` gives each
group of parameters its own transform (PyTorch parameter groups)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable, Hashable, NamedTuple

import jax

from optjax.base import GradientTransformation, MaskedNode, PyTree, call_update
from optjax.tree import check_leaves, flatten_with_names, is_absent, is_none, is_params_placeholder, resolve_per_leaf


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Apply ``transforms`` one after the other; the state is a tuple of their states.

    Extra keyword arguments to ``update`` (``value=loss``, ...) reach each
    transform that declares them and are dropped for the others, so optax
    transforms (with or without ``**extra_args``) chain with optjax ones.
    Given ``params``, the incoming updates' structure and dtypes are checked
    against them (an integer gradient, or a complex one for a real param, is a
    TypeError naming the leaf); their shapes are not (a first stage may take
    per-example gradients with a batch axis): each stateful stage checks the
    shapes it receives, and ``apply_updates`` checks the result.

    >>> import optjax
    >>> tx = optjax.chain(optjax.clip_by_global_norm(1.0), optjax.scale(-0.1))
    """
    for i, t in enumerate(transforms):
        if not (hasattr(t, "init") and hasattr(t, "update")):
            raise TypeError(f"chain: argument {i} is not a transform (needs init and update): {t!r}")

    def init_fn(params):
        return tuple(t.init(params) for t in transforms)

    def update_fn(updates, state, params=None, **extra_args):
        if not isinstance(state, tuple) or len(state) != len(transforms):
            n = len(state) if isinstance(state, tuple) else type(state).__name__
            raise ValueError(
                f"chain of {len(transforms)} transforms got a state of {n} entries: "
                "was it made by this chain's init?"
            )
        if params is not None:
            check_leaves(params, updates, "params", "the updates", shapes=False)
        new_state = []
        for i, (t, s) in enumerate(zip(transforms, state)):
            try:
                out, s = call_update(t, updates, s, params, extra_args)
            except (AttributeError, TypeError) as e:
                _raise_if_foreign_state(t, s, params if params is not None else updates, i, e)
                raise
            updates = out
            new_state.append(s)
        return updates, tuple(new_state)

    return GradientTransformation(init_fn, update_fn)


def _raise_if_foreign_state(t: GradientTransformation, state: Any, ref: Any, i: int, error: Exception) -> None:
    """After ``error`` in stage ``i``: a TypeError naming the state type the stage's
    init makes, when ``state`` is of another type (another optimizer's state)."""
    try:
        expected = jax.eval_shape(t.init, ref)
    except Exception:  # noqa: BLE001 - the original error is the clearer one then
        return
    if type(expected) is not type(state):
        raise TypeError(
            f"chain stage {i} expected a state of type {type(expected).__name__} (made by its init), "
            f"got {type(state).__name__}: was this state made by another optimizer's init?"
        ) from error


class MaskedState(NamedTuple):
    """The inner transform's state, over the masked-in leaves only (optax's layout)."""

    inner_state: Any


class PartitionState(NamedTuple):
    """One state per group label: ``inner_states[label]`` is a :class:`MaskedState`
    around that group's transform state, as in optax (so optax checkpoints restore)."""

    inner_states: dict


def _mask_tree(tree: PyTree, labels: PyTree, label: Hashable) -> PyTree:
    """Keep the leaves whose label is ``label``; MaskedNode elsewhere."""
    return jax.tree.map(
        lambda x, lab: x if lab == label else MaskedNode(), tree, labels, is_leaf=is_none
    )


def resolve_labels(labels: Any, params: PyTree, known: set) -> PyTree:
    """A tree of group labels from a tree (or a prefix of the params), a callable, or
    a pattern mapping.

    With a pattern mapping (``{"*/bias": "no_decay", "*": "default"}``), each
    leaf gets the label of the first matching pattern; a leaf no pattern
    matches is an error.
    """
    tree = resolve_per_leaf(labels, params, name="partition labels", default=None)
    names, leaves, _ = flatten_with_names(params)
    lab_leaves = jax.tree.leaves(tree, is_leaf=is_none)
    for n, x, lab in zip(names, leaves, lab_leaves):
        if x is None:
            continue
        if lab is None:
            raise ValueError(f"partition: no label for parameter '{n}'; known labels: {sorted(map(str, known))}")
        if lab not in known:
            raise ValueError(
                f"partition: parameter '{n}' has label {lab!r}, which has no transform; "
                f"known labels: {sorted(map(str, known))}"
            )
    return tree


def partition(
    transforms: Mapping[Hashable, GradientTransformation],
    param_labels: PyTree | Callable[[PyTree], PyTree] | Mapping[str, Hashable],
) -> GradientTransformation:
    """Give each group of parameters its own transform (PyTorch param groups).

    Args:
      transforms: ``{label: transform}``, one per group, each with its own
        hyperparameters.
      param_labels: a label per leaf: a pytree like the params or a prefix of it
        (``("generator", "discriminator")`` over a pair of subtrees), a function
        ``f(params) -> that pytree``, or a mapping from path patterns to labels
        (first match wins; see :mod:`optjax.tree`).

    A group's transform sees only its own leaves (the others are MaskedNode
    placeholders that hold no state). Example, torch's
    ``SGD([{'params': base}, {'params': head, 'lr': 1e-3}], lr=1e-2, momentum=0.9)``::

        tx = optjax.partition(
            {"base": optjax.sgd(1e-2, momentum=0.9), "head": optjax.sgd(1e-3, momentum=0.9)},
            {"head/*": "head", "*": "base"})
    """
    transforms = dict(transforms)
    known = set(transforms)

    def init_fn(params):
        if is_params_placeholder(params):  # tree.map_params looking for the params' copies
            return PartitionState({k: MaskedState(t.init(params)) for k, t in transforms.items()})
        labels = resolve_labels(param_labels, params, known)
        return PartitionState(
            {k: MaskedState(t.init(_mask_tree(params, labels, k))) for k, t in transforms.items()}
        )

    def update_fn(updates, state, params=None, **extra_args):
        ref = params if params is not None else updates
        labels = resolve_labels(param_labels, ref, known)
        if params is not None:
            check_leaves(params, updates, "params", "the updates")
        out = jax.tree.map(lambda x: x, updates, is_leaf=is_none)
        new_inner = {}
        for k, t in transforms.items():
            masked_u = _mask_tree(updates, labels, k)
            masked_p = None if params is None else _mask_tree(params, labels, k)
            u, inner = call_update(t, masked_u, state.inner_states[k].inner_state, masked_p, extra_args)
            new_inner[k] = MaskedState(inner)
            out = jax.tree.map(
                lambda o, n, lab: n if lab == k else o, out, u, labels,
                is_leaf=is_absent,
            )
        return out, PartitionState(new_inner)

    return GradientTransformation(init_fn, update_fn)


multi_transform = partition
