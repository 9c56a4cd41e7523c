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

from optjax import numerics
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
    """``(names, leaves, treedef)``; None counts as a leaf unless told otherwise.

    A flax nnx ``Variable`` (``nnx.Optimizer`` calls ``init`` on a state of them) is
    named by its own path: ``"dense/bias"``, not ``"dense/bias/value"``.
    """
    is_leaf = is_none if none_is_leaf else None
    pairs, treedef = jax.tree_util.tree_flatten_with_path(tree, is_leaf=is_leaf)
    names = [path_str(p) for p, _ in pairs]
    if any(p and key_str(p[-1]) == "value" for p, _ in pairs):
        names = _variable_names(tree, is_leaf) or names
    return names, [x for _, x in pairs], treedef


def _is_nnx_variable(x: Any) -> bool:
    return any(c.__name__ in ("Variable", "VariableState") and c.__module__.startswith("flax.")
               for c in type(x).__mro__)


def _variable_names(tree: PyTree, is_leaf: Callable | None) -> list[str] | None:
    """Leaf names with each nnx Variable's single leaf named by the Variable's path."""
    def stop(x):
        return _is_nnx_variable(x) or (is_leaf is not None and is_leaf(x))

    outer = jax.tree_util.tree_flatten_with_path(tree, is_leaf=stop)[0]
    if not any(_is_nnx_variable(x) for _, x in outer):
        return None
    names = []
    for path, x in outer:
        if not _is_nnx_variable(x):
            names.append(path_str(path))
            continue
        inner = jax.tree_util.tree_flatten_with_path(x, is_leaf=is_leaf)[0]
        if len(inner) == 1:
            names.append(path_str(path))
        else:
            names.extend(path_str(tuple(path) + tuple(p)) for p, _ in inner)
    return names


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


def is_called_spec(spec: Any) -> bool:
    """Whether a mask or label ``spec`` is a function to call on the params (optax's rule).

    It is called when every leaf of it is callable: a plain function is, but a pytree
    that happens to be callable (an equinox Module whose fields are bools) is a tree of
    values and is used as one.
    """
    flags = jax.tree.leaves(jax.tree.map(callable, spec))
    return bool(flags) and all(flags)


def broadcast_prefix(prefix: PyTree, tree: PyTree) -> PyTree | None:
    """``prefix``'s leaves copied over the subtrees of ``tree`` they stand for, or None
    when ``prefix`` is not a prefix of ``tree``.

    ``{"a": 0.1, "b": 0.2}`` over ``{"a": x, "b": {"c": y, "d": z}}`` gives
    ``{"a": 0.1, "b": {"c": 0.2, "d": 0.2}}`` (optax's prefix masks and labels).
    A None leaf of ``tree`` under a prefix leaf gets the value; MaskedNode subtrees
    stay MaskedNode.

    >>> broadcast_prefix({"a": False, "b": True}, {"a": 1, "b": {"c": 2, "d": 3}})
    {'a': False, 'b': {'c': True, 'd': True}}
    """
    treedef = jax.tree.structure(prefix, is_leaf=is_none)
    try:
        subtrees = treedef.flatten_up_to(tree)
    except (ValueError, TypeError):
        return None
    values = jax.tree.leaves(prefix, is_leaf=is_none)
    return treedef.unflatten(
        [jax.tree.map(lambda _, v=v: v, sub, is_leaf=is_none) for v, sub in zip(values, subtrees)]
    )


def is_params_placeholder(x: Any) -> bool:
    """True for the childless stand-in that ``optjax.tree.map_params`` (or optax's
    ``tree.map_params``) passes to ``init`` to find where a state mirrors the params."""
    cls = type(x)
    return cls.__name__ == "_ParamsPlaceholder" and cls.__module__.split(".")[0] in ("optjax", "optax")


def resolve_per_leaf(
    spec: Any,
    params: PyTree,
    *,
    name: str,
    default: Any,
    validate: Callable[[str, Any], None] | None = None,
    patterns: bool = True,
) -> PyTree:
    """Turn a per-leaf spec into a tree with one value per leaf of ``params``.

    ``spec`` may be:

    * a pytree with the structure of ``params`` (leaves are the values), or a
      prefix of it (a leaf of ``spec`` is the value for the whole subtree it stands
      for, as in optax: ``{"encoder": False, "head": True}``);
    * a callable ``f(params) -> pytree`` of that kind (optax's rule decides what is
      called: see :func:`is_called_spec`);
    * a mapping from path patterns to values: each leaf gets the value of the
      first pattern that matches its path, else ``default``. A pattern that
      matches no leaf is an error (it is almost always a typo). With
      ``patterns=False`` (optax's names, such as ``selective_transform``) a
      mapping is only ever a tree;
    * a single scalar, used for every leaf.

    None leaves of ``params`` stay None.
    """
    names, leaves, treedef = flatten_with_names(params)
    if is_called_spec(spec):
        spec = spec(params)
    if _is_scalar(spec):
        out = [None if x is None else spec for x in leaves]
    elif tree_structure_error(params, spec, "params", name) is None:
        out = treedef.flatten_up_to(spec)
        out = [None if x is None else v for x, v in zip(leaves, out)]
    elif (full := broadcast_prefix(spec, params)) is not None:
        out = [None if x is None else v for x, v in zip(leaves, treedef.flatten_up_to(full))]
    elif patterns and isinstance(spec, Mapping) and _is_pattern_mapping(spec):
        out = _match_patterns(spec, names, leaves, name=name, default=default)
    else:
        raise ValueError(_not_a_prefix_message(spec, params, name))
    if validate is not None:
        for n, v in zip(names, out):
            if v is not None:
                validate(n, v)
    return treedef.unflatten(out)


def _not_a_prefix_message(spec: Any, params: PyTree, name: str) -> str:
    msg = tree_structure_error(params, spec, "params", name)
    try:
        jax.tree.structure(spec, is_leaf=is_none).flatten_up_to(params)
        detail = ""
    except (ValueError, TypeError) as e:  # jax's words ("Dict key mismatch; ..."), as optax shows them
        detail = f": {e}"
    return f"{msg}; nor is {name} a prefix of params{detail}"


def _match_patterns(spec: Mapping, names: list[str], leaves: list[Any], *, name: str, default: Any) -> list:
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
    return values


def _is_scalar(x: Any) -> bool:
    return isinstance(x, (bool, int, float, str, np.number, np.bool_)) or (
        isinstance(x, (np.ndarray, jax.Array)) and np.ndim(x) == 0
    )


def _is_pattern_mapping(spec: Mapping) -> bool:
    """Path patterns to values: string keys, scalar (or None) values."""
    return all(isinstance(k, str) for k in spec) and all(_is_scalar(v) or v is None for v in spec.values())


# ----------------------------------------------------------------------------
# Small tree math used by transforms.


def tree_map_none(f: Callable, tree: PyTree, *rest: PyTree) -> PyTree:
    """``jax.tree.map`` where None leaves of ``tree`` give None (the others are not called)."""
    return jax.tree.map(lambda x, *r: None if x is None else f(x, *r), tree, *rest, is_leaf=is_none)


def state_dtype(x: Any, dtype: Any = None) -> Any:
    """The dtype of state that mirrors the param ``x``: ``dtype`` if given, else ``x``'s;
    a Python number param (``adam(...).init({"a": 1})``, as optax allows) gets the
    default float dtype, since its moments are fractions."""
    if dtype is not None:
        return dtype
    if hasattr(x, "dtype"):
        return x.dtype
    return jnp.result_type(float)


def zeros_mirroring(x: Any, dtype: Any = None) -> jax.Array:
    """Zeros shaped like ``x`` in ``dtype`` (default ``x.dtype``) with ``x``'s sharding.

    Outside ``jit`` ``jnp.zeros_like`` keeps the sharding. Inside ``jit`` a
    constant has no sharding of its own and XLA would replicate it, so the
    zeros are made to depend on ``x`` (``where(isnan(x), 0, 0)``), which lets
    sharding propagation give them ``x``'s layout.
    """
    dtype = state_dtype(x, dtype)
    if isinstance(x, jax.core.Tracer):
        return jnp.where(jnp.isnan(x), 0, 0).astype(dtype)
    return jnp.zeros_like(x, dtype=dtype)


def full_mirroring(x: Any, value: Any, dtype: Any = None) -> jax.Array:
    """Like :func:`zeros_mirroring`, filled with ``value``."""
    dtype = state_dtype(x, dtype)
    return zeros_mirroring(x, dtype) + jnp.asarray(value, dtype=dtype)


def zeros_like(tree: PyTree, dtype: Any = None) -> PyTree:
    """Zeros shaped like each leaf, in ``dtype`` (default: the leaf's), keeping its sharding."""
    return tree_map_none(lambda x: zeros_mirroring(x, dtype), tree)


def global_norm(tree: PyTree) -> jax.Array:
    """``sqrt(sum of squares of every leaf)``, accumulated in at least float32."""
    leaves = [x for x in jax.tree.leaves(tree) if x is not None]
    if not leaves:
        return jnp.zeros((), jnp.float32)
    total = sum(jnp.sum(jnp.square(numerics.cast(jnp.abs(x), _acc_dtype(x.dtype)))) for x in leaves)
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
