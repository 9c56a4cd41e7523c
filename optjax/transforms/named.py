"""``named_chain`` and ``stateless_with_tree_map``: small combinators with optax's names."""

from __future__ import annotations

import collections
from typing import Callable, Optional

import jax

from optjax.base import EmptyState, GradientTransformation, call_update, init_empty_state


def named_chain(*args: tuple[str, GradientTransformation]) -> GradientTransformation:
    """Chain ``(name, transform)`` pairs; the state is an ``OrderedDict`` keyed by name.

    Extra keyword args of ``update`` reach each transform that declares them.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.named_chain(("clip", optjax.clip(1.0)), ("lr", optjax.scale(-0.1)))
        >>> list(tx.init({"w": jnp.zeros(1)}))
        ['clip', 'lr']
    """
    names = [name for name, _ in args]
    if len(names) != len(set(names)):
        raise ValueError(f"named_chain: names must be unique, got {names}")

    def init_fn(params):
        states = collections.OrderedDict()
        for name, tx in args:
            states[name] = tx.init(params)
        return states

    def update_fn(updates, state, params=None, **extra_args):
        new_state = collections.OrderedDict()
        for name, tx in args:
            updates, new_state[name] = call_update(tx, updates, state[name], params, extra_args)
        return updates, new_state

    return GradientTransformation(init_fn, update_fn)


def stateless_with_tree_map(f: Callable[[jax.Array, Optional[jax.Array]], jax.Array]) -> GradientTransformation:
    """A stateless transform applying ``f(update_leaf, param_leaf)`` to every leaf
    (``param_leaf`` is ``None`` when no params are given).

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.stateless_with_tree_map(lambda u, p: 2 * u)
        >>> u, _ = tx.update({"w": jnp.ones(1)}, tx.init(None))
        >>> u["w"].tolist()
        [2.0]
    """

    def update_fn(updates, state, params=None):
        del state
        if params is not None:
            return jax.tree.map(f, updates, params), EmptyState()
        return jax.tree.map(lambda u: f(u, None), updates), EmptyState()

    return GradientTransformation(init_empty_state, update_fn)
