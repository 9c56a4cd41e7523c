"""Pytree helpers: leaf names, path patterns, per-leaf specs and structure checks.

A leaf's *path* is its keys joined by ``/``: ``{"block1": {"dense": {"kernel": x}}}``
names ``x`` ``"block1/dense/kernel"``; list and tuple positions are numbers
(``"layers/0/w"``), NamedTuple and dataclass fields their attribute names.

A *pattern* is a glob (``*``, ``?``, ``[abc]``; ``*`` also crosses ``/``) matched
against the whole path or against any tail of it that starts at a ``/``: ``"bias"``
and ``"*/bias"`` both match ``"dense/bias"`` but not ``"dense/mybias"``;
``"*_weight"`` matches ``"fc1_weight"``. A pattern that starts with ``re:`` is a
regular expression matched from the start of the path (like MXNet's ``Mixed``).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from typing import Any, Callable, Iterable

import jax
import jax.numpy as jnp
import numpy as np

from optjax.base import MaskedNode, PyTree


def is_none(x: Any) -> bool:
    """True for None: pass as ``is_leaf`` so a missing gradient counts as a leaf."""
    return x is None


def key_str(key: Any) -> str:
    """One path entry as text: dict keys, attribute names, sequence positions."""
    for attr in ("key", "name", "idx"):
        if hasattr(key, attr):
            return str(getattr(key, attr))
    return str(key)


def path_str(keypath: Iterable[Any]) -> str:
    """A jax key path as ``"a/b/0/c"``."""
    return "/".join(key_str(k) for k in keypath)


def flatten_with_names(tree: PyTree, *, none_is_leaf: bool = True) -> tuple[list[str], list[Any], Any]:
    """``(names, leaves, treedef)``; None counts as a leaf unless told otherwise."""
    is_leaf = is_none if none_is_leaf else None
    pairs, treedef = jax.tree_util.tree_flatten_with_path(tree, is_leaf=is_leaf)
    return [path_str(p) for p, _ in pairs], [x for _, x in pairs], treedef


def leaf_names(tree: PyTree) -> PyTree:
    """The same tree with each leaf replaced by its path string (None stays None).

    >>> leaf_names({"dense": {"bias": 0, "kernel": 0}})
    {'dense': {'bias': 'dense/bias', 'kernel': 'dense/kernel'}}
    """
    names, leaves, treedef = flatten_with_names(tree)
    return treedef.unflatten([None if x is None else n for n, x in zip(names, leaves)])


def named_leaves(tree: PyTree) -> list[tuple[str, Any]]:
    """``[(path, leaf), ...]`` in flattening order, None leaves left out."""
    names, leaves, _ = flatten_with_names(tree)
    return [(n, x) for n, x in zip(names, leaves) if x is not None]


def check_pattern(pattern: Any, name: str = "pattern") -> None:
    """Raise ``ValueError`` naming ``pattern`` unless it is a string whose
    ``re:`` regular expression (if any) compiles."""
    if not isinstance(pattern, str):
        raise TypeError(f"{name}: a path pattern must be a string, got {pattern!r}")
    if pattern.startswith("re:"):
        try:
            re.compile(pattern[3:])
        except re.error as e:
            raise ValueError(f"{name}: pattern {pattern!r} is not a valid regular expression: {e}") from None


def match(pattern: str, path: str) -> bool:
    """Whether ``pattern`` names ``path`` (see the module docstring)."""
    if pattern.startswith("re:"):
        check_pattern(pattern)
        return re.match(pattern[3:], path) is not None
    if fnmatch.fnmatchcase(path, pattern):
        return True
    return fnmatch.fnmatchcase(path, "*/" + pattern)


def first_match(patterns: Iterable[str], path: str) -> str | None:
    for pat in patterns:
        if match(pat, path):
            return pat
    return None


def is_absent(x: Any) -> bool:
    """A leaf with no value: None (no gradient) or MaskedNode (left out by a mask)."""
    return x is None or isinstance(x, MaskedNode)


def tree_structure_error(expected: PyTree, got: PyTree, expected_name: str, got_name: str) -> str | None:
    """A message naming the first path where ``got`` differs from ``expected``, or None.

    None leaves in ``got`` match anything (a missing gradient); MaskedNode
    placeholders in either tree match anything too.
    """
    e_pairs, e_def = jax.tree_util.tree_flatten_with_path(expected, is_leaf=is_absent)
    g_pairs, g_def = jax.tree_util.tree_flatten_with_path(got, is_leaf=is_absent)
    if e_def == g_def:
        return None
    e_paths = [path_str(p) for p, _ in e_pairs]
    g_paths = [path_str(p) for p, _ in g_pairs]
    if e_paths == g_paths:
        # Same paths, different container types: check whether only placeholders differ.
        if all(
            (is_absent(a) or is_absent(b)
             or jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b))
            for (_, a), (_, b) in zip(e_pairs, g_pairs)
        ):
            try:
                e_def.flatten_up_to(got)
                return None
            except (ValueError, TypeError):
                pass
        return (
            f"{got_name} has the same leaf paths as {expected_name} but different "
            f"container types: {g_def} vs {e_def}"
        )
    for i, (a, b) in enumerate(zip(e_paths, g_paths)):
        if a != b:
            return (
                f"{got_name} does not match {expected_name}: first difference at leaf {i}, "
                f"{expected_name} has '{a}' where {got_name} has '{b}'"
            )
    if len(e_paths) > len(g_paths):
        return f"{got_name} does not match {expected_name}: '{e_paths[len(g_paths)]}' is missing from {got_name}"
    return f"{got_name} does not match {expected_name}: '{g_paths[len(e_paths)]}' is not in {expected_name}"


def check_same_structure(expected: PyTree, got: PyTree, expected_name: str, got_name: str) -> None:
    """Raise ``ValueError`` naming the first differing path if the trees differ."""
    msg = tree_structure_error(expected, got, expected_name, got_name)
    if msg is not None:
        raise ValueError(msg)


def _kind(dtype: Any) -> str:
    dtype = jnp.dtype(dtype)
    if jnp.issubdtype(dtype, jnp.complexfloating):
        return "complex"
    if jnp.issubdtype(dtype, jnp.floating):
        return "real"
    return "other"


def leaf_mismatch(path: str, expected: Any, got: Any, expected_name: str, got_name: str,
                  dtypes: bool = True, shapes: bool = True) -> Exception | None:
    """The error for one update leaf ``got`` that cannot update ``expected``, or None.

    ``got`` must have ``expected``'s shape exactly (no broadcasting); an update
    for a floating leaf must be floating (an integer or bool update would be
    truncated), and complex only if the leaf is complex (a real leaf would drop
    the imaginary part). A float update of another width (float32 for a
    bfloat16 param) is fine: it is cast. Leaves without a shape on either side
    (None, MaskedNode, Python objects in a state) are not checked.
    """
    if is_absent(expected) or is_absent(got) or not hasattr(expected, "shape") or not hasattr(got, "shape"):
        return None
    if shapes and tuple(got.shape) != tuple(expected.shape):
        return ValueError(
            f"{got_name}: leaf '{path}' has shape {tuple(got.shape)} where {expected_name} has shape "
            f"{tuple(expected.shape)} (the shapes must be equal; nothing is broadcast)"
        )
    if not dtypes or not hasattr(expected, "dtype") or not hasattr(got, "dtype"):
        return None
    e_kind = _kind(expected.dtype)
    if e_kind == "other":
        return None
    g_kind = _kind(got.dtype)
    if g_kind == "other" or (g_kind == "complex" and e_kind == "real"):
        why = ("its imaginary part would be dropped" if g_kind == "complex"
               else "it would be truncated to whole numbers")
        need = "a real floating dtype" if e_kind == "real" else "a floating or complex dtype"
        return TypeError(
            f"{got_name}: leaf '{path}' has dtype {jnp.dtype(got.dtype).name} where {expected_name} has "
            f"{jnp.dtype(expected.dtype).name}; an update for it needs {need} ({why})"
        )
    return None


def check_leaves(expected: PyTree, got: PyTree, expected_name: str, got_name: str, *,
                 dtypes: bool = True, shapes: bool = True) -> None:
    """Check ``got`` against ``expected`` leaf by leaf: same structure, and (unless
    turned off) same shapes and dtypes that can update it (see :func:`leaf_mismatch`).

    The one trace-time check of an update tree against the params (or a state
    that mirrors them): ``apply_updates``, ``update_and_apply``, ``masked``,
    ``partition``, ``chain`` (dtypes only), :func:`optjax.per_leaf.apply` and
    the moment updates of :mod:`optjax.tree_math` (shapes only) all call it. Raises ValueError (structure, shape) or
    TypeError (dtype) naming the first bad leaf's path.

    >>> import jax.numpy as jnp
    >>> check_leaves({"w": jnp.ones((2, 3))}, {"w": jnp.ones(3)}, "params", "updates")
    Traceback (most recent call last):
    ...
    ValueError: updates: leaf 'w' has shape (3,) where params has shape (2, 3) (the shapes must be equal; nothing is broadcast)
    """
    check_same_structure(expected, got, expected_name, got_name)
    e_pairs, e_def = jax.tree_util.tree_flatten_with_path(expected, is_leaf=is_absent)
    try:
        g_leaves = e_def.flatten_up_to(got)
    except (ValueError, TypeError):
        return  # placeholders differ in kind only (MaskedNode vs a subtree): nothing to compare
    for (keypath, e), g in zip(e_pairs, g_leaves):
        err = leaf_mismatch(path_str(keypath), e, g, expected_name, got_name, dtypes, shapes)
        if err is not None:
            raise err


def resolve_per_leaf(
    spec: Any,
    params: PyTree,
    *,
    name: str,
    default: Any,
    validate: Callable[[str, Any], None] | None = None,
) -> PyTree:
    """Turn a per-leaf spec into a tree with one value per leaf of ``params``.

    ``spec`` may be:

    * a pytree with the structure of ``params`` (leaves are the values);
    * a callable ``f(params) -> pytree`` of that structure;
    * a mapping from path patterns to values: each leaf gets the value of the
      first pattern that matches its path, else ``default``. A pattern that
      matches no leaf is an error (it is almost always a typo);
    * a single scalar, used for every leaf.

    None leaves of ``params`` stay None.
    """
    names, leaves, treedef = flatten_with_names(params)
    if callable(spec) and not isinstance(spec, Mapping):
        spec = spec(params)
    if isinstance(spec, Mapping) and _is_pattern_mapping(spec, params):
        unused = set(spec)
        values = []
        for n, x in zip(names, leaves):
            if x is None:
                values.append(None)
                continue
            pat = first_match(spec, n)
            if pat is None:
                values.append(default)
            else:
                unused.discard(pat)
                values.append(spec[pat])
        if unused:
            some = ", ".join(repr(n) for n in names[:8])
            raise ValueError(
                f"{name}: pattern(s) {sorted(unused)} match no parameter; the parameters "
                f"are named like {some}"
            )
        out = values
    elif _is_scalar(spec):
        out = [None if x is None else spec for x in leaves]
    else:
        check_same_structure(params, spec, "params", name)
        out = treedef.flatten_up_to(spec)
        out = [None if x is None else v for x, v in zip(leaves, out)]
    if validate is not None:
        for n, v in zip(names, out):
            if v is not None:
                validate(n, v)
    return treedef.unflatten(out)


def _is_scalar(x: Any) -> bool:
    return isinstance(x, (bool, int, float, str, np.number, np.bool_)) or (
        isinstance(x, (np.ndarray, jax.Array)) and np.ndim(x) == 0
    )


def _is_pattern_mapping(spec: Mapping, params: PyTree) -> bool:
    """A mapping is read as patterns unless it has the structure of params."""
    if not all(isinstance(k, str) for k in spec):
        return False
    if tree_structure_error(params, spec, "params", "spec") is None:
        return False
    return all(_is_scalar(v) or v is None for v in spec.values())


# ----------------------------------------------------------------------------
# Small tree math used by transforms.


def tree_map_none(f: Callable, tree: PyTree, *rest: PyTree) -> PyTree:
    """``jax.tree.map`` where None leaves of ``tree`` give None (the others are not called)."""
    return jax.tree.map(lambda x, *r: None if x is None else f(x, *r), tree, *rest, is_leaf=is_none)


def zeros_mirroring(x: Any, dtype: Any = None) -> jax.Array:
    """Zeros shaped like ``x`` in ``dtype`` (default ``x.dtype``) with ``x``'s sharding.

    Outside ``jit`` ``jnp.zeros_like`` keeps the sharding. Inside ``jit`` a
    constant has no sharding of its own and XLA would replicate it, so the
    zeros are made to depend on ``x`` (``where(isnan(x), 0, 0)``), which lets
    sharding propagation give them ``x``'s layout.
    """
    dtype = x.dtype if dtype is None else dtype
    if isinstance(x, jax.core.Tracer):
        return jnp.where(jnp.isnan(x), 0, 0).astype(dtype)
    return jnp.zeros_like(x, dtype=dtype)


def full_mirroring(x: Any, value: Any, dtype: Any = None) -> jax.Array:
    """Like :func:`zeros_mirroring`, filled with ``value``."""
    return zeros_mirroring(x, dtype) + jnp.asarray(value, dtype=x.dtype if dtype is None else dtype)


def zeros_like(tree: PyTree, dtype: Any = None) -> PyTree:
    """Zeros shaped like each leaf, in ``dtype`` (default: the leaf's), keeping its sharding."""
    return tree_map_none(lambda x: zeros_mirroring(x, dtype), tree)


def global_norm(tree: PyTree) -> jax.Array:
    """``sqrt(sum of squares of every leaf)``, accumulated in at least float32."""
    leaves = [x for x in jax.tree.leaves(tree) if x is not None]
    if not leaves:
        return jnp.zeros((), jnp.float32)
    total = sum(jnp.sum(jnp.square(jnp.abs(x).astype(_acc_dtype(x.dtype)))) for x in leaves)
    return jnp.sqrt(total)


def _acc_dtype(dtype: Any) -> Any:
    dtype = jnp.dtype(dtype)
    if jnp.issubdtype(dtype, jnp.floating) or jnp.issubdtype(dtype, jnp.complexfloating):
        return jnp.promote_types(dtype, jnp.float32)
    return jnp.float32


def all_finite(tree: PyTree) -> jax.Array:
    """True when every element of every leaf is finite."""
    leaves = [x for x in jax.tree.leaves(tree) if x is not None]
    if not leaves:
        return jnp.array(True)
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves]))


def __getattr__(name: str) -> Any:
    """optax.tree's arithmetic (``optjax.tree.add``, ``.norm``, ``.get``...) from
    :mod:`optjax.tree_math`; served lazily so that names like ``sum`` and ``set`` do not
    shadow the builtins this module uses."""
    from optjax import tree_math

    if name in tree_math.__all__:
        return getattr(tree_math, name)
    raise AttributeError(f"module 'optjax.tree' has no attribute {name!r}")
