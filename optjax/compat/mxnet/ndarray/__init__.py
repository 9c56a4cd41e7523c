"""``mx.nd``: MXNet 1.9.1's NDArray and its operators on JAX.

The NDArray class is in :mod:`.ndarray`; every operator of the registry
(:mod:`optjax.compat.mxnet.ops`) has a front-end function here
(``nd.FullyConnected``, ``nd.softmax``, ``nd.broadcast_add``, ...).
"""

from optjax.compat.mxnet import ops as _ops  # noqa: F401  (registers the operators)
from optjax.compat.mxnet.base import MXNetError
from optjax.compat.mxnet.ndarray import linalg, random
from optjax.compat.mxnet.ndarray import contrib
from optjax.compat.mxnet.ndarray.creation import (arange, array, empty, eye, full, full_like,
                                                  linspace, ones, ones_like, zeros, zeros_like)
from optjax.compat.mxnet.ndarray.ndarray import NDArray, from_jax, unwrap
from optjax.compat.mxnet.ndarray.ops import define_all as _define_all
from optjax.compat.mxnet.ndarray.ufuncs import (add, divide, equal, greater, greater_equal, hypot,
                                                lesser, lesser_equal, logical_and, logical_or,
                                                logical_xor, maximum, minimum, modulo, multiply,
                                                not_equal, power, subtract, true_divide)

_unwrap = unwrap


def _wrap(value):
    return from_jax(value)


def _out(result, out):
    if out is None:
        return result
    out[:] = result
    return out


def waitall() -> None:
    """``mx.nd.waitall``: block until every computation dispatched so far has finished.

    JAX dispatches asynchronously, as MXNet's engine does; this waits for every live
    array (``jax.live_arrays()``, a few microseconds per array) and for pending effects.
    Outputs that a recorded forward still defers (they are computed at ``backward`` or at
    their first read) are not computations yet and are not started here.
    """
    import jax
    jax.block_until_ready(jax.live_arrays())
    jax.effects_barrier()


def save(fname: str, data) -> None:
    """``mx.nd.save``: NDArrays (one, a list, or a dict by name) in MXNet's binary format."""
    from optjax.compat.mxnet import ndarray_format
    ndarray_format.save(fname, data)


def load(fname: str):
    """``mx.nd.load``: a list or dict of NDArrays from MXNet's binary format."""
    from optjax.compat.mxnet import ndarray_format
    return _to_nd(ndarray_format.load(fname))


def load_frombuffer(buf: bytes):
    from optjax.compat.mxnet import ndarray_format
    return _to_nd(ndarray_format.loads(buf))


def _to_nd(data):
    import jax.numpy as jnp
    if isinstance(data, dict):
        return {k: from_jax(jnp.asarray(v)) for k, v in data.items()}
    return [from_jax(jnp.asarray(v)) for v in data]


def random_normal(loc=0, scale=1, shape=(1,), dtype=None, ctx=None, out=None, **kw):
    return random.normal(loc, scale, shape, dtype, ctx, out)


def random_uniform(low=0, high=1, shape=(1,), dtype=None, ctx=None, out=None, **kw):
    return random.uniform(low, high, shape, dtype, ctx, out)


_OPERATORS = _define_all(globals())

__all__ = ["NDArray", "MXNetError", "array", "zeros", "ones", "full", "empty", "arange",
           "linspace", "eye", "zeros_like", "ones_like", "full_like", "random", "linalg", "save", "load",
           "load_frombuffer", "waitall", "contrib", "add", "subtract", "multiply", "divide", "true_divide",
           "modulo", "power", "maximum", "minimum", "equal", "not_equal", "greater",
           "greater_equal", "lesser", "lesser_equal", "logical_and", "logical_or", "logical_xor",
           "hypot", "random_normal", "random_uniform", *_OPERATORS]
