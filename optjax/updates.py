"""Applying updates to params."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from optjax.base import Params, Updates
from optjax.tree import check_same_structure

_is_none = lambda x: x is None  # noqa: E731


def apply_updates(params: Params, updates: Updates) -> Params:
    """``params + updates``, each result in its param's dtype.

    A None update leaves its param unchanged (a parameter without gradient);
    a None param stays None. The trees must match (None counts as a leaf).

    >>> import jax.numpy as jnp, optjax
    >>> optjax.apply_updates({"w": jnp.ones(2, jnp.bfloat16)}, {"w": jnp.full(2, 0.5)})["w"].dtype
    dtype(bfloat16)
    """
    check_same_structure(params, updates, "params", "updates")

    def add(p, u):
        if p is None or u is None:
            return p
        p = jnp.asarray(p)
        return (p + jnp.asarray(u)).astype(p.dtype)

    return jax.tree.map(add, params, updates, is_leaf=_is_none)
