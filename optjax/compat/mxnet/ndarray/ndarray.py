"""``mx.nd.NDArray``: a mutable array with MXNet 1.9.1's semantics over JAX arrays.

MXNet code mutates arrays in place (``w[:] = ...``, ``w += ...``, ``op(..., out=w)``)
and shares memory between an array and its views. Here every NDArray is a window
``(offset, shape)`` onto a :class:`Storage` that holds one immutable JAX array;
writes replace the storage's array, so every NDArray on that storage sees them.
As in MXNet:

- basic indexing on the first axis (``x[i]``, ``x[a:b]`` with step 1) and
  ``reshape`` return views: ``y = x[1]; y[:] = 0`` writes into ``x``;
- other indexing (``x[:, 1]``, ``x[::2]``, ``x[[1, 0]]``) returns a copy;
- ``x[0, 1]`` on a 2-D array has shape ``(1,)`` (legacy shapes have no 0-d arrays);
- arithmetic between arrays of different dtypes raises ``MXNetError``; a Python
  scalar is cast to the array's dtype; integer division truncates toward zero;
- ``asnumpy()`` is a writable copy; NDArrays pickle through MXNet's binary format.

Every operation goes through the operator registry
(:mod:`optjax.compat.mxnet.ops`), so it is recorded by ``mx.autograd`` and is the
same function that gluon's ``F`` and ``mx.sym`` use.
"""

from __future__ import annotations

import functools
import math
import numbers

import jax
import jax.numpy as jnp
import numpy as np

from optjax.compat.mxnet.base import MXNetError
from optjax.compat.mxnet.context import Context, current_context
from optjax.compat.mxnet.ndarray.dtypes import np_dtype

__all__ = ["NDArray", "Storage", "from_jax", "unwrap"]


@functools.partial(jax.jit, static_argnums=2)
def _read_window(value, offset, shape):
    """``shape`` elements of ``value`` (flat, row-major) from ``offset``: one compile per shape."""
    flat = jax.lax.dynamic_slice(value.reshape(-1), (offset,), (math.prod(shape),))
    return flat.reshape(shape)


@jax.jit
def _write_window(value, flat, offset):
    return jax.lax.dynamic_update_slice(value.reshape(-1), flat, (offset,)).reshape(value.shape)


class Storage:
    """The memory shared by an NDArray and its views: one JAX array, replaced on write.

    A storage may be *pending*: the output of a recorded call whose value is computed
    later (by ``backward``'s compiled replay, or at the first read: reading ``value``
    computes it). ``aval`` gives its shape and dtype meanwhile.
    """

    __slots__ = ("_value", "pending", "aval", "__weakref__")

    def __init__(self, value, pending=None, aval=None):
        self._value = value
        self.pending = pending  # a LazyValue computing this storage's value, or None
        self.aval = aval

    @property
    def value(self):
        if self.pending is not None:
            self.pending.force()
        return self._value

    @value.setter
    def value(self, new):
        self._value = new
        self.pending = None
        self.aval = None

    @property
    def dtype(self):
        """The value's dtype, without computing a pending value."""
        return self.aval.dtype if self.pending is not None else self._value.dtype


class LazyValue:
    """The outputs of one recorded call, computed when first needed.

    ``compute(*args)`` returns the outputs (NDArray arguments are read, so a pending
    input is computed first). ``backward`` fills them from its compiled replay instead
    (:meth:`fill`), so that a hybridized block's forward, the loss after it and the
    gradient run as one compiled function. ``device``: where the first argument that is
    not None lives (the outputs' device).
    """

    __slots__ = ("compute", "args", "storages", "device")

    def __init__(self, compute, args, avals):
        self.compute, self.args = compute, list(args)
        self.device = next((device_of(a) for a in self.args if a is not None), None)
        self.storages = [Storage(None, self, a) for a in avals]

    @property
    def pending(self) -> bool:
        return self.compute is not None

    def force(self) -> None:
        if self.compute is None:
            return
        args = [a._data if isinstance(a, NDArray) else a for a in self.args]
        out = self.compute(*args)
        self.fill(out if isinstance(out, (tuple, list)) else (out,))

    def fill(self, values) -> None:
        for st, v in zip(self.storages, values):
            if st.pending is self:
                st.value = v
        self.compute = self.args = None

    def outputs(self, ctx) -> list:
        """NDArrays over the pending outputs."""
        return [_over(st, 0, tuple(st.aval.shape), ctx) for st in self.storages]


def is_pending(x) -> bool:
    """Whether ``x`` is an NDArray whose value is not computed yet."""
    return isinstance(x, NDArray) and x._store.pending is not None


def aval_of(x):
    """The shape, dtype and weak type of an NDArray's value (computed or pending), as a
    ``jax.ShapeDtypeStruct``; None for None."""
    if x is None:
        return None
    st = x._store
    if st.pending is not None:
        return jax.ShapeDtypeStruct(x.shape, st.aval.dtype, weak_type=st.aval.weak_type)
    v = x._data
    return jax.ShapeDtypeStruct(v.shape, v.dtype, weak_type=getattr(v, "weak_type", False))


def device_of(value):
    """The device holding a JAX array (or a pending NDArray's), None if unknown."""
    if isinstance(value, NDArray):
        if value._store.pending is not None:
            return value._store.pending.device
        value = value._data
    try:
        return next(iter(value.devices()))
    except (AttributeError, StopIteration):
        return None


def unwrap(x):
    """The JAX array of an NDArray; anything else unchanged."""
    return x._data if isinstance(x, NDArray) else x


def _place(value, ctx: Context | None):
    """``value`` committed to ``ctx``'s device (the default context's when None).

    Every NDArray the front end creates is committed, so compiled functions see the
    same argument placement on every call and compile once."""
    if isinstance(value, jax.core.Tracer):
        return value
    return jax.device_put(value, (ctx or current_context()).jax_device)


def from_jax(value, ctx: Context | None = None) -> "NDArray":
    """A new NDArray owning ``value`` (a JAX array or tracer), no copy."""
    return _over(Storage(value), 0, tuple(value.shape), ctx)


def _over(store: Storage, offset: int, shape: tuple, ctx) -> "NDArray":
    """An NDArray reading ``shape`` elements of ``store`` from flat ``offset``: not
    recorded, no gradient attached."""
    a = NDArray.__new__(NDArray)
    a._store, a._offset, a._shape, a._ctx = store, offset, shape, ctx
    a._entry = a._grad = a._grad_req = None
    a._fresh_grad = False
    return a


class NDArray:
    """MXNet's NDArray (dense storage)."""

    __slots__ = ("_store", "_offset", "_shape", "_ctx", "_entry", "_grad", "_grad_req",
                 "_fresh_grad", "__weakref__")
    __array_priority__ = 1000.0

    def __init__(self, data, ctx=None, dtype=None):
        value = jnp.asarray(unwrap(data), dtype=None if dtype is None else np_dtype(dtype))
        ctx = None if ctx is None else Context(ctx)
        self._store = Storage(_place(value, ctx))
        self._offset = 0
        self._shape = tuple(value.shape)
        self._ctx = ctx
        self._entry = None
        self._grad = None
        self._grad_req = None
        self._fresh_grad = False

    # -- the window onto storage -------------------------------------------------------
    def _is_whole(self) -> bool:
        v = self._store.value
        return self._offset == 0 and self._shape == tuple(v.shape)

    @property
    def _data(self):
        v = self._store.value
        if self._offset == 0 and self._shape == tuple(v.shape):
            return v
        if isinstance(v, jax.core.Tracer):
            n = math.prod(self._shape)
            return v.reshape(-1)[self._offset:self._offset + n].reshape(self._shape)
        return _read_window(v, np.int32(self._offset), self._shape)

    @_data.setter
    def _data(self, new):
        st = self._store
        if self._is_whole():
            st.value = new
            self._shape = tuple(new.shape)
            return
        old = st.value
        n = math.prod(self._shape)
        flat = jnp.asarray(new).astype(old.dtype).reshape(-1)
        if flat.shape[0] != n:
            raise MXNetError(f"cannot write {flat.shape[0]} elements into a view of shape "
                             f"{self._shape}")
        if isinstance(old, jax.core.Tracer) or isinstance(flat, jax.core.Tracer):
            st.value = old.reshape(-1).at[self._offset:self._offset + n].set(flat).reshape(
                old.shape)
        else:
            st.value = _write_window(old, flat, np.int32(self._offset))

    def _view(self, offset: int, shape: tuple) -> "NDArray":
        return _over(self._store, self._offset + offset, tuple(shape), self._ctx)

    def _set(self, data):  # used by the pytree registration and old call sites
        self._store = Storage(data)
        self._offset = 0
        self._shape = tuple(data.shape)
        self._ctx = getattr(self, "_ctx", None)
        self._entry = None
        self._grad = None
        self._grad_req = None
        self._fresh_grad = False
        return self

    # -- introspection -----------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self._shape

    @property
    def dtype(self):
        return np.dtype(self._store.dtype).type

    @property
    def size(self) -> int:
        return math.prod(self._shape)

    @property
    def ndim(self) -> int:
        return len(self._shape)

    @property
    def context(self) -> Context:
        return self._ctx if self._ctx is not None else current_context()

    ctx = context

    @property
    def stype(self) -> str:
        return "default"

    @property
    def handle(self):
        return self._store

    @property
    def T(self) -> "NDArray":
        return self.transpose()

    @property
    def data(self):
        """The current value as a JAX array (an optjax addition, for moving code to plain JAX)."""
        return self._data

    @property
    def grad(self):
        """The gradient buffer attached by :meth:`attach_grad` (None if none)."""
        return self._grad

    def asnumpy(self) -> np.ndarray:
        """A writable NumPy copy."""
        return np.array(self._data)

    def asscalar(self):
        if self.size != 1:
            raise ValueError("The current array is not a scalar")
        return self.asnumpy().reshape(())[()]

    def __array__(self, dtype=None, copy=None):
        a = np.asarray(self._data)
        return a.astype(dtype) if dtype is not None else a

    def __jax_array__(self):
        return self._data

    def wait_to_read(self):
        jax.block_until_ready(self._data)

    def wait_to_write(self):
        jax.block_until_ready(self._data)

    def __len__(self):
        if not self._shape:
            raise TypeError("len() of unsized object")
        return self._shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __bool__(self):
        n = self.size
        if n == 0:
            return False
        if n == 1:
            return bool(self.asnumpy().reshape(()))
        raise ValueError("The truth value of an NDArray with multiple elements is ambiguous.")

    def __repr__(self):
        shape = "x".join(str(s) for s in self._shape)
        return f"\n{self.asnumpy()}\n<NDArray {shape} @{self.context}>"

    __hash__ = object.__hash__

    # -- copies, contexts, dtypes ------------------------------------------------------
    def astype(self, dtype, copy=True) -> "NDArray":
        dt = np_dtype(dtype)
        if not copy and dt == np.dtype(self.dtype):
            return self
        return _call("Cast", [self], {"dtype": dt.name if dt.name != "bfloat16" else "bfloat16"})

    def copy(self) -> "NDArray":
        return _call("_copy", [self], {})

    def copyto(self, other):
        """Copy into ``other`` (an NDArray of the same shape) or onto a new array on a Context."""
        if isinstance(other, NDArray):
            if other.shape != self.shape:
                raise MXNetError(f"copyto: shape mismatch {self.shape} vs {other.shape}")
            if other is self:
                return other
            other._data = self._data.astype(other._store.value.dtype)
            other._fresh_grad = True
            return other
        ctx = Context(other)
        return _with_ctx(from_jax(_place(self._data, ctx)), ctx)

    def as_in_context(self, ctx) -> "NDArray":
        ctx = Context(ctx)
        if ctx == self.context:
            return self
        return self.copyto(ctx)

    as_in_ctx = as_in_context

    def tostype(self, stype):
        if stype != "default":
            raise NotImplementedError("sparse storage types are not supported by the optjax shim")
        return self

    def detach(self) -> "NDArray":
        """The same data, cut from the autograd graph."""
        return self._view(0, self._shape)

    # -- autograd ------------------------------------------------------------------------
    def attach_grad(self, grad_req: str = "write", stype=None):
        """Allocate a zero gradient buffer and mark this array as a variable for autograd."""
        from optjax.compat.mxnet import autograd
        autograd.mark_variables([self], [from_jax(jnp.zeros(self._shape, self._data.dtype),
                                                  self._ctx)], grad_req)

    def backward(self, out_grad=None, retain_graph: bool = False, train_mode: bool = True):
        """Gradients of this array with respect to the recorded variables."""
        from optjax.compat.mxnet import autograd
        autograd.backward([self], None if out_grad is None else [out_grad],
                          retain_graph=retain_graph, train_mode=train_mode)

    # -- indexing ------------------------------------------------------------------------
    def _basic_view(self, key):
        """The view for first-axis basic indexing (int, or slice with step 1), else None."""
        if isinstance(key, tuple) and len(key) == 1:
            key = key[0]
        if not self._shape:
            return None
        n0 = self._shape[0]
        inner = math.prod(self._shape[1:])
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            i = int(key)
            if i < -n0 or i >= n0:
                raise IndexError(f"index {i} is out of bounds for axis 0 with size {n0}")
            i %= n0
            shape = self._shape[1:] or (1,)
            return self._view(i * inner, shape)
        if isinstance(key, slice) and key.step in (None, 1):
            start, stop, _ = key.indices(n0)
            stop = max(stop, start)
            return self._view(start * inner, (stop - start,) + self._shape[1:])
        return None

    def __getitem__(self, key):
        from optjax.compat.mxnet import autograd
        if isinstance(key, NDArray):
            return _call("_getitem_array", [self, key], {})
        recording = autograd.is_recording() and autograd.in_graph(self)
        if not recording:
            v = self._basic_view(key)
            if v is not None:
                return v
        key = _static_key(key)
        r = _call("_getitem", [self], {"key": key})
        if r.ndim == 0:
            r = r.reshape((1,))
        return r

    def __setitem__(self, key, value):
        v = unwrap(value)
        dt = self._store.dtype
        if isinstance(key, slice) and key == slice(None) or key is Ellipsis:
            v = jnp.asarray(v).astype(dt)
            if v.shape != self._shape:
                try:
                    v = jnp.broadcast_to(v, self._shape)
                except ValueError as e:  # MXNet raises ValueError here too
                    raise ValueError(
                        f"cannot broadcast an array of shape {tuple(v.shape)} to the NDArray's "
                        f"shape {self._shape}") from e
            self._data = v
        else:
            view = self._basic_view(key)
            if view is not None:
                view[:] = value
            else:
                if isinstance(key, NDArray):
                    key = key._data.astype(jnp.int32)
                elif isinstance(key, tuple):
                    key = tuple(k._data.astype(jnp.int32) if isinstance(k, NDArray) else k
                                for k in key)
                self._data = self._data.at[key].set(jnp.asarray(v).astype(dt))
        self._entry = None
        self._fresh_grad = True

    # -- arithmetic ----------------------------------------------------------------------
    def _binary(self, other, kind, reverse=False):
        if isinstance(other, NDArray):
            lhs, rhs = (other, self) if reverse else (self, other)
            return _call(f"broadcast_{kind}", [lhs, rhs], {})
        if isinstance(other, (numbers.Number, np.generic)):
            name = f"_r{kind}_scalar" if reverse and kind in ("sub", "div", "mod", "power") \
                else f"_{kind}_scalar"
            return _call(name, [self], {"scalar": float(other) if not isinstance(other, bool)
                                        else float(other)})
        if isinstance(other, (np.ndarray, jax.Array)):
            return self._binary(NDArray(jnp.asarray(other, self._store.dtype)), kind,
                                reverse)
        return NotImplemented

    def _inplace(self, other, kind):
        r = self._binary(other, kind)
        if r is NotImplemented:
            return r
        return _assign(self, r)

    def __add__(self, o):
        return self._binary(o, "add")

    def __radd__(self, o):
        return self._binary(o, "add", True)

    def __sub__(self, o):
        return self._binary(o, "sub")

    def __rsub__(self, o):
        return self._binary(o, "sub", True)

    def __mul__(self, o):
        return self._binary(o, "mul")

    def __rmul__(self, o):
        return self._binary(o, "mul", True)

    def __truediv__(self, o):
        return self._binary(o, "div")

    def __rtruediv__(self, o):
        return self._binary(o, "div", True)

    __div__, __rdiv__ = __truediv__, __rtruediv__

    def __mod__(self, o):
        return self._binary(o, "mod")

    def __rmod__(self, o):
        return self._binary(o, "mod", True)

    def __pow__(self, o):
        return self._binary(o, "power")

    def __rpow__(self, o):
        return self._binary(o, "power", True)

    def __iadd__(self, o):
        return self._inplace(o, "add")

    def __isub__(self, o):
        return self._inplace(o, "sub")

    def __imul__(self, o):
        return self._inplace(o, "mul")

    def __itruediv__(self, o):
        return self._inplace(o, "div")

    __idiv__ = __itruediv__

    def __imod__(self, o):
        return self._inplace(o, "mod")

    def __neg__(self):
        return _call("negative", [self], {})

    def __pos__(self):
        return self

    def __abs__(self):
        return _call("abs", [self], {})

    def __eq__(self, o):
        return self._binary(o, "equal")

    def __ne__(self, o):
        return self._binary(o, "not_equal")

    def __lt__(self, o):
        return self._binary(o, "lesser")

    def __le__(self, o):
        return self._binary(o, "lesser_equal")

    def __gt__(self, o):
        return self._binary(o, "greater")

    def __ge__(self, o):
        return self._binary(o, "greater_equal")

    # -- shape methods ---------------------------------------------------------------------
    def reshape(self, *shape, **kwargs) -> "NDArray":
        """MXNet's reshape (special codes 0, -1, -2, -3, -4; ``reverse``); a view sharing memory."""
        from optjax.compat.mxnet import autograd
        from optjax.compat.mxnet.ops.shape import infer_reshape
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        shape = tuple(kwargs.pop("shape", shape))
        reverse = kwargs.pop("reverse", False)
        if kwargs:
            raise TypeError(f"reshape() got unexpected keyword arguments {sorted(kwargs)}")
        target = infer_reshape(self._shape, shape, reverse)
        if autograd.is_recording() and autograd.in_graph(self):
            return _call("Reshape", [self], {"shape": target})
        return self._view(0, target)

    def reshape_like(self, other):
        return self.reshape(other.shape)

    def __getattr__(self, name):
        # The method forms of the registered operators (x.sum(axis=1), x.softmax(), ...).
        from optjax.compat.mxnet.ndarray import methods
        fn = methods.method(name)
        if fn is None:
            raise AttributeError(f"'NDArray' object has no attribute {name!r}")
        return fn.__get__(self, NDArray)

    # -- pickling and copying ------------------------------------------------------------
    def __getstate__(self):
        from optjax.compat.mxnet.ndarray import serialization
        return {"handle": serialization.dumps_array(self)}

    def __setstate__(self, state):
        from optjax.compat.mxnet.ndarray import serialization
        a = serialization.loads_array(state["handle"])
        self._set(a._data)
        self._ctx = None

    def __reduce__(self):
        return (NDArray.__new__, (NDArray,), self.__getstate__())

    def __copy__(self):
        return self._view(0, self._shape)

    def __deepcopy__(self, memo):
        return from_jax(jnp.array(self._data, copy=True), self._ctx)


def _with_ctx(a: NDArray, ctx) -> NDArray:
    a._ctx = ctx
    return a


def _static_key(key):
    """An indexing key as a hashable static value (decoded by ``ops.shape.decode_key``)."""
    if isinstance(key, tuple):
        return tuple(_static_key(k) for k in key)
    if isinstance(key, slice):
        return ("__slice__", key.start, key.stop, key.step)
    if isinstance(key, NDArray):  # an index array inside a tuple: its values (no gradient)
        key = np.asarray(jax.device_get(key._data)).astype(np.int64)
    if isinstance(key, (list, np.ndarray)):
        a = np.asarray(key)
        return ("__array__", a.shape, tuple(a.reshape(-1).tolist()))
    if isinstance(key, np.integer):
        return int(key)
    return key


def _call(name, inputs, attrs, out=None):
    from optjax.compat.mxnet.ndarray.invoke import invoke
    from optjax.compat.mxnet.ops import registry
    return invoke(registry.get(name), inputs, attrs, out=out)


def _assign(target: NDArray, result: NDArray) -> NDArray:
    """Write ``result`` into ``target`` in place (``+=``, ``out=``), keeping the autograd entry."""
    if result.shape != target.shape:
        raise MXNetError(f"cannot write a result of shape {result.shape} into an array of shape "
                         f"{target.shape}")
    target._data = result._data.astype(target._store.value.dtype)
    target._entry = result._entry
    target._fresh_grad = True
    return target


jax.tree_util.register_pytree_node(
    NDArray, lambda x: ((x._data,), None), lambda _, c: from_jax(c[0]))
