"""NDArray pickling through MXNet's binary NDArray format (as MXNet's ``__getstate__``)."""

from __future__ import annotations

from optjax.compat.mxnet import ndarray_format
from optjax.compat.mxnet.ndarray.ndarray import NDArray, from_jax

__all__ = ["dumps_array", "loads_array"]


def dumps_array(a: NDArray) -> bytes:
    """One NDArray in MXNet's ``save`` format (what ``pickle`` stores for it)."""
    return ndarray_format.dumps([a.asnumpy()])


def loads_array(buf: bytes) -> NDArray:
    import jax.numpy as jnp
    data = ndarray_format.loads(buf)
    arr = data[0] if isinstance(data, list) else next(iter(data.values()))
    return from_jax(jnp.asarray(arr))
