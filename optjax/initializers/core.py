"""The two initializer shapes used across ``optjax.initializers``.

* An **initializer** is a pure function ``init(key, shape, dtype=jnp.float32) -> Array``,
  the ``jax.nn.initializers`` convention. It does not know the parameter's name.
* A :class:`NamedInitializer` is ``init(key, name, shape, dtype) -> Array``: it sees
  the parameter's name and may decide by it (MXNet's ``Initializer.__call__`` name
  dispatch, ``Mixed``, ``Load``). Wherever a named initializer is expected, a plain
  initializer is accepted and wrapped in :func:`optjax.initializers.by_name`, exactly
  as MXNet calls every ``Initializer`` through its name dispatch.
"""

from __future__ import annotations

import math
import zlib
from typing import Any, Callable, Protocol, Sequence

import jax
import jax.numpy as jnp

Shape = Sequence[int]
DType = Any
DEFAULT_DTYPE = jnp.float32


class Initializer(Protocol):
    """``(key, shape, dtype=jnp.float32) -> Array``."""

    def __call__(self, key: jax.Array, shape: Shape, dtype: DType = DEFAULT_DTYPE) -> jax.Array: ...


class NamedInitializer:
    """An initializer that also receives the parameter's name: ``(key, name, shape, dtype)``.

    Build one with :func:`by_name`, :func:`mixed`, :func:`load`, or wrap any
    function ``fn(key, name, shape, dtype) -> Array``::

        >>> import jax, jax.numpy as jnp
        >>> from optjax.initializers import NamedInitializer
        >>> half = NamedInitializer(lambda key, name, shape, dtype: jnp.full(shape, 0.5, dtype), "half")
        >>> half(jax.random.key(0), "fc_weight", (2,), jnp.float32)
        Array([0.5, 0.5], dtype=float32)
    """

    def __init__(self, fn: Callable[[jax.Array, str, tuple[int, ...], DType], jax.Array], description: str = ""):
        self._fn = fn
        self.description = description or getattr(fn, "__name__", "named initializer")

    def __call__(self, key: jax.Array, name: str, shape: Shape, dtype: DType = DEFAULT_DTYPE) -> jax.Array:
        return self._fn(key, name, normalize_shape(shape), dtype)

    def __repr__(self) -> str:
        return f"NamedInitializer({self.description})"


def normalize_shape(shape: Any) -> tuple[int, ...]:
    """``shape`` as a tuple of Python ints (an int is a 1-D shape)."""
    if isinstance(shape, int):
        return (shape,)
    try:
        out = tuple(int(d) for d in shape)
    except TypeError:
        raise ValueError(f"shape must be a sequence of ints, got {shape!r}") from None
    if any(d < 0 for d in out):
        raise ValueError(f"shape must not have negative sizes, got {out}")
    return out


def size_of(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


def name_key(key: jax.Array, name: str) -> jax.Array:
    """``key`` folded with a stable 31-bit hash (CRC-32) of ``name``.

    Used by :func:`init_params` and :func:`fused_rnn` so that a parameter's
    random values depend only on the key and its name, not on the other
    parameters in the tree.
    """
    return jax.random.fold_in(key, zlib.crc32(name.encode("utf-8")) & 0x7FFFFFFF)


def describe(init: Any) -> str:
    return getattr(init, "description", None) or getattr(init, "__name__", None) or repr(init)


def set_description(fn: Any, text: str) -> Any:
    """Give a closure a readable name (shown in errors and reprs)."""
    fn.description = text
    fn.__name__ = text.split("(")[0]
    fn.__qualname__ = fn.__name__
    return fn
