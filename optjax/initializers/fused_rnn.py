"""MXNet's ``FusedRNN`` initializer and the fused (cuDNN) RNN parameter layout.

A fused RNN keeps all its weights in one 1-D ``parameters`` vector. For each layer
and direction (``l`` then ``r`` if bidirectional), per gate, the ``i2h`` weights
(``(h, num_input)`` for layer 0, ``(h, b*h)`` after), then per gate the ``h2h``
weights ``(h, h)``; after all weights, in the same order, the ``i2h`` and ``h2h``
biases ``(h,)``. Gates: ``lstm`` ``_i _f _c _o``, ``gru`` ``_r _z _o``,
``rnn_relu``/``rnn_tanh`` one unnamed gate. Pieces are named like MXNet's
``FusedRNNCell(prefix='')``: ``l0_i2h_f_weight``, ``r1_h2h_bias``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from optjax import validation
from optjax.initializers.by_name import as_named
from optjax.initializers.core import DEFAULT_DTYPE, DType, Initializer, Shape, name_key, normalize_shape, set_description

GATES = {"rnn_relu": ("",), "rnn_tanh": ("",), "lstm": ("_i", "_f", "_c", "_o"), "gru": ("_r", "_z", "_o")}


def _check(num_hidden: int, num_layers: int, mode: str) -> None:
    validation.one_of("mode", mode, tuple(GATES))
    for n, v in (("num_hidden", num_hidden), ("num_layers", num_layers)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{n} must be a positive int, got {v!r}")


def fused_rnn_size(num_input: int, num_hidden: int, num_layers: int, mode: str, bidirectional: bool = False) -> int:
    """Length of the fused parameter vector (MXNet's ``pack_weights`` total)."""
    _check(num_hidden, num_layers, mode)
    b, m, h = 2 if bidirectional else 1, len(GATES[mode]), num_hidden
    return (num_input + h + 2) * h * m * b + (num_layers - 1) * m * h * (h + b * h + 2) * b


def fused_rnn_num_input(size: int, num_hidden: int, num_layers: int, mode: str, bidirectional: bool = False) -> int:
    """The input width a fused vector of ``size`` elements implies (MXNet's
    ``unpack_weights``); a size no input width gives is a ``ValueError``."""
    _check(num_hidden, num_layers, mode)
    b, m, h = 2 if bidirectional else 1, len(GATES[mode]), num_hidden
    num_input = size // b // h // m - (num_layers - 1) * (h + b * h + 2) - h - 2
    if num_input < 1 or fused_rnn_size(num_input, num_hidden, num_layers, mode, bidirectional) != size:
        raise ValueError(
            f"shape ({size},) is not a fused {mode} parameter vector for num_hidden={num_hidden}, "
            f"num_layers={num_layers}, bidirectional={bidirectional}"
        )
    return num_input


def fused_rnn_layout(
    num_input: int, num_hidden: int, num_layers: int, mode: str, bidirectional: bool = False
) -> list[tuple[str, int, tuple[int, ...]]]:
    """``[(name, offset, shape), ...]`` of every piece, in storage order.

    >>> from optjax.initializers import fused_rnn_layout
    >>> fused_rnn_layout(3, 2, 1, "rnn_tanh")
    [('l0_i2h_weight', 0, (2, 3)), ('l0_h2h_weight', 6, (2, 2)), ('l0_i2h_bias', 10, (2,)), ('l0_h2h_bias', 12, (2,))]
    """
    _check(num_hidden, num_layers, mode)
    gates, h = GATES[mode], num_hidden
    dirs = ("l", "r") if bidirectional else ("l",)
    b = len(dirs)
    out, p = [], 0

    def add(name: str, shape: tuple[int, ...]) -> None:
        nonlocal p
        out.append((name, p, shape))
        p += _size(shape)

    for layer in range(num_layers):
        for d in dirs:
            for g in gates:
                add(f"{d}{layer}_i2h{g}_weight", (h, b * h) if layer > 0 else (h, num_input))
            for g in gates:
                add(f"{d}{layer}_h2h{g}_weight", (h, h))
    for layer in range(num_layers):
        for d in dirs:
            for g in gates:
                add(f"{d}{layer}_i2h{g}_bias", (h,))
            for g in gates:
                add(f"{d}{layer}_h2h{g}_bias", (h,))
    return out


def fused_rnn_unpack(arr: jax.Array, num_hidden: int, num_layers: int, mode: str, bidirectional: bool = False) -> dict[str, jax.Array]:
    """Split a fused 1-D vector into ``{piece name: array}`` (MXNet's ``unpack_weights``)."""
    arr = jnp.asarray(arr)
    if arr.ndim != 1:
        raise ValueError(f"arr must be 1-D, got shape {arr.shape}")
    num_input = fused_rnn_num_input(arr.shape[0], num_hidden, num_layers, mode, bidirectional)
    return {
        name: arr[off:off + _size(shape)].reshape(shape)
        for name, off, shape in fused_rnn_layout(num_input, num_hidden, num_layers, mode, bidirectional)
    }


def fused_rnn_pack(pieces: dict[str, jax.Array], num_hidden: int, num_layers: int, mode: str, bidirectional: bool = False) -> jax.Array:
    """Join pieces (as from :func:`fused_rnn_unpack`) into the fused 1-D vector
    (MXNet's ``pack_weights``); missing pieces or wrong shapes are a ``ValueError``."""
    _check(num_hidden, num_layers, mode)
    first = f"l0_i2h{GATES[mode][0]}_weight"
    if first not in pieces:
        raise ValueError(f"pieces: {first!r} is missing")
    num_input = jnp.shape(pieces[first])[1]
    flat = []
    for name, _, shape in fused_rnn_layout(num_input, num_hidden, num_layers, mode, bidirectional):
        if name not in pieces:
            raise ValueError(f"pieces: {name!r} is missing")
        if tuple(jnp.shape(pieces[name])) != shape:
            raise ValueError(f"pieces: {name!r} has shape {tuple(jnp.shape(pieces[name]))}, expected {shape}")
        flat.append(jnp.ravel(pieces[name]))
    return jnp.concatenate(flat)


def _size(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def fused_rnn(init, num_hidden: int, num_layers: int, mode: str, bidirectional: bool = False,
              forget_bias: float = 1.0) -> Initializer:
    """MXNet's ``FusedRNN(init, num_hidden, num_layers, mode, bidirectional=False, forget_bias=1.0)``:
    an initializer for the fused 1-D ``parameters`` vector.

    Each piece (see :func:`fused_rnn_layout`) is initialized by name: for ``lstm``,
    pieces ending in ``_f_bias`` (both the ``i2h`` and ``h2h`` forget biases, as in
    MXNet) get ``forget_bias``; every other piece goes through ``init``'s name
    dispatch (a plain initializer: weights get it, biases 0; a
    :class:`NamedInitializer` is called with the piece name), with key
    ``fold_in(key, crc32(piece name))``. MXNet's ``init=None`` (use the global
    initializer) has no global here: pass that initializer explicitly (a ``None``
    is a ``ValueError``).

    >>> import jax
    >>> from optjax.initializers import fused_rnn, fused_rnn_size, xavier
    >>> n = fused_rnn_size(num_input=8, num_hidden=16, num_layers=2, mode="lstm")
    >>> fused_rnn(xavier(), 16, 2, "lstm")(jax.random.key(0), (n,)).shape
    (3840,)
    """
    _check(num_hidden, num_layers, mode)
    validation.check("forget_bias", forget_bias)
    if init is None:
        raise ValueError(
            "init must be given: MXNet's FusedRNN(None, ...) falls back to the global initializer, "
            "which optjax cannot see; pass it (e.g. the default of init_params)"
        )
    named = as_named(init, "init")

    def fn(key: jax.Array, shape: Shape, dtype: DType = DEFAULT_DTYPE) -> jax.Array:
        shape = normalize_shape(shape)
        if len(shape) != 1:
            raise ValueError(f"shape must be 1-D (the fused parameter vector), got {shape}")
        num_input = fused_rnn_num_input(shape[0], num_hidden, num_layers, mode, bidirectional)
        flat = []
        for name, _, pshape in fused_rnn_layout(num_input, num_hidden, num_layers, mode, bidirectional):
            if mode == "lstm" and name.endswith("_f_bias"):
                piece = jnp.full(pshape, forget_bias, dtype)
            else:
                piece = named(name_key(key, name), name, pshape, dtype)
            flat.append(jnp.ravel(jnp.asarray(piece, dtype)))
        return jnp.concatenate(flat)

    return set_description(
        fn, f"fused_rnn(num_hidden={num_hidden}, num_layers={num_layers}, mode={mode!r}, "
            f"bidirectional={bidirectional}, forget_bias={forget_bias!r})"
    )
