"""NDArray pickling through MXNet's binary NDArray format (as MXNet's ``__getstate__``)."""

from __future__ import annotations

import jax.numpy as jnp

from optjax.compat.mxnet import ndarray_format
from optjax.compat.mxnet.ndarray.ndarray import NDArray, from_jax

__all__ = ["dumps_array", "loads_array"]


def dumps_array(a: NDArray) -> bytes:
    """One NDArray's bytes as MXNet's pickling stores them."""
    return ndarray_format.dumps_array(a.asnumpy())


def loads_array(buf: bytes) -> NDArray:
    return from_jax(jnp.asarray(ndarray_format.loads_array(buf)))
