"""Arithmetic on pytrees, with optax's ``optax.tree`` names and signatures.

Re-exported from :mod:`optjax.tree`, so ``optjax.tree.add(a, b)`` works as
``optax.tree.add(a, b)`` does. All functions are pure and map leaf-wise; ``None``
leaves (masked-out parameters) stay ``None`` where optax keeps them.

Example::

    >>> import jax.numpy as jnp, optjax
    >>> a = {"w": jnp.array([1.0, 2.0])}
    >>> optjax.tree.add_scale(a, 2.0, a)["w"].tolist()
    [3.0, 6.0]
    >>> float(optjax.tree.norm(a, squared=True))
    5.0
"""

from __future__ import annotations

import functools
import operator
from typing import Any, Optional

import jax
import jax.numpy as jnp

from optjax.numerics import abs_sq as _abs_sq
from optjax.tree import check_leaves, is_none
from optjax.tree import zeros_like  # noqa: F401  (optax.tree.zeros_like; one implementation)

__all__ = [
    "add", "add_scale", "allclose", "batch_shape", "bias_correction", "cast", "cast_like", "clip",
    "conj", "div", "dtype", "full_like", "get", "get_all_with_path", "max", "min", "mul", "norm",
    "ones_like", "real", "scale", "set", "size", "sub", "sum", "update_infinity_moment",
    "update_moment", "update_moment_per_elem_norm", "vdot", "where",
]

_builtin_max, _builtin_sum = max, sum


def add(tree_x: Any, tree_y: Any, *other_trees: Any) -> Any:
    """``x + y (+ ...)`` leaf-wise."""
    return jax.tree.map(lambda *leaves: _builtin_sum(leaves), tree_x, tree_y, *other_trees)


def sub(tree_x: Any, tree_y: Any) -> Any:
    """``x - y`` leaf-wise."""
    return jax.tree.map(operator.sub, tree_x, tree_y)


def mul(tree_x: Any, tree_y: Any) -> Any:
    """``x * y`` leaf-wise."""
    return jax.tree.map(operator.mul, tree_x, tree_y)


def div(tree_x: Any, tree_y: Any) -> Any:
    """``x / y`` leaf-wise."""
    return jax.tree.map(operator.truediv, tree_x, tree_y)


def scale(scalar: jax.typing.ArrayLike, tree: Any) -> Any:
    """``scalar * x`` for every leaf."""
    return jax.tree.map(lambda x: scalar * x, tree)


def add_scale(tree_x: Any, scalar: jax.typing.ArrayLike, tree_y: Any) -> Any:
    """``x + scalar * y`` leaf-wise (``None`` leaves of ``x`` stay ``None``)."""
    scalar = jnp.asarray(scalar)
    return jax.tree.map(lambda x, y: None if x is None else x + scalar * y, tree_x, tree_y,
                        is_leaf=is_none)


def vdot(tree_x: Any, tree_y: Any) -> jax.Array:
    """``sum_i <conj(x_i), y_i>`` over all leaves, at HIGHEST precision."""
    def leaf(a, b):
        a, b = jnp.asarray(a), jnp.asarray(b)
        return jnp.vdot(a, b, precision=jax.lax.Precision.HIGHEST)
    return jax.tree.reduce(operator.add, jax.tree.map(leaf, tree_x, tree_y), initializer=0)


def sum(tree: Any) -> jax.Array:  # noqa: A001  (optax's name)
    """Sum of all elements of all leaves."""
    return jax.tree.reduce(operator.add, jax.tree.map(jnp.sum, tree), initializer=0)


def _reduce(tree: Any, fn, red, init):
    vals = jax.tree.map(lambda a: None if jnp.size(a) == 0 else fn(a), tree)
    return jax.tree.reduce(red, vals, initializer=init)


def max(tree: Any) -> jax.Array:  # noqa: A001
    """Largest element over all leaves (``-inf`` for an empty tree)."""
    return _reduce(tree, jnp.max, jnp.maximum, -float("inf"))


def min(tree: Any) -> jax.Array:  # noqa: A001
    """Smallest element over all leaves (``inf`` for an empty tree)."""
    return _reduce(tree, jnp.min, jnp.minimum, float("inf"))


def size(tree: Any) -> int:
    """Number of elements over all leaves."""
    return _builtin_sum(jnp.size(leaf) for leaf in jax.tree.leaves(tree))


def conj(tree: Any) -> Any:
    """Complex conjugate of every leaf."""
    return jax.tree.map(jnp.conj, tree)


def real(tree: Any) -> Any:
    """Real part of every leaf."""
    return jax.tree.map(jnp.real, tree)


def norm(tree: Any, ord: int | str | float | None = None, squared: bool = False) -> jax.Array:  # noqa: A002
    """The 2-norm (default), 1-norm or inf-norm of all leaves together; ``squared`` squares it."""
    if ord is None or ord == 2:
        sq = sum(jax.tree.map(_abs_sq, tree))
        return jnp.array(sq if squared else jnp.sqrt(sq))
    if ord == 1:
        ret = sum(jax.tree.map(jnp.abs, tree))
    elif ord == jnp.inf or ord in ("inf", "infinity"):
        ret = max(jax.tree.map(jnp.abs, tree))
    else:
        raise ValueError(f"ord must be None, 1, 2 or inf, got {ord!r}")
    return jnp.array(_abs_sq(ret) if squared else ret)


def batch_shape(tree: Any, shape: tuple[int, ...] = ()) -> Any:
    """Every leaf broadcast to ``shape + leaf.shape``."""
    return jax.tree.map(lambda x: jnp.broadcast_to(x, (*shape, *jnp.shape(x))), tree)


def ones_like(tree: Any, dtype: Optional[jax.typing.DTypeLike] = None) -> Any:
    """Ones shaped like every leaf."""
    return jax.tree.map(lambda x: jnp.ones_like(x, dtype=dtype), tree)


def full_like(tree: Any, fill_value: jax.typing.ArrayLike, dtype: Optional[jax.typing.DTypeLike] = None) -> Any:
    """``fill_value`` shaped like every leaf."""
    return jax.tree.map(lambda x: jnp.full_like(x, fill_value, dtype=dtype), tree)


def clip(tree: Any, min_value: Optional[jax.typing.ArrayLike] = None,
         max_value: Optional[jax.typing.ArrayLike] = None) -> Any:
    """Every leaf clipped to ``[min_value, max_value]``."""
    return jax.tree.map(lambda g: jnp.clip(g, min_value, max_value), tree)


def where(condition: Any, tree_x: Any, tree_y: Any) -> Any:
    """``jnp.where(condition, x, y)`` leaf-wise (``condition`` a scalar or a tree)."""
    if jax.tree.structure(condition).num_leaves == 1 and not isinstance(condition, (dict, list, tuple)):
        return jax.tree.map(lambda x, y: jnp.where(condition, x, y), tree_x, tree_y)
    return jax.tree.map(jnp.where, condition, tree_x, tree_y)


def update_moment(updates: Any, moments: Any, decay: jax.typing.ArrayLike, order: int) -> Any:
    """``(1 - decay) * g**order + decay * m``: an exponential moving average of ``g**order``.

    ``updates`` must have the moments' shapes (a ValueError names the leaf; nothing is broadcast)."""
    check_leaves(moments, updates, "the moments", "the updates", dtypes=False)
    return jax.tree.map(
        lambda g, t: (1 - decay) * (g**order) + decay * t if g is not None else None,
        updates, moments, is_leaf=is_none)


def update_infinity_moment(updates: Any, moments: Any, decay: jax.typing.ArrayLike,
                           eps: jax.typing.ArrayLike) -> Any:
    """``max(|g| + eps, decay * m)``: the infinity-norm moment of Adamax."""
    check_leaves(moments, updates, "the moments", "the updates", dtypes=False)
    return jax.tree.map(
        lambda g, t: jnp.maximum(jnp.abs(g) + eps, decay * t) if g is not None else None,
        updates, moments, is_leaf=is_none)


def update_moment_per_elem_norm(updates: Any, moments: Any, decay: jax.typing.ArrayLike,
                                order: int) -> Any:
    """``(1 - decay) * |g|**order + decay * m`` (``|g|**2`` computed as ``re**2 + im**2``)."""
    def orderth_norm(g):
        if jnp.isrealobj(g):
            return g**order
        half = order / 2
        if half.is_integer():
            half = int(half)
        return _abs_sq(g) ** half
    check_leaves(moments, updates, "the moments", "the updates", dtypes=False)
    return jax.tree.map(
        lambda g, t: (1 - decay) * orderth_norm(g) + decay * t if g is not None else None,
        updates, moments, is_leaf=is_none)


@functools.partial(jax.jit, inline=True)
def bias_correction(moment: Any, decay: jax.typing.ArrayLike, count: jax.typing.ArrayLike) -> Any:
    """``m / (1 - decay**count)``, in the moment's dtype."""
    bias_correction_ = 1 - decay**count
    return jax.tree.map(lambda t: t / bias_correction_.astype(t.dtype), moment)


def cast(tree: Any, dtype: Optional[jax.typing.DTypeLike]) -> Any:
    """Every leaf cast to ``dtype`` (``None``: unchanged)."""
    if dtype is None:
        return tree
    return jax.tree.map(lambda t: t.astype(dtype) if hasattr(t, "astype") else jnp.asarray(t, dtype), tree)


def cast_like(tree: Any, other_tree: Any) -> Any:
    """Every leaf cast to the dtype of the matching leaf of ``other_tree``."""
    return jax.tree.map(lambda x, y: jnp.asarray(x).astype(jnp.asarray(y).dtype), tree, other_tree)


def _lower_dtype(d1, d2):
    if jnp.promote_types(d1, d2) == d1:
        return d2
    if jnp.promote_types(d1, d2) == d2:
        return d1
    raise ValueError(f"cannot order dtypes {d1} and {d2}: neither promotes to the other")


def _higher_dtype(d1, d2):
    return d2 if _lower_dtype(d1, d2) == d1 else d1


def dtype(tree: Any, mixed_dtype_handler: Optional[str] = None) -> Any:
    """The dtype of the leaves. Mixed dtypes raise ValueError unless
    ``mixed_dtype_handler`` is ``'promote'`` (jax's promotion), ``'highest'`` or
    ``'lowest'`` (of dtypes that promote to one another)."""
    leaves = jax.tree.leaves(tree)
    if not leaves:
        return jnp.asarray(leaves).dtype
    dtypes = [jnp.asarray(x).dtype for x in leaves]
    if mixed_dtype_handler is None:
        if any(d != dtypes[0] for d in dtypes):
            raise ValueError(f"tree has leaves of several dtypes {sorted({str(d) for d in dtypes})}; "
                             "pass mixed_dtype_handler='promote', 'highest' or 'lowest'")
        return dtypes[0]
    reducers = {"promote": jnp.promote_types, "highest": _higher_dtype, "lowest": _lower_dtype}
    if mixed_dtype_handler not in reducers:
        raise ValueError(f"mixed_dtype_handler must be None, 'promote', 'highest' or 'lowest', "
                         f"got {mixed_dtype_handler!r}")
    return functools.reduce(reducers[mixed_dtype_handler], dtypes)


def allclose(a: Any, b: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
    """Whether the trees have the same structure and close leaves."""
    if jax.tree.structure(a) != jax.tree.structure(b):
        return False
    return all(bool(jnp.allclose(x, y, rtol=rtol, atol=atol, equal_nan=equal_nan))
               for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def _named_children(node: Any):
    fields = getattr(node, "_fields", None)
    if fields is not None:
        return list(zip(fields, node))
    if isinstance(node, dict):
        return list(node.items())
    return []


def get_all_with_path(tree: Any, key: str) -> list[tuple[tuple, Any]]:
    """Every ``(path, value)`` whose last step is a NamedTuple field or dict key named ``key``."""
    found = []

    def walk(node, path):
        for name, child in _named_children(node):
            if name == key:
                found.append((path + (name,), child))
            walk(child, path + (name,))
        if isinstance(node, (list, tuple)) and getattr(node, "_fields", None) is None:
            for i, child in enumerate(node):
                walk(child, path + (i,))
    walk(tree, ())
    return found


def get(tree: Any, key: str, default: Any = None) -> Any:
    """The single value named ``key`` in ``tree`` (a NamedTuple field or dict key).

    Raises KeyError if several values carry the name; returns ``default`` if none.
    """
    found = get_all_with_path(tree, key)
    if len(found) > 1:
        raise KeyError(f"several values named {key!r} in the tree, at {[p for p, _ in found]}")
    return found[0][1] if found else default


def set(tree: Any, **kwargs: Any) -> Any:  # noqa: A001
    """A copy of ``tree`` with the NamedTuple fields / dict keys named in ``kwargs`` replaced."""
    def walk(node):
        fields = getattr(node, "_fields", None)
        if fields is not None:
            return node._replace(**{f: kwargs[f] if f in kwargs else walk(v) for f, v in zip(fields, node)})
        if isinstance(node, dict):
            return type(node)({k: kwargs[k] if k in kwargs else walk(v) for k, v in node.items()})
        if isinstance(node, (list, tuple)):
            return type(node)(walk(v) for v in node)
        return node
    return walk(tree)


def split_key_like(rng_key: jax.Array, target_tree: Any) -> Any:
    """One key per leaf of ``target_tree``: ``jax.random.split(rng_key, num_leaves)``."""
    treedef = jax.tree.structure(target_tree)
    return jax.tree.unflatten(treedef, list(jax.random.split(rng_key, treedef.num_leaves)))


def random_like(rng_key: jax.Array, target_tree: Any, sampler=jax.random.normal,
                dtype: Optional[jax.typing.DTypeLike] = None) -> Any:
    """Random leaves shaped like ``target_tree``'s, each drawn by ``sampler(key, shape, dtype)``
    with its own key from :func:`split_key_like`."""
    keys = split_key_like(rng_key, target_tree)
    return jax.tree.map(lambda leaf, k: sampler(k, leaf.shape, dtype or leaf.dtype), target_tree, keys)


__all__ += ["random_like", "split_key_like"]


@jax.tree_util.register_pytree_node_class
class _ParamsPlaceholder:
    """A childless pytree passed to ``init`` to find where a state mirrors the params."""

    def tree_flatten(self):
        return (), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        del aux, children
        return cls()


def map_params(initable: Any, f: Any, state: Any, /, *rest: Any, transform_non_params: Any = None,
               is_leaf: Any = None) -> Any:
    """Apply ``f`` to the parts of an optimizer ``state`` shaped like the params (moments,
    traces), leaving counters alone (or passing them to ``transform_non_params``).

    ``initable`` is the transform (or its ``init``) that made ``state``: it is called on a
    placeholder to find which subtrees mirror the params.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.scale_by_adan()
        >>> s = tx.init({"w": jnp.zeros(2)})
        >>> s2 = optjax.tree.map_params(tx, lambda v: v + 1, s)
        >>> s2.m["w"].tolist(), int(s2.t)
        ([1.0, 1.0], 0)
    """
    init = initable.init if hasattr(initable, "init") else initable
    with_placeholders = init(_ParamsPlaceholder())

    def fn(maybe_placeholder, value):
        if isinstance(maybe_placeholder, _ParamsPlaceholder):
            return jax.tree.map(f, value, *rest, is_leaf=is_leaf)
        if transform_non_params is not None:
            return transform_non_params(value)
        return value

    return jax.tree.map(fn, with_placeholders, state, is_leaf=lambda v: isinstance(v, _ParamsPlaceholder))


__all__ += ["map_params"]


def unwrap_random_key_data(tree: Any) -> Any:
    """Typed PRNG keys replaced by their raw ``uint32`` data (``jax.random.key_data``);
    other leaves unchanged."""
    def unwrap(x):
        if isinstance(x, jax.Array) and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
            return jax.random.key_data(x)
        return x
    return jax.tree.map(unwrap, tree)


__all__ += ["unwrap_random_key_data"]
