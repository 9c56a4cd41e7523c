"""Initialization by parameter name: MXNet's ``Initializer.__call__`` dispatch,
``Mixed``, ``Load``, and :func:`init_params` for a whole pytree.

Names
-----
A leaf of a parameter tree is named by its path (``optjax.tree``): keys joined by
``/``, e.g. ``{"fc1": {"weight": w}}`` names ``w`` ``"fc1/weight"``, while a flat
MXNet-style dict ``{"fc1_weight": w}`` names it ``"fc1_weight"``. The dispatch looks
at how the **whole name ends** (``str.endswith``, not anchored at ``_`` or ``/``, as in
MXNet), so both spellings dispatch the same way: ``fc1_weight`` and ``fc1/weight``
are weights, ``bn/moving_var`` and ``bn_moving_var`` are moving variances.

Dispatch styles (:func:`param_kind`)
------------------------------------
``"mxnet"`` (default)
    What ``Module.init_params`` does for a symbol graph: ``weight`` -> the
    initializer; ``bias``, ``beta`` -> 0; ``gamma`` -> 1; ``min`` -> 0; ``max`` -> 1;
    ``weight_quantize``/``bias_quantize`` -> quantized fills; plus the BatchNorm
    auxiliary states, which MXNet's BatchNorm op tags with ``__init__`` attributes:
    ``moving_mean`` -> 0, ``moving_var`` -> 1 (and Gluon's names ``running_mean`` -> 0,
    ``running_var`` -> 1). Anything else is a ``ValueError`` naming the parameter.
``"initdesc"``
    MXNet's ``Initializer.__call__(InitDesc(name), arr)`` with no attributes: as
    ``"mxnet"`` without the BatchNorm states (a bare ``bn_moving_mean`` raises).
``"legacy"``
    ``Initializer.__call__(str, arr)`` (``_legacy_init``): names starting with
    ``upsampling`` -> bilinear; ``stn_loc*weight`` -> 0; ``stn_loc*bias`` ->
    ``[1,0,0,0,1,0]``; then ``bias``, ``gamma``, ``beta``, ``weight``,
    ``moving_mean`` (0), ``moving_var`` (1), ``moving_inv_var`` (0), ``moving_avg``
    (0), ``min``, ``max``. Prefix rules test the whole name and its last ``/`` component.

The kinds are MXNet's hook names (``_init_<kind>``): ``weight``, ``bias``, ``gamma``,
``beta``, ``zero``, ``one``, ``bilinear``, ``loc_bias``, ``quantized_weight``,
``quantized_bias``, and ``default`` for an unknown name.

Keys
----
:func:`init_params` gives each leaf ``fold_in(key, crc32(name))`` (see
:func:`optjax.initializers.core.name_key`): a parameter's values depend only on the
key and its name, so adding or removing other parameters does not change them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from optjax import tree as tree_util
from optjax import validation
from optjax.initializers import special
from optjax.initializers.basic import ones, uniform, zeros
from optjax.initializers.core import (
    DEFAULT_DTYPE,
    DType,
    Initializer,
    NamedInitializer,
    describe,
    name_key,
    normalize_shape,
)

STYLES = ("mxnet", "initdesc", "legacy")

_INITDESC_RULES: tuple[tuple[str, str], ...] = (
    ("weight", "weight"),
    ("bias", "bias"),
    ("gamma", "gamma"),
    ("beta", "beta"),
    ("min", "zero"),
    ("max", "one"),
    ("weight_quantize", "quantized_weight"),
    ("bias_quantize", "quantized_bias"),
)
_BATCHNORM_RULES: tuple[tuple[str, str], ...] = (
    ("moving_mean", "zero"),
    ("moving_var", "one"),
    ("running_mean", "zero"),
    ("running_var", "one"),
)
_LEGACY_RULES: tuple[tuple[str, str], ...] = (
    ("bias", "bias"),
    ("gamma", "gamma"),
    ("beta", "beta"),
    ("weight", "weight"),
    ("moving_mean", "zero"),
    ("moving_var", "one"),
    ("moving_inv_var", "zero"),
    ("moving_avg", "zero"),
    ("min", "zero"),
    ("max", "one"),
)

#: The fill each non-weight kind gets unless overridden (MXNet's hook defaults).
KIND_DEFAULTS: dict[str, Initializer] = {
    "bias": zeros,
    "gamma": ones,
    "beta": zeros,
    "zero": zeros,
    "one": ones,
    "bilinear": special.bilinear,
    "loc_bias": special.loc_bias,
    "quantized_weight": special.quantized_weight,
    "quantized_bias": zeros,
}
KINDS = ("weight", *KIND_DEFAULTS, "default")


def param_kind(name: str, style: str = "mxnet") -> str:
    """How MXNet's name dispatch initializes a parameter called ``name``.

    Returns one of :data:`KINDS` (``"weight"``, ``"bias"``, ``"gamma"``, ``"beta"``,
    ``"zero"``, ``"one"``, ...; ``"default"`` when no rule applies, which MXNet's
    ``_init_default`` turns into an error). See the module docstring for the styles.

    >>> from optjax.initializers import param_kind
    >>> [param_kind(n) for n in ("fc1_weight", "fc1/bias", "bn_gamma", "bn/moving_var")]
    ['weight', 'bias', 'gamma', 'one']
    >>> param_kind("bn_moving_mean", style="initdesc")
    'default'
    """
    validation.one_of("style", style, STYLES)
    if style == "legacy":
        last = name.rsplit("/", 1)[-1]
        starts = lambda p: name.startswith(p) or last.startswith(p)  # noqa: E731
        if starts("upsampling"):
            return "bilinear"
        if starts("stn_loc") and name.endswith("weight"):
            return "zero"
        if starts("stn_loc") and name.endswith("bias"):
            return "loc_bias"
        rules = _LEGACY_RULES
    elif style == "initdesc":
        rules = _INITDESC_RULES
    else:
        rules = _INITDESC_RULES + _BATCHNORM_RULES
    for suffix, kind in rules:
        if name.endswith(suffix):
            return kind
    return "default"


def _unknown(name: str, style: str) -> ValueError:
    return ValueError(
        f"Unknown initialization pattern for parameter {name!r} (style {style!r}): its name must end "
        "in weight, bias, gamma, beta, min or max (or moving_mean/moving_var/running_mean/running_var "
        "with style 'mxnet'); give it a rule in init_params(rules=...) or use mixed()"
    )


def by_name(init: Initializer, *, style: str = "mxnet", **overrides: Initializer) -> NamedInitializer:
    """``init`` applied through MXNet's name dispatch: weights get ``init``, biases and
    betas 0, gammas 1, and so on (see :func:`param_kind`).

    ``overrides`` replace the fill of a kind, like overriding ``_init_bias`` in an
    MXNet subclass: ``by_name(xavier(), bias=constant(0.1))``. This is what MXNet's
    ``Initializer.__call__(InitDesc(name), arr)`` does; every place here that takes a
    named initializer wraps a plain one this way.

    >>> import jax
    >>> from optjax.initializers import by_name, uniform
    >>> init = by_name(uniform(1.0))
    >>> init(jax.random.key(0), "fc_bias", (3,))
    Array([0., 0., 0.], dtype=float32)
    """
    validation.one_of("style", style, STYLES)
    for kind, fn in overrides.items():
        if kind not in KINDS or kind == "default":
            raise ValueError(f"by_name: unknown kind {kind!r} in overrides; kinds are {KINDS[:-1]}")
        if not callable(fn):
            raise ValueError(f"{kind} must be an initializer (key, shape, dtype) -> array, got {fn!r}")
    if not callable(init) or isinstance(init, NamedInitializer):
        raise ValueError(f"init must be a plain initializer (key, shape, dtype) -> array, got {init!r}")
    table = {**KIND_DEFAULTS, "weight": init, **overrides}

    def fn(key: jax.Array, name: str, shape: tuple[int, ...], dtype: DType) -> jax.Array:
        kind = param_kind(name, style)
        if kind == "default":
            raise _unknown(name, style)
        return table[kind](key, shape, dtype)

    extra = "".join(f", {k}={describe(v)}" for k, v in overrides.items())
    return NamedInitializer(fn, f"by_name({describe(init)}, style={style!r}{extra})")


def as_named(init: Any, what: str = "init") -> NamedInitializer:
    """A :class:`NamedInitializer` as is; a plain initializer wrapped in :func:`by_name`."""
    if isinstance(init, NamedInitializer):
        return init
    if callable(init):
        return by_name(init)
    raise ValueError(f"{what} must be an initializer (key, shape, dtype) -> array or a NamedInitializer, got {init!r}")


def mixed(patterns: Sequence[str], initializers: Sequence[Any]) -> NamedInitializer:
    """MXNet's ``Mixed(patterns, initializers)``: the first pattern that matches the
    name **from its start** (``re.match``) chooses the initializer.

    Each initializer is called through the name dispatch, as in MXNet (so with
    ``mixed([".*"], [constant(3.0)])`` a bias is still 0). A name that no pattern
    matches is a ``ValueError`` naming it; end with ``".*"`` for a catch-all.
    ``mixed(["bias", ".*"], ...)``: ``"bias"`` does not match ``"fc_bias"`` (anchored
    at the start) — use ``".*bias"``.

    >>> import jax
    >>> from optjax.initializers import mixed, constant, ones
    >>> init = mixed([".*fc1", ".*"], [constant(0.5), ones])
    >>> init(jax.random.key(0), "fc1_weight", (2,)), init(jax.random.key(0), "fc2_weight", (2,))
    (Array([0.5, 0.5], dtype=float32), Array([1., 1.], dtype=float32))
    """
    patterns = list(patterns)
    initializers = list(initializers)
    if len(patterns) != len(initializers):
        raise ValueError(
            f"patterns and initializers must have the same length, got {len(patterns)} and {len(initializers)}"
        )
    progs = []
    for p in patterns:
        try:
            progs.append(re.compile(p))
        except (re.error, TypeError) as e:
            raise ValueError(f"patterns: {p!r} is not a valid regular expression ({e})") from None
    inits = [as_named(i, f"initializers[{k}]") for k, i in enumerate(initializers)]

    def fn(key: jax.Array, name: str, shape: tuple[int, ...], dtype: DType) -> jax.Array:
        for prog, init in zip(progs, inits):
            if prog.match(name):
                return init(key, name, shape, dtype)
        raise ValueError(
            f"Parameter name {name!r} did not match any pattern of mixed() {patterns}; "
            "consider adding a '.*' pattern at the end with a default initializer"
        )

    return NamedInitializer(fn, f"mixed({patterns}, [{', '.join(describe(i) for i in initializers)}])")


def _read_source(source: Any) -> dict[str, np.ndarray]:
    if isinstance(source, (str, os.PathLike)):
        with np.load(os.fspath(source), allow_pickle=False) as f:
            return {k: np.asarray(f[k]) for k in f.files}
    if isinstance(source, Mapping):
        out = {}
        for k, v in source.items():
            if not isinstance(k, str):
                raise ValueError(f"params: keys must be parameter names (str), got {k!r}")
            out[k] = v if isinstance(v, jax.Array) else np.asarray(v.asnumpy() if hasattr(v, "asnumpy") else v)
        return out
    raise ValueError(f"params must be a mapping of name -> array or the path of an .npz file, got {type(source).__name__}")


def load(params: Any, default: Any = None) -> NamedInitializer:
    """MXNet's ``Load(param, default_init=None)``: values by name from a mapping or an
    ``.npz`` file, ``default`` (a plain or named initializer) for the other names.

    ``arg:``/``aux:`` prefixes of the stored names are dropped (MXNet's ``.params``
    convention; convert a ``.params`` file with ``np.savez(path, **{k: v.asnumpy()
    for k, v in mx.nd.load(f).items()})``). A stored value whose shape differs from the
    parameter's is a ``ValueError`` naming the parameter and both shapes; a name that
    is not stored with no ``default`` is a ``ValueError`` naming it. Values are cast
    to the requested dtype.

    >>> import jax, numpy as np
    >>> from optjax.initializers import load, zeros
    >>> init = load({"arg:fc_weight": np.ones((2, 2))}, default=zeros)
    >>> init(jax.random.key(0), "fc_weight", (2, 2)).sum(), init(jax.random.key(0), "fc_bias", (2,)).sum()
    (Array(4., dtype=float32), Array(0., dtype=float32))
    """
    table = {}
    for k, v in _read_source(params).items():
        table[k[4:] if k.startswith(("arg:", "aux:")) else k] = v
    dflt = None if default is None else as_named(default, "default")

    def fn(key: jax.Array, name: str, shape: tuple[int, ...], dtype: DType) -> jax.Array:
        if name in table:
            value = table[name]
            if tuple(value.shape) != shape:
                raise ValueError(
                    f"Parameter {name!r} cannot be initialized from loading: shape mismatch, "
                    f"target {shape} vs loaded {tuple(value.shape)}"
                )
            return jnp.asarray(value, dtype)
        if dflt is None:
            raise ValueError(
                f"Cannot initialize parameter {name!r}: not found in the loaded params and no default "
                "initializer is given"
            )
        return dflt(key, name, shape, dtype)

    src = os.fspath(params) if isinstance(params, (str, os.PathLike)) else f"<{len(table)} arrays>"
    return NamedInitializer(fn, f"load({src!r}, default={None if default is None else describe(default)})")


def _is_shape(x: Any) -> bool:
    return isinstance(x, tuple) and len(x) > 0 and all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in x)


def _is_leaf(x: Any) -> bool:
    return x is None or isinstance(x, jax.ShapeDtypeStruct) or _is_shape(x)


def _shape_dtype(name: str, leaf: Any) -> tuple[tuple[int, ...], Any]:
    if _is_shape(leaf):
        return normalize_shape(leaf), DEFAULT_DTYPE
    if hasattr(leaf, "shape") and hasattr(leaf, "dtype"):
        return normalize_shape(leaf.shape), leaf.dtype
    raise ValueError(
        f"params: leaf {name!r} must be an array, a jax.ShapeDtypeStruct or a shape tuple, got {type(leaf).__name__}"
    )


def init_params(
    key: jax.Array,
    params: Any,
    default: Any = None,
    rules: Mapping[str, Any] | None = None,
    *,
    style: str = "mxnet",
) -> Any:
    """Initialize every leaf of a parameter tree by its name, the way MXNet's
    ``Module.init_params(initializer)`` does.

    Args:
      key: a PRNG key; leaf ``name`` uses ``fold_in(key, crc32(name))``.
      params: a pytree whose leaves are arrays, ``jax.ShapeDtypeStruct`` or shape
        tuples of ints (float32); None leaves stay None. Values are ignored, only
        shapes and dtypes are used.
      default: the initializer for every leaf no rule claims. A plain initializer
        goes through the name dispatch of ``style`` (:func:`by_name`): weights get
        it, biases/betas 0, gammas 1, moving means 0, moving variances 1, unknown
        names a ``ValueError``. A :class:`NamedInitializer` (:func:`mixed`,
        :func:`load`, :func:`by_name`) is called with the name. Defaults to
        ``uniform(0.01)``, MXNet's ``Module`` default.
      rules: ``{pattern: initializer}``; the first pattern (in order) that matches a
        leaf's path (``optjax.tree.match``: glob on the path or a ``/``-tail of it,
        or ``re:`` regex from the start) decides. A plain initializer is applied
        **as is, without name dispatch**, like Gluon's ``Parameter(init=...)`` or a
        symbol ``Variable(init=...)`` (MXNet's ``__init__`` attribute); a named one is
        called with the name. A pattern that matches no leaf is a ``ValueError``.
      style: the dispatch style for a plain ``default`` (see :func:`param_kind`).

    Returns:
      A tree of the same structure with jax arrays of the leaves' shapes and dtypes.

    >>> import jax
    >>> from optjax import init_params
    >>> from optjax.initializers import uniform, xavier
    >>> shapes = {"fc1_weight": (4, 3), "fc1_bias": (4,), "bn_gamma": (4,), "bn_moving_var": (4,)}
    >>> p = init_params(jax.random.key(0), shapes, uniform(1.0))
    >>> p["fc1_bias"], p["bn_gamma"]
    (Array([0., 0., 0., 0.], dtype=float32), Array([1., 1., 1., 1.], dtype=float32))
    >>> p = init_params(jax.random.key(0), {"dense": {"kernel": (4, 3)}}, rules={"kernel": xavier()})
    """
    validation.one_of("style", style, STYLES)
    if default is None:
        default = uniform(0.01)
    dflt = by_name(default, style=style) if not isinstance(default, NamedInitializer) else default
    if not callable(dflt):
        raise ValueError(f"default must be an initializer, got {default!r}")
    rules = dict(rules or {})
    for pat, r in rules.items():
        if not isinstance(pat, str):
            raise ValueError(f"rules: patterns must be strings, got {pat!r}")
        if not callable(r):
            raise ValueError(f"rules[{pat!r}] must be an initializer, got {r!r}")
    pairs, treedef = jax.tree_util.tree_flatten_with_path(params, is_leaf=_is_leaf)
    unused = set(rules)
    out = []
    for path, leaf in pairs:
        if leaf is None:
            out.append(None)
            continue
        name = tree_util.path_str(path)
        shape, dtype = _shape_dtype(name, leaf)
        k = name_key(key, name)
        pat = tree_util.first_match(rules, name) if rules else None
        try:
            if pat is not None:
                unused.discard(pat)
                init = rules[pat]
                value = init(k, name, shape, dtype) if isinstance(init, NamedInitializer) else init(k, shape, dtype)
            else:
                value = dflt(k, name, shape, dtype)
        except ValueError as e:
            if repr(name) in str(e):
                raise
            raise ValueError(f"parameter {name!r}: {e}") from None
        value = jnp.asarray(value)
        if tuple(value.shape) != shape:
            raise ValueError(f"parameter {name!r}: the initializer returned shape {tuple(value.shape)}, expected {shape}")
        out.append(value.astype(dtype))
    if unused:
        names = [tree_util.path_str(p) for p, _ in pairs[:8]]
        raise ValueError(f"rules: pattern(s) {sorted(unused)} claim no parameter (none matches, or earlier patterns "
            f"take every parameter they match); the parameters are named like {names}")
    return treedef.unflatten(out)
