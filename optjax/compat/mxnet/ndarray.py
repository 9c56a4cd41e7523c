"""``mx.nd``: a mutable NDArray box over an immutable JAX array.

MXNet code mutates arrays in place (``w[:] = ...``, ``w += ...``, ``mom[:] *=
mu``); an :class:`NDArray` holds a JAX array in ``_data`` and each in-place
operation replaces it, so every alias of the box (a state held by an Updater,
a Parameter's data) sees the change. Out-of-place arithmetic returns new boxes.

As in MXNet, arithmetic between two NDArrays of different dtypes raises
(``Incompatible attr ... expected float32, got int32``), arithmetic with a
Python scalar keeps the array's dtype, and ``bool()`` of an array with more
than one element raises ``ValueError``.

JAX runs without 64-bit types unless ``jax_enable_x64`` is set, so float64/int64
arrays are stored as float32/int32 in that case.
"""

from __future__ import annotations

import numbers

import jax
import jax.numpy as jnp
import numpy as np

from optjax.compat.mxnet.context import Context, context_of

__all__ = [
    "NDArray", "MXNetError", "array", "zeros", "ones", "full", "empty", "arange", "zeros_like",
    "ones_like", "clip", "sqrt", "square", "sign", "abs", "maximum", "minimum", "norm", "dot",
    "sum", "mean", "exp", "log", "concat", "stack", "random_normal", "random_uniform", "random",
    "waitall", "cast",
]


class MXNetError(RuntimeError):
    """Raised where MXNet raises ``mxnet.base.MXNetError``."""


def _np_dtype(dtype, default=np.float32):
    if dtype is None:
        return np.dtype(default)
    if isinstance(dtype, str) and dtype == "bfloat16":
        return jnp.dtype(jnp.bfloat16)
    return np.dtype(dtype)


def _unwrap(x):
    return x._data if isinstance(x, NDArray) else x


def _place(data, ctx):
    if ctx is None:
        return data
    return jax.device_put(data, Context(ctx).jax_device)


class NDArray:
    """A mutable box over a JAX array with MXNet's NDArray API."""

    __slots__ = ("_data", "_fresh_grad", "__weakref__")
    __array_priority__ = 1000.0

    def __init__(self, data, ctx=None, dtype=None):
        data = jnp.asarray(_unwrap(data), dtype=None if dtype is None else _np_dtype(dtype))
        self._data = _place(data, ctx)
        self._fresh_grad = False

    # -- introspection -----------------------------------------------------------------
    @property
    def shape(self):
        return tuple(self._data.shape)

    @property
    def dtype(self):
        return np.dtype(self._data.dtype).type

    @property
    def size(self):
        return int(self._data.size)

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def context(self):
        return context_of(self._data)

    ctx = context

    @property
    def stype(self):
        return "default"

    @property
    def T(self):
        return NDArray(self._data.T)

    @property
    def data(self):
        """The JAX array (read-only view of the current value)."""
        return self._data

    def asnumpy(self):
        return np.asarray(self._data)

    def asscalar(self):
        if self.size != 1:
            raise ValueError("The current array is not a scalar")
        return self.asnumpy().reshape(())[()]

    def __array__(self, dtype=None, copy=None):
        a = np.asarray(self._data)
        return a.astype(dtype) if dtype is not None else a

    def __jax_array__(self):
        return self._data

    def astype(self, dtype, copy=True):
        dt = _np_dtype(dtype)
        if not copy and dt == self._data.dtype:
            return self
        return NDArray(self._data.astype(dt))

    def copy(self):
        return NDArray(self._data)

    def copyto(self, other):
        if isinstance(other, NDArray):
            if other.shape != self.shape:
                raise ValueError(f"copyto: shape mismatch {self.shape} vs {other.shape}")
            other._data = _place(self._data.astype(other._data.dtype), other.context)
            other._fresh_grad = True
            return other
        return NDArray(self._data, ctx=other)

    def as_in_context(self, ctx):
        if Context(ctx) == self.context:
            return self
        return NDArray(self._data, ctx=ctx)

    as_in_ctx = as_in_context

    def tostype(self, stype):
        if stype != "default":
            raise NotImplementedError("sparse storage types are not supported by the optjax shim")
        return self

    def wait_to_read(self):
        jax.block_until_ready(self._data)

    def attach_grad(self, grad_req="write", stype=None):
        raise NotImplementedError(
            "autograd is not emulated: compute gradients with jax.grad and write them into "
            "the gradient NDArray in place (grad[:] = g)")

    # -- shape ops -----------------------------------------------------------------------
    def reshape(self, *shape, **kwargs):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        shape = kwargs.get("shape", shape)
        return NDArray(self._data.reshape(shape))

    def flatten(self):
        return NDArray(self._data.reshape(self.shape[0], -1) if self.ndim else self._data.reshape(1, 1))

    def expand_dims(self, axis):
        return NDArray(jnp.expand_dims(self._data, axis))

    def transpose(self, axes=None):
        return NDArray(jnp.transpose(self._data, axes))

    def __len__(self):
        return self.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    # -- reductions / unary methods ------------------------------------------------------
    def sum(self, axis=None, keepdims=False):
        return NDArray(jnp.sum(self._data, axis=axis, keepdims=keepdims))

    def mean(self, axis=None, keepdims=False):
        return NDArray(jnp.mean(self._data, axis=axis, keepdims=keepdims))

    def max(self, axis=None, keepdims=False):
        return NDArray(jnp.max(self._data, axis=axis, keepdims=keepdims))

    def min(self, axis=None, keepdims=False):
        return NDArray(jnp.min(self._data, axis=axis, keepdims=keepdims))

    def norm(self, ord=2, axis=None, keepdims=False):
        return norm(self, ord=ord, axis=axis, keepdims=keepdims)

    def sqrt(self):
        return sqrt(self)

    def square(self):
        return square(self)

    def abs(self):
        return abs(self)

    def sign(self):
        return sign(self)

    def clip(self, a_min, a_max):
        return clip(self, a_min, a_max)

    def zeros_like(self):
        return zeros_like(self)

    def ones_like(self):
        return ones_like(self)

    # -- indexing and in-place writes ----------------------------------------------------
    def __getitem__(self, key):
        key = _unwrap_key(key)
        return NDArray(self._data[key])

    def __setitem__(self, key, value):
        v = _unwrap(value)
        d = self._data
        if isinstance(key, slice) and key == slice(None):
            v = jnp.asarray(v)
            if v.shape != d.shape:
                try:
                    v = jnp.broadcast_to(v, d.shape)
                except ValueError as e:
                    raise ValueError(
                        f"cannot assign an array of shape {tuple(v.shape)} to an NDArray of shape "
                        f"{d.shape}") from e
            self._data = v.astype(d.dtype)
        else:
            self._data = d.at[_unwrap_key(key)].set(jnp.asarray(v).astype(d.dtype))
        self._fresh_grad = True

    def _inplace(self, other, op):
        self._data = self._binary(other, op)._data
        self._fresh_grad = True
        return self

    def __iadd__(self, o):
        return self._inplace(o, jnp.add)

    def __isub__(self, o):
        return self._inplace(o, jnp.subtract)

    def __imul__(self, o):
        return self._inplace(o, jnp.multiply)

    def __itruediv__(self, o):
        return self._inplace(o, jnp.true_divide)

    # -- arithmetic ----------------------------------------------------------------------
    def _binary(self, other, op, reverse=False):
        a = self._data
        if isinstance(other, NDArray):
            b = other._data
            if b.dtype != a.dtype:
                raise MXNetError(
                    "Incompatible attr in node at 1-th input: expected "
                    f"{np.dtype(a.dtype).name}, got {np.dtype(b.dtype).name}")
            r = op(b, a) if reverse else op(a, b)
            return NDArray(r)
        if isinstance(other, (numbers.Number, np.generic)):
            s = jnp.asarray(other, dtype=a.dtype) if jnp.issubdtype(a.dtype, jnp.floating) else other
            r = op(s, a) if reverse else op(a, s)
            return NDArray(r.astype(a.dtype))
        if isinstance(other, (np.ndarray, jax.Array)):
            return self._binary(NDArray(jnp.asarray(other, a.dtype)), op, reverse)
        return NotImplemented

    def __add__(self, o):
        return self._binary(o, jnp.add)

    def __radd__(self, o):
        return self._binary(o, jnp.add, True)

    def __sub__(self, o):
        return self._binary(o, jnp.subtract)

    def __rsub__(self, o):
        return self._binary(o, jnp.subtract, True)

    def __mul__(self, o):
        return self._binary(o, jnp.multiply)

    def __rmul__(self, o):
        return self._binary(o, jnp.multiply, True)

    def __truediv__(self, o):
        return self._binary(o, jnp.true_divide)

    def __rtruediv__(self, o):
        return self._binary(o, jnp.true_divide, True)

    def __mod__(self, o):
        return self._binary(o, jnp.mod)

    def __pow__(self, o):
        return self._binary(o, jnp.power)

    def __rpow__(self, o):
        return self._binary(o, jnp.power, True)

    def __neg__(self):
        return NDArray(-self._data)

    def __pos__(self):
        return self

    def __abs__(self):
        return NDArray(jnp.abs(self._data))

    def _cmp(self, o, op):
        r = self._binary(o, lambda a, b: op(a, b).astype(self._data.dtype))
        return r

    def __eq__(self, o):
        return self._cmp(o, jnp.equal)

    def __ne__(self, o):
        return self._cmp(o, jnp.not_equal)

    def __lt__(self, o):
        return self._cmp(o, jnp.less)

    def __le__(self, o):
        return self._cmp(o, jnp.less_equal)

    def __gt__(self, o):
        return self._cmp(o, jnp.greater)

    def __ge__(self, o):
        return self._cmp(o, jnp.greater_equal)

    __hash__ = object.__hash__

    def __bool__(self):
        n = self.size
        if n == 0:
            return False
        if n == 1:
            return bool(self.asnumpy().reshape(()))
        raise ValueError("The truth value of an NDArray with multiple elements is ambiguous.")

    def __repr__(self):
        shape = "x".join(str(s) for s in self.shape)
        return f"\n{self.asnumpy()}\n<NDArray {shape} @{self.context}>"

    # pickling is deliberately not supported: save with optjax.compat.mxnet.states.
    def __reduce__(self):
        raise TypeError("NDArray is not picklable in the optjax shim; use asnumpy() or "
                        "optjax.compat.mxnet.states")


def _unwrap_key(key):
    if isinstance(key, tuple):
        return tuple(_unwrap(k) for k in key)
    return _unwrap(key)


jax.tree_util.register_pytree_node(
    NDArray, lambda x: ((x._data,), None), lambda _, c: NDArray.__new__(NDArray)._set(c[0]))


def _set(self, data):
    self._data = data
    self._fresh_grad = False
    return self


NDArray._set = _set


def _wrap(x):
    return NDArray.__new__(NDArray)._set(x)


def _out(result, out):
    if out is None:
        return result
    out[:] = result
    return out


# -- creation ---------------------------------------------------------------------------

def array(source_array, ctx=None, dtype=None):
    """``mx.nd.array``: float32 unless ``dtype`` is given (or the source is an NDArray)."""
    if isinstance(source_array, NDArray):
        dt = source_array._data.dtype if dtype is None else _np_dtype(dtype)
        return NDArray(source_array._data.astype(dt), ctx=ctx)
    return NDArray(np.asarray(source_array, dtype=_np_dtype(dtype)), ctx=ctx)


def zeros(shape, ctx=None, dtype=None, stype=None, **kwargs):
    return NDArray(jnp.zeros(shape, _np_dtype(dtype)), ctx=ctx)


def ones(shape, ctx=None, dtype=None, **kwargs):
    return NDArray(jnp.ones(shape, _np_dtype(dtype)), ctx=ctx)


def full(shape, val, ctx=None, dtype=None, out=None):
    return _out(NDArray(jnp.full(shape, val, _np_dtype(dtype)), ctx=ctx), out)


def empty(shape, ctx=None, dtype=None):
    return zeros(shape, ctx=ctx, dtype=dtype)


def arange(start, stop=None, step=1.0, repeat=1, ctx=None, dtype=None):
    a = jnp.arange(start, stop, step, dtype=_np_dtype(dtype))
    if repeat > 1:
        a = jnp.repeat(a, repeat)
    return NDArray(a, ctx=ctx)


def zeros_like(data):
    return NDArray(jnp.zeros_like(data._data))


def ones_like(data):
    return NDArray(jnp.ones_like(data._data))


def cast(data, dtype):
    return data.astype(dtype)


# -- elementwise ------------------------------------------------------------------------

def _unary(fn):
    def op(data, out=None, **kwargs):
        return _out(NDArray(fn(_unwrap(data))), out)
    op.__name__ = fn.__name__
    return op


sqrt = _unary(jnp.sqrt)
square = _unary(jnp.square)
sign = _unary(jnp.sign)
abs = _unary(jnp.abs)  # noqa: A001  (MXNet's name)
exp = _unary(jnp.exp)
log = _unary(jnp.log)
relu = _unary(jax.nn.relu)
sigmoid = _unary(jax.nn.sigmoid)
tanh = _unary(jnp.tanh)
negative = _unary(jnp.negative)


def clip(data, a_min, a_max, out=None):
    """``mx.nd.clip``: ``min(max(x, a_min), a_max)`` in the array's dtype."""
    x = _unwrap(data)
    lo = jnp.asarray(a_min, x.dtype)
    hi = jnp.asarray(a_max, x.dtype)
    return _out(NDArray(jnp.minimum(jnp.maximum(x, lo), hi)), out)


def _binary_fn(fn):
    def op(lhs, rhs, out=None):
        if isinstance(lhs, NDArray):
            r = lhs._binary(rhs, fn)
        elif isinstance(rhs, NDArray):
            r = rhs._binary(lhs, fn, reverse=True)
        else:
            return fn(lhs, rhs)
        return _out(r, out)
    op.__name__ = fn.__name__
    return op


maximum = _binary_fn(jnp.maximum)
minimum = _binary_fn(jnp.minimum)
add = _binary_fn(jnp.add)
subtract = _binary_fn(jnp.subtract)
multiply = _binary_fn(jnp.multiply)
divide = _binary_fn(jnp.true_divide)
power = _binary_fn(jnp.power)


def norm(data, ord=2, axis=None, keepdims=False, out=None):
    """``mx.nd.norm``: the L2 (or L1) norm over all elements (or ``axis``)."""
    x = _unwrap(data)
    if ord == 2:
        r = jnp.sqrt(jnp.sum(jnp.square(x), axis=axis, keepdims=keepdims))
    elif ord == 1:
        r = jnp.sum(jnp.abs(x), axis=axis, keepdims=keepdims)
    else:
        raise ValueError(f"norm: ord must be 1 or 2, got {ord!r}")
    if axis is None and not keepdims:
        r = r.reshape((1,))  # MXNet returns shape (1,)
    return _out(NDArray(r), out)


def dot(lhs, rhs, transpose_a=False, transpose_b=False):
    a, b = _unwrap(lhs), _unwrap(rhs)
    if transpose_a:
        a = a.T
    if transpose_b:
        b = b.T
    return NDArray(jnp.dot(a, b))


def sum(data, axis=None, keepdims=False):  # noqa: A001
    return NDArray(jnp.sum(_unwrap(data), axis=axis, keepdims=keepdims))


def mean(data, axis=None, keepdims=False):
    return NDArray(jnp.mean(_unwrap(data), axis=axis, keepdims=keepdims))


def concat(*data, dim=1):
    return NDArray(jnp.concatenate([_unwrap(d) for d in data], axis=dim))


def stack(*data, axis=0):
    return NDArray(jnp.stack([_unwrap(d) for d in data], axis=axis))


def waitall():
    pass


# -- random -----------------------------------------------------------------------------

class _Random:
    """``mx.nd.random`` / ``mx.random``: draws from a global JAX key (``seed`` resets it).

    The streams are JAX's, not MXNet's: only the distributions match."""

    def __init__(self):
        self._key = jax.random.PRNGKey(0)

    def seed(self, seed_state, ctx="all"):
        self._key = jax.random.PRNGKey(int(seed_state))

    def next_key(self):
        self._key, k = jax.random.split(self._key)
        return k

    def normal(self, loc=0, scale=1, shape=(1,), dtype=None, ctx=None, out=None, **kw):
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        dt = _np_dtype(dtype)
        r = loc + scale * jax.random.normal(self.next_key(), shape, dt)
        return _out(NDArray(r.astype(dt), ctx=ctx), out)

    def uniform(self, low=0, high=1, shape=(1,), dtype=None, ctx=None, out=None, **kw):
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        dt = _np_dtype(dtype)
        r = jax.random.uniform(self.next_key(), shape, dt, low, high)
        return _out(NDArray(r, ctx=ctx), out)

    def randint(self, low, high, shape=(1,), dtype="int32", ctx=None, out=None):
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        r = jax.random.randint(self.next_key(), shape, low, high, _np_dtype(dtype))
        return _out(NDArray(r, ctx=ctx), out)

    def shuffle(self, data):
        return NDArray(jax.random.permutation(self.next_key(), _unwrap(data)))


random = _Random()


def random_normal(loc=0, scale=1, shape=(1,), dtype=None, ctx=None, out=None, **kw):
    return random.normal(loc, scale, shape, dtype, ctx, out)


def random_uniform(low=0, high=1, shape=(1,), dtype=None, ctx=None, out=None, **kw):
    return random.uniform(low, high, shape, dtype, ctx, out)
