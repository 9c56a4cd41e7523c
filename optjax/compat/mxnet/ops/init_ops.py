"""Source operators without inputs (MXNet's ``init_op.cc``): ``_zeros``, ``_ones``,
``_full`` and ``_arange``, behind ``mx.sym.zeros/ones/full/arange`` and ``mx.nd.arange``.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from optjax.compat.mxnet.base import MXNetError
from optjax.compat.mxnet.ndarray.dtypes import np_dtype
from optjax.compat.mxnet.ops.registry import register


@register("_zeros", ())
def zeros(*, shape: tuple = (), dtype: str = "float32"):
    """An array of zeros of ``shape``."""
    return jnp.zeros(tuple(int(d) for d in shape), np_dtype(dtype))


@register("_ones", ())
def ones(*, shape: tuple = (), dtype: str = "float32"):
    """An array of ones of ``shape``."""
    return jnp.ones(tuple(int(d) for d in shape), np_dtype(dtype))


@register("_full", ())
def full(*, shape: tuple = (), value: float = 0.0, dtype: str = "float32"):
    """An array of ``shape`` filled with ``value``."""
    return jnp.full(tuple(int(d) for d in shape), value, np_dtype(dtype))


@register("_arange", ())
def arange(*, start: float = 0.0, stop: float | None = None, step: float = 1.0,
           repeat: int = 1, infer_range: bool = False, dtype: str = "float32"):
    """``start, start + step, ...`` below ``stop`` (``[0, start)`` when ``stop`` is None),
    each value ``repeat`` times; the values are computed in float64 and cast, as MXNet's
    kernel does (``start + (i // repeat) * step``), and there are
    ``ceil((stop - start) / step) * repeat`` of them."""
    if infer_range:
        raise MXNetError("_arange: infer_range=True is not supported by the shim; give stop")
    if stop is None:
        start, stop = 0.0, start
    if step == 0:
        raise MXNetError("_arange: step must not be 0")
    if repeat < 1:
        raise MXNetError(f"_arange: repeat must be >= 1, got {repeat}")
    n = max(int(math.ceil((stop - start) / step)), 0)
    values = start + np.arange(n, dtype=np.float64) * step
    return jnp.asarray(np.repeat(values, int(repeat)).astype(np_dtype(dtype)))
