"""``mx.nd.random`` / ``mx.random``: MXNet's distributions on a JAX PRNG stream.

One global stream, reset by ``mx.random.seed(s)``: the same seed repeats the
same draws. The draws are JAX's, not MXNet's (only the distributions match).
Inside a compiled gluon forward (``hybridize``) the stream is a traced key
passed into the compiled function, so each call draws afresh.
"""

from __future__ import annotations

import functools
import threading

import jax
import jax.numpy as jnp

from optjax.compat.mxnet.ndarray.dtypes import np_dtype
from optjax.compat.mxnet.ndarray.ndarray import NDArray, _assign, from_jax

__all__ = ["seed", "next_key", "uniform", "normal", "randn", "randint", "exponential", "gamma",
           "poisson", "multinomial", "shuffle", "bernoulli"]


class _Stream(threading.local):
    def __init__(self):
        self._key = None  # made at the first draw: importing the shim starts no JAX backend
        self.traced = []  # keys of compiled forwards being traced (innermost last)

    @property
    def key(self):
        if self._key is None:
            self._key = jax.random.PRNGKey(0)
        return self._key

    @key.setter
    def key(self, value):
        self._key = value


_stream = _Stream()


def seed(seed_state: int, ctx="all") -> None:
    """Reset the global stream: later draws repeat for the same ``seed_state``."""
    _stream.key = jax.random.PRNGKey(int(seed_state))


@jax.jit
def _split(key):
    """``jax.random.split(key)`` as one compiled call (eager, it is several dispatches)."""
    k, sub = jax.random.split(key)
    return k, sub


def next_key():
    """A fresh PRNG key from the stream (a traced one inside a compiled forward)."""
    if _stream.traced:
        k, sub = _split(_stream.traced[-1])
        _stream.traced[-1] = k
        return sub
    _stream.key, sub = _split(_stream.key)
    return sub


@functools.lru_cache(maxsize=1)
def unused_key():
    """A constant key for compiled functions that take a key but draw nothing (made once;
    the global stream does not move)."""
    return jax.random.PRNGKey(0)


class traced_stream:
    """Draw from ``key`` (a tracer) instead of the global stream while tracing; after
    the block, ``used`` says whether anything drew from it."""

    def __init__(self, key):
        self.key = key
        self.used = False

    def __enter__(self):
        _stream.traced.append(self.key)
        return self

    def __exit__(self, *exc):
        self.used = _stream.traced.pop() is not self.key


def _shape(shape):
    if shape is None:
        return (1,)
    return (int(shape),) if isinstance(shape, int) else tuple(int(s) for s in shape)


def _finish(value, ctx, out):
    from optjax.compat.mxnet.context import Context
    r = from_jax(value, None if ctx is None else Context(ctx))
    return r if out is None else _assign(out, r)


def _param(x):
    return x._data if isinstance(x, NDArray) else x


def _batch_shape(param, shape):
    """MXNet draws ``shape`` samples per element when the parameters are arrays."""
    if isinstance(param, NDArray):
        return tuple(param.shape) + (_shape(shape) if shape not in (None, (), 1, (1,)) else ())
    return _shape(shape)


def _params_and_shape(a, b, shape):
    """Two distribution parameters broadcast against the sample shape: array parameters
    draw ``shape`` samples per element (trailing axes), as MXNet's samplers do."""
    s = _batch_shape(a, shape)
    pa, pb = _param(a), _param(b)
    if isinstance(a, NDArray):
        extra = (1,) * (len(s) - a.ndim)
        pa, pb = jnp.reshape(pa, pa.shape + extra), jnp.reshape(pb, pb.shape + extra)
    return pa, pb, s


def uniform(low=0.0, high=1.0, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """Samples from U[low, high)."""
    dt = np_dtype(dtype)
    lo, hi, s = _params_and_shape(low, high, shape)
    u = jax.random.uniform(next_key(), s, jnp.float32)
    return _finish((lo + (hi - lo) * u).astype(dt), ctx, out)


def normal(loc=0.0, scale=1.0, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """Samples from N(loc, scale**2)."""
    dt = np_dtype(dtype)
    mu, sd, s = _params_and_shape(loc, scale, shape)
    z = jax.random.normal(next_key(), s, jnp.float32)
    return _finish((mu + sd * z).astype(dt), ctx, out)


def randn(*shape, loc=0.0, scale=1.0, dtype=None, ctx=None, out=None, **kwargs):
    return normal(loc, scale, shape or None, dtype, ctx, out)


def randint(low, high, shape=None, dtype="int32", ctx=None, out=None, **kwargs):
    """Integers uniform in [low, high)."""
    r = jax.random.randint(next_key(), _shape(shape), int(low), int(high), np_dtype(dtype))
    return _finish(r, ctx, out)


def exponential(scale=1.0, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    r = float(scale) * jax.random.exponential(next_key(), _shape(shape), jnp.float32)
    return _finish(r.astype(np_dtype(dtype)), ctx, out)


def gamma(alpha=1.0, beta=1.0, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    r = float(beta) * jax.random.gamma(next_key(), float(alpha), _shape(shape), jnp.float32)
    return _finish(r.astype(np_dtype(dtype)), ctx, out)


def poisson(lam=1.0, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    r = jax.random.poisson(next_key(), float(lam), _shape(shape))
    return _finish(r.astype(np_dtype(dtype)), ctx, out)


def bernoulli(prob=0.5, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    r = jax.random.bernoulli(next_key(), _param(prob), _shape(shape))
    return _finish(r.astype(np_dtype(dtype)), ctx, out)


def multinomial(data, shape=None, get_prob=False, out=None, dtype="int32", **kwargs):
    """Draw category indices from each row of probabilities ``data``."""
    p = _param(data)
    n = () if shape is None else _shape(shape)
    logits = jnp.log(p)
    draws = jax.random.categorical(next_key(), logits, axis=-1,
                                   shape=n + p.shape[:-1] if n else None)
    if n:
        draws = jnp.moveaxis(draws, tuple(range(len(n))), tuple(range(-len(n), 0)))
    r = _finish(draws.astype(np_dtype(dtype)), None, out)
    if get_prob:
        lp = jnp.take_along_axis(jnp.log(p), draws.reshape(p.shape[:-1] + (-1,)).astype(jnp.int32),
                                 axis=-1).reshape(draws.shape)
        return r, from_jax(lp)
    return r


def shuffle(data, **kwargs):
    """A copy of ``data`` with its first axis permuted."""
    return from_jax(jax.random.permutation(next_key(), _param(data), axis=0))
