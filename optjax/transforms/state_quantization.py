"""8-bit optimizer state: moments stored as 8-bit codes with one float32 scale per block.

Blockwise dynamic quantization (Dettmers et al., *8-bit Optimizers via
Block-wise Quantization*, ICLR 2022, the scheme of bitsandbytes' 8-bit Adam):
a state leaf ``x`` is flattened and cut in blocks of ``B`` elements (256 by
default, the last block zero-padded); each block ``k`` keeps one float32 scale
``s_k`` and each element an 8-bit code ``c_j``, an index into a fixed code book
``Q`` of 256 values in [-1, 1]::

    s_k = x_m, the element of block k of largest magnitude (with its sign)
    c_j = round(x_j / s_k) to a neighbouring value of Q        (j in block k)
    x_j ~= Q[c_j] * s_k                                         (dequantized)

``Q`` is the *dynamic* map (:func:`dynamic_code_book`): a sign (signed map
only), a decimal exponent from 10^0 down to 10^-6 and a linear fraction whose
resolution shrinks with the exponent, so small values keep a useful relative
precision. First moments, which change sign, use the signed map (stored as
``int8``); second moments, never negative, use the unsigned map (``uint8``),
whose extra bit doubles the resolution. Storage: 1 byte per element plus
``4 / B`` for the scales (2.03 bytes per parameter for Adam's two moments at
``B = 256``, against 8 in float32).

Two choices differ from bitsandbytes, both measured (benchmarks/README.md):

* the scale carries the sign of the block's largest element, which is then
  stored exactly (as 1.0; the signed map has no -1.0);
* rounding is *stochastic* by default: to the code just below or just above,
  with probabilities that make the dequantized value unbiased. To nearest, an
  exponential moving average whose per-step change is below half a code's
  width never moves (Adam's second moment, ``v <- 0.999 v + 0.001 g**2``,
  freezes after a few hundred steps, and its bias correction then shrinks it:
  a different, larger step). The random numbers are a counter-based hash of
  the element's position, the step and the leaf (no PRNG state, a few integer
  operations per element).
"""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from optjax import numerics
from optjax.base import GradientTransformation, PyTree, call_update
from optjax.tree import first_match, flatten_with_names, is_absent, tree_structure_error

SIGNED_FIELDS = ("mu", "trace", "momentum_buffer")
UNSIGNED_FIELDS = ("nu", "nu_max")

# ----------------------------------------------------------------------------
# The code books, as arithmetic (no table look-ups, no search).

_TOP = {True: 128, False: 255}  # ordinal of the value 1.0 in each map


def _tables(signed: bool) -> dict[str, np.ndarray]:
    """Per-decade constants of the map (float64 math, stored float32).

    Decade ``e`` (0..6) holds ``parts`` values ``10**(e-6) * (0.1 + (k + 0.5) * 0.9 / parts)``,
    ``k = 0..parts-1``, at ordinals ``first + k``; as a line in the ordinal:
    ``value = a + b * ordinal``. ``lower[e]`` is the midpoint between decade
    ``e``'s first value and the value below it (0 for decade 0). Ordinal 0 is
    the value 0 and ordinal ``_TOP`` the value 1.
    """
    parts = np.array([2 ** e if signed else 2 ** (e + 1) for e in range(7)], np.float64)
    first = np.cumsum(np.concatenate([[1.0], parts[:-1]]))
    scale = 10.0 ** (np.arange(7) - 6.0)
    b = scale * 0.9 / parts
    a = scale * 0.1 + b * (0.5 - first)
    lowest = a + b * first
    highest = a + b * (first + parts - 1)
    lower = (lowest + np.concatenate([[0.0], highest[:-1]])) / 2
    following = np.concatenate([lowest[1:], [1.0]])  # the value after each decade's last
    f32 = lambda x: np.asarray(x, np.float32)  # noqa: E731
    return {"a": f32(a), "b": f32(b), "first": f32(first), "parts": f32(parts),
            "inv_scale": f32(1.0 / scale), "lower": f32(lower), "top": f32((highest[-1] + 1.0) / 2),
            "lowest": f32(lowest), "highest": f32(highest), "last": f32(first + parts - 1),
            "inv_b": f32(1.0 / b), "inv_gap": f32(1.0 / (following - highest))}


_TABLES = {s: _tables(s) for s in (True, False)}


def _per_decade(at_least: list[jax.Array], values: np.ndarray) -> jax.Array:
    """``values[e]`` for the decade ``e`` given by ``at_least[e - 1]`` = "decade >= e"."""
    out = jnp.float32(values[0])
    for e in range(1, 7):
        out = jnp.where(at_least[e - 1], np.float32(values[e]), out)
    return out


def _magnitude(ordinal: jax.Array, signed: bool) -> jax.Array:
    """The map's non-negative value of ``ordinal`` (0: zero, then increasing, ``_TOP``: 1.0)."""
    t = _TABLES[signed]
    o = ordinal.astype(jnp.float32)
    at_least = [o >= t["first"][e] for e in range(1, 7)]
    v = _per_decade(at_least, t["a"]) + _per_decade(at_least, t["b"]) * o
    return jnp.where(ordinal <= 0, 0.0, jnp.where(ordinal >= _TOP[signed], 1.0, v))


def _ordinal(y: jax.Array, signed: bool, u: jax.Array | None) -> jax.Array:
    """The ordinal of ``y`` in [0, 1]: the nearest value (``u`` None), or, with
    ``u`` uniform in [0, 1), the value below or above ``y`` with probabilities
    that make the expected value ``y``."""
    return _nearest(y, signed) if u is None else _stochastic(y, signed, u)


def _nearest(y: jax.Array, signed: bool) -> jax.Array:
    """Within a decade the values are the midpoints of equal bins, so the bin
    holding ``y`` gives the nearest value; between decades the boundary is the
    midpoint of the two neighbouring values (``lower``)."""
    t = _TABLES[signed]
    at_least = [y >= t["lower"][e] for e in range(1, 7)]
    parts = _per_decade(at_least, t["parts"])
    first = _per_decade(at_least, t["first"])
    k = jnp.floor((y * _per_decade(at_least, t["inv_scale"]) - 0.1) * (parts / 0.9))
    o = jnp.clip(first + k, first, first + parts - 1)
    return jnp.where(y < t["lower"][0], 0.0, jnp.where(y >= t["top"], float(_TOP[signed]), o)).astype(jnp.int32)


def _stochastic(y: jax.Array, signed: bool, u: jax.Array) -> jax.Array:
    """``floor(f + u)`` with ``f`` the fractional ordinal of ``y``: between two
    neighbouring values the map is a straight line in the ordinal (inside a
    decade, ``value = a + b * ordinal``; across the gap to the next decade, or to
    1.0, the line through the two values), so rounding ``f`` up with
    probability ``f - floor(f)`` rounds ``y`` up with probability
    ``(y - below) / (above - below)``: unbiased."""
    t = _TABLES[signed]
    at_least = [y >= t["lowest"][e] for e in range(1, 7)]
    highest = _per_decade(at_least, t["highest"])
    on_line = (y - _per_decade(at_least, t["a"])) * _per_decade(at_least, t["inv_b"])
    in_gap = _per_decade(at_least, t["last"]) + (y - highest) * _per_decade(at_least, t["inv_gap"])
    f = jnp.where(y <= highest, on_line, in_gap)
    f = jnp.where(y < t["lowest"][0], y * np.float32(1.0 / t["lowest"][0]), f)
    return jnp.clip(jnp.floor(f + u), 0, _TOP[signed]).astype(jnp.int32)


def _decode(codes: jax.Array) -> jax.Array:
    """float32 values of int8 (signed map) or uint8 (unsigned map) codes."""
    if jnp.dtype(codes.dtype) == jnp.uint8:
        return _magnitude(codes.astype(jnp.int32), signed=False)
    index = codes.astype(jnp.int32) + 128  # index into the sorted signed book; 127 is zero
    negative = index < 127
    mag = _magnitude(jnp.where(negative, 127 - index, index - 127), signed=True)
    return jnp.where(negative, -mag, mag)


def _encode(normed: jax.Array, signed: bool, u: jax.Array | None) -> jax.Array:
    """Codes of values in [-1, 1] (signed) or [0, 1] (unsigned; negatives become 0)."""
    if not signed:
        return _ordinal(jnp.clip(normed, 0.0, 1.0), False, u).astype(jnp.uint8)
    o = _ordinal(jnp.abs(normed), True, u)
    negative = normed < 0
    o = jnp.where(negative, jnp.minimum(o, 127), o)  # no -1.0 in the map: -0.993 is the last
    return (jnp.where(negative, 127 - o, 127 + o) - 128).astype(jnp.int8)


def _mix32(x: jax.Array) -> jax.Array:
    """A 32-bit integer hash (xor-shift-multiply finalizer; uint32 in, uint32 out)."""
    x = x ^ (x >> 16)
    x = x * np.uint32(0x21F0AAAD)
    x = x ^ (x >> 15)
    x = x * np.uint32(0x735A2D97)
    return x ^ (x >> 15)


def _uniform(shape: tuple[int, ...], seed: jax.Array) -> jax.Array:
    """Pseudo-random float32 in [0, 1) for each position of ``shape``: a hash
    of the flat position and ``seed`` (cheap, and sharded arrays generate
    their own part without communication)."""
    pos = jnp.zeros(shape, jnp.uint32)
    stride = 1
    for d in reversed(range(len(shape))):
        pos = pos + jax.lax.broadcasted_iota(jnp.uint32, shape, d) * np.uint32(stride % 2 ** 32)
        stride *= shape[d]
    bits = _mix32(pos * np.uint32(0x9E3779B9) + _mix32(jnp.asarray(seed, jnp.uint32)))
    return (bits >> 8).astype(jnp.float32) * np.float32(2.0 ** -24)


def dynamic_code_book(signed: bool) -> np.ndarray:
    """The 256 sorted values of the dynamic quantization map, in [-1, 1] or [0, 1].

    For each decimal exponent ``e = 0..6`` the interval ``[0.1, 1] * 10**(e-6)``
    is cut in ``2**e`` (signed) or ``2**(e+1)`` (unsigned) equal bins whose
    midpoints are the values (with their negatives for the signed map); ``0``
    and ``1`` complete the 256 values (the construction of bitsandbytes'
    ``create_dynamic_map``). An ``int8`` code ``c`` stands for ``book[c + 128]``,
    a ``uint8`` code for ``book[c]``.

    >>> q = dynamic_code_book(signed=False)
    >>> q.shape, float(q[0]), float(q[-1])
    ((256,), 0.0, 1.0)
    """
    if signed:
        codes = jnp.arange(-128, 128, dtype=jnp.int32).astype(jnp.int8)
    else:
        codes = jnp.arange(256, dtype=jnp.int32).astype(jnp.uint8)
    return np.asarray(_decode(codes))


# ----------------------------------------------------------------------------
# Quantized arrays.


class QuantizedArray(NamedTuple):
    """One state leaf in 8 bits: ``codes`` shaped like the leaf (``int8``: the
    signed map, ``uint8``: the unsigned map; see :func:`dynamic_code_book`) and
    ``scales``, one float32 per block of the flattened leaf. An ordinary pytree
    (two arrays): it checkpoints and shards like any state."""

    codes: jax.Array
    scales: jax.Array

    @property
    def signed(self) -> bool:
        return jnp.dtype(self.codes.dtype) == jnp.int8

    def dequantize(self) -> jax.Array:
        """The float32 array the codes stand for, shaped like ``codes``."""
        return _dequantize(self.codes, self.scales)


@jax.jit
def _dequantize(codes: jax.Array, scales: jax.Array) -> jax.Array:
    size = math.prod(codes.shape)
    n_blocks = scales.shape[0]
    if n_blocks == 0:
        return jnp.zeros(codes.shape, jnp.float32)
    # the block size is the power of two B with ceil(size / B) == n_blocks
    block = 1 << max(0, math.ceil(math.log2(max(size / n_blocks, 1))))
    flat = jnp.pad(jnp.reshape(_decode(codes), (-1,)), (0, n_blocks * block - size))
    flat = flat.reshape(n_blocks, block) * scales[:, None]
    return jnp.reshape(flat.reshape(-1)[:size], codes.shape)


def _check_block_size(block_size: Any) -> None:
    if (isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer))
            or block_size < 1 or block_size & (block_size - 1)):
        raise ValueError(f"block_size must be a positive power of two (1, 2, 4, ..., 256, ...), got {block_size!r}")


def quantize_blockwise(
    x: jax.Array, block_size: int = 256, *, signed: bool = True, seed: Any = None
) -> QuantizedArray:
    """``x`` as a :class:`QuantizedArray` with blocks of ``block_size`` elements.

    Rounds to the nearest code when ``seed`` is None; with a ``seed`` (an
    integer, or a uint32 array inside ``jit``) stochastically, unbiased (the
    dequantized value's expectation is ``x`` up to float rounding). With
    ``signed=False`` negative values become 0 (the unsigned map holds values in
    [0, 1]): use it for quantities that are never negative.

    >>> import jax.numpy as jnp
    >>> x = jnp.linspace(-1.0, 1.0, 512)
    >>> q = quantize_blockwise(x, 256)
    >>> q.codes.dtype, q.scales.shape
    (dtype('int8'), (2,))
    >>> float(jnp.max(jnp.abs(q.dequantize() - x))) < 0.01
    True
    """
    _check_block_size(block_size)
    return _quantize(jnp.asarray(x), None if seed is None else jnp.asarray(seed, jnp.uint32),
                     block_size=int(block_size), signed=bool(signed))


@functools.partial(jax.jit, static_argnames=("block_size", "signed"))
def _quantize(x: jax.Array, seed: jax.Array | None, *, block_size: int, signed: bool) -> QuantizedArray:
    size = math.prod(x.shape)
    n_blocks = -(-size // block_size)
    flat = jnp.reshape(x, (-1,)).astype(jnp.float32)
    blocks = jnp.pad(flat, (0, n_blocks * block_size - size)).reshape(n_blocks, block_size)
    top = jnp.max(blocks, axis=1)
    if signed:  # the element of largest magnitude, with its sign: it is stored exactly (as 1.0)
        bottom = jnp.min(blocks, axis=1)
        scales = jnp.where(top >= -bottom, top, bottom)
    else:
        scales = top
    normed = blocks / jnp.where(scales != 0, scales, 1.0)[:, None]
    u = None if seed is None else _uniform(blocks.shape, seed)
    codes = jnp.reshape(_encode(normed, signed, u).reshape(-1)[:size], x.shape)
    return QuantizedArray(codes, scales)


def _is_quantized(x: Any) -> bool:
    return isinstance(x, QuantizedArray)


def dequantize_state(state: PyTree) -> PyTree:
    """``state`` with every :class:`QuantizedArray` replaced by its float32 values."""
    return jax.tree.map(lambda x: x.dequantize() if _is_quantized(x) else x, state, is_leaf=_is_quantized)


# ----------------------------------------------------------------------------
# The wrapper.


class QuantizedState(NamedTuple):
    """State of :func:`quantized_state`: ``tx``'s state with the chosen leaves as
    :class:`QuantizedArray` nodes, and a step count that seeds the rounding."""

    count: jax.Array  # int32
    inner_state: Any


def quantized_state(
    tx: GradientTransformation,
    block_size: int = 256,
    min_size: int = 4096,
    *,
    min_ndim: int = 2,
    stochastic: bool = True,
    signed_fields: Sequence[str] = SIGNED_FIELDS,
    unsigned_fields: Sequence[str] = UNSIGNED_FIELDS,
    exclude: Sequence[str] = (),
) -> GradientTransformation:
    """Keep ``tx``'s moments in 8 bits (blockwise dynamic quantization, 8-bit Adam).

    Each update dequantizes the stored moments to float32, runs ``tx.update``
    on them (the step itself uses the full-precision new moments) and
    quantizes the new moments for storage (see the module docstring)::

        m, v = dequantize(state)
        u, (m, v) = tx.update(g, (m, v), p)
        state = quantize(m, signed map), quantize(v, unsigned map)

    Which leaves: in every NamedTuple of ``tx``'s state (however nested: chains,
    ``partition``, ``inject_hyperparams``, ...), the fields named in
    ``signed_fields`` (first moments and momentum buffers: Adam's and Lion's
    ``mu``, SGD's ``trace``, Muon's ``momentum_buffer``) and
    ``unsigned_fields`` (second moments, never negative: Adam's and RMSprop's
    ``nu``) whose value is a tree like the params. Of those, a leaf is
    quantized when its param has at least ``min_size`` elements and
    ``min_ndim`` dimensions (so biases and norm scales stay float) and matches
    none of the ``exclude`` path patterns; the others keep their dtype.

    Args:
      tx: the transform whose state to store in 8 bits (``adam``, ``adamw``,
        ``lion``, ``sgd`` with momentum, ``rmsprop``, ...).
      block_size: elements per scale, a positive power of two (default 256).
      min_size: smallest param (in elements) whose state is quantized (4096,
        as bitsandbytes' ``min_8bit_size``).
      min_ndim: smallest rank quantized (2: biases and norms stay float).
      stochastic: unbiased stochastic rounding of the codes (default); False
        rounds to nearest, as bitsandbytes (see the module docstring for why
        that drifts).
      signed_fields, unsigned_fields: state field names quantized with the
        signed and the unsigned map.
      exclude: param path patterns (see :mod:`optjax.tree`) whose state stays float.

    The state is a :class:`QuantizedState`; :func:`dequantize_state` reads it as
    floats. A chosen param that is not real floating point is a ``ValueError``
    naming it.

    During the step each leaf's new moments exist in float32 between the block
    maxima and the encoding. XLA CPU's default scheduler keeps those of all
    leaves alive at once; ``XLA_FLAGS=--xla_cpu_enable_concurrency_optimized_scheduler=false``
    reuses them leaf after leaf (docs/scaling.md).

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.quantized_state(optjax.adam(1e-3))
    >>> params = {"w": jnp.ones((64, 128)), "b": jnp.zeros(128)}
    >>> state = tx.init(params)
    >>> adam_state = state.inner_state[0]
    >>> adam_state.mu["w"].codes.dtype, adam_state.nu["w"].codes.dtype, adam_state.mu["b"].dtype
    (dtype('int8'), dtype('uint8'), dtype('float32'))
    >>> u, state = tx.update({"w": jnp.ones((64, 128)), "b": jnp.ones(128)}, state, params)
    """
    _check_block_size(block_size)
    for name, value in (("min_size", min_size), ("min_ndim", min_ndim)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    for name, fields in (("signed_fields", signed_fields), ("unsigned_fields", unsigned_fields)):
        if isinstance(fields, str) or not all(isinstance(f, str) for f in fields):
            raise TypeError(f"{name} must be a sequence of field names, got {fields!r}")
    both = set(signed_fields) & set(unsigned_fields)
    if both:
        raise ValueError(f"fields {sorted(both)} are in both signed_fields and unsigned_fields")
    signed_of = {**{f: True for f in signed_fields}, **{f: False for f in unsigned_fields}}
    exclude = (exclude,) if isinstance(exclude, str) else tuple(exclude)

    def chosen(name: str, p: Any, s: Any) -> bool:
        if is_absent(s) or is_absent(p) or not hasattr(p, "shape") or not hasattr(s, "dtype"):
            return False
        if tuple(s.shape) != tuple(p.shape) or math.prod(p.shape) < min_size or len(p.shape) < min_ndim:
            return False
        if first_match(exclude, name) is not None:
            return False
        if not jnp.issubdtype(p.dtype, jnp.floating):
            raise ValueError(
                f"quantized_state: parameter '{name}' has dtype {jnp.dtype(p.dtype).name}; 8-bit state "
                f"is for real floating-point params (leave it out with exclude=['{name}'])"
            )
        return jnp.issubdtype(s.dtype, jnp.floating)

    def quantize_field(value: PyTree, params: PyTree, signed: bool) -> PyTree:
        names, p_leaves, treedef = flatten_with_names(params)
        s_leaves = treedef.flatten_up_to(value)
        # the barrier keeps XLA, under jit(init), from constant-folding the quantization of a
        # constant (zeros) state leaf element by element at compile time
        out = [quantize_blockwise(jax.lax.optimization_barrier(s), block_size, signed=signed)
               if chosen(n, p, s) else s for n, p, s in zip(names, p_leaves, s_leaves)]
        return treedef.unflatten(out)

    def has_fields(x: Any) -> bool:
        return isinstance(x, tuple) and any(f in signed_of for f in getattr(x, "_fields", ()))

    def encode(state: PyTree, params: PyTree) -> PyTree:
        def node(x):
            if not has_fields(x):
                return x
            new = {}
            for f in x._fields:
                v = getattr(x, f)
                if f in signed_of and v is not None and tree_structure_error(params, v, "params", f) is None:
                    new[f] = quantize_field(v, params, signed_of[f])
                else:
                    new[f] = encode(v, params)
            return type(x)(**new)

        return jax.tree.map(node, state, is_leaf=has_fields)

    def init_fn(params):
        return QuantizedState(numerics.zero_count(), encode(tx.init(params), params))

    def update_fn(updates, state, params=None, **extra_args):
        new_u, new_inner = call_update(tx, updates, dequantize_state(state.inner_state), params, extra_args)
        count = numerics.safe_increment(state.count)
        old, treedef = jax.tree.flatten(state.inner_state, is_leaf=_is_quantized)
        try:
            new = treedef.flatten_up_to(new_inner)
        except (ValueError, TypeError):
            raise ValueError(
                "quantized_state: the inner transform returned a state of another structure "
                "than the one it was given"
            ) from None
        step_seed = count.astype(jnp.uint32) * np.uint32(0x85EBCA6B)
        out = []
        for i, (o, n) in enumerate(zip(old, new)):
            if _is_quantized(o):
                seed = _mix32(step_seed + np.uint32(i)) if stochastic else None
                n = quantize_blockwise(n, block_size, signed=o.signed, seed=seed)
            out.append(n)
        return new_u, QuantizedState(count, treedef.unflatten(out))

    return GradientTransformation(init_fn, update_fn)
