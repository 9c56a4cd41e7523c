"""``mx.gluon.Parameter`` / ``ParameterDict``: a weight's data and gradient on each context.

As in MXNet 1.9.1:

- a Parameter whose shape has unknown (0) dimensions and ``allow_deferred_init``
  is initialized at the first forward pass, when the layer has seen its input
  (gluon's blocks complete the shape from the operator registry's ``param_shapes``);
- its data on each context is marked as an autograd variable with its
  ``grad_req``: ``'write'`` overwrites the gradient at each ``backward``, ``'add'``
  accumulates until ``zero_grad()``, ``'null'`` has no gradient;
- ``lr_mult``/``wd_mult`` scale the optimizer's learning rate and weight decay.

Gradients can also be written by hand (``p.grad()[:] = g``), which marks them
fresh for ``Trainer.step`` as ``backward`` does.

Inside a hybridized (``jax.jit``-compiled) forward, :func:`overrides` maps each
Parameter to an NDArray over the traced value, which ``data()`` returns.
"""

from __future__ import annotations

import threading
import warnings
from collections import OrderedDict
from contextlib import contextmanager

import jax
import jax.numpy as jnp
import numpy as np

from optjax.compat.mxnet import initializer as _init
from optjax.compat.mxnet import ndarray as nd
from optjax.compat.mxnet.context import Context, cpu, current_context
from optjax.compat.mxnet.ndarray.dtypes import np_dtype

__all__ = ["Parameter", "Constant", "ParameterDict", "DeferredInitializationError", "overrides"]


class DeferredInitializationError(Exception):
    """A Parameter's data was asked for before its deferred initialization (first forward)."""


class _Overrides(threading.local):
    def __init__(self):
        self.stack = []


_overrides = _Overrides()


@contextmanager
def overrides(mapping: dict):
    """``Parameter.data()`` returns ``mapping[param]`` inside this context (compiled forwards)."""
    _overrides.stack.append(mapping)
    try:
        yield mapping
    finally:
        _overrides.stack.pop()


def _ctx_list(ctx):
    if ctx is None:
        return [current_context()]
    if isinstance(ctx, Context):
        return [ctx]
    return [Context(c) for c in ctx]


def _shape_tuple(shape):
    if shape is None:
        return None
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(s) for s in shape)


def _known(shape) -> bool:
    return shape is not None and all(s > 0 for s in shape)


def _brief(names, limit=3):
    names = list(names)
    if len(names) > limit * 2:
        return "[" + ", ".join(repr(n) for n in names[:limit]) + ", ..., " + ", ".join(
            repr(n) for n in names[-limit:]) + "]"
    return "[" + ", ".join(repr(n) for n in names) + "]"


def _on(value, ctx: Context):
    """``value`` placed on ``ctx``'s JAX device, as an NDArray of that context."""
    return nd.from_jax(jax.device_put(value, ctx.jax_device), ctx)


class Parameter:
    """A weight of a gluon Block (MXNet 1.9.1's ``gluon.Parameter``, dense storage).

    Args:
      name: the full name (``dense0_weight``).
      grad_req: ``'write'``, ``'add'`` or ``'null'``.
      shape: the shape; 0 marks a dimension known only at the first forward pass.
      dtype: the data type (float32).
      lr_mult, wd_mult: multipliers of the learning rate and weight decay.
      init: the Initializer (or its name) for this parameter; None: the one given to
        ``initialize``.
      allow_deferred_init: whether ``initialize`` may wait for the shape.
      differentiable: False forces ``grad_req='null'``.

    Example:
      >>> from optjax.compat.mxnet import gluon, init
      >>> p = gluon.Parameter("w", shape=(2, 3), init=init.One())
      >>> p.initialize()
      >>> float(p.data().asnumpy().sum())
      6.0
    """

    def __init__(self, name, grad_req="write", shape=None, dtype=np.float32, lr_mult=1.0,
                 wd_mult=1.0, init=None, allow_deferred_init=False, differentiable=True,
                 stype="default", grad_stype="default"):
        if stype != "default" or grad_stype != "default":
            raise NotImplementedError(
                f"Parameter {name!r}: sparse storage ({stype!r}/{grad_stype!r}) is not "
                "supported by the optjax shim")
        self.name = name
        self._shape = _shape_tuple(shape)
        self.dtype = dtype
        self.lr_mult = lr_mult
        self.wd_mult = wd_mult
        self.init = init
        self._differentiable = differentiable
        self._allow_deferred_init = allow_deferred_init
        self._deferred_init = ()
        self._data = None
        self._grad = None
        self._ctx_list = None
        self._grad_req = None
        self._stype = stype
        self.grad_req = grad_req

    def __repr__(self):
        return "Parameter {name} (shape={shape}, dtype={dtype})".format(
            name=self.name, shape=self.shape, dtype=self.dtype)

    # -- attributes ----------------------------------------------------------------------
    @property
    def shape(self):
        return self._shape

    @shape.setter
    def shape(self, new_shape):
        new_shape = _shape_tuple(new_shape)
        if self._shape is None:
            self._shape = new_shape
            return
        if len(self._shape) != len(new_shape) or not all(
                j in (-1, 0, i) for i, j in zip(new_shape, self._shape)):
            raise AssertionError(f"Expected shape {new_shape} is incompatible with given shape "
                                 f"{self._shape} for Parameter '{self.name}'.")
        self._shape = new_shape

    @property
    def grad_req(self):
        return self._grad_req

    @grad_req.setter
    def grad_req(self, req):
        assert req in ["write", "add", "null"], \
            "grad_req must be one of 'write', 'add', or 'null', but got '%s'" % req
        if not self._differentiable:
            req = "null"
        if self._grad_req == req:
            return
        self._grad_req = req
        if req == "null" and self._grad is not None:
            self._grad = None
            for d in self._data.values():
                d._grad, d._grad_req = None, None
        elif self._data is not None:
            self._init_grad()

    @property
    def stype(self):
        return self._stype

    # -- initialization ------------------------------------------------------------------
    def initialize(self, init=None, ctx=None, default_init=_init.Uniform(), force_reinit=False):
        """Allocate and fill the data on ``ctx`` (one Context or a list), or defer until the
        shape is known."""
        if self._data is not None and not force_reinit:
            warnings.warn("Parameter '%s' is already initialized, ignoring. Set "
                          "force_reinit=True to re-initialize." % self.name, stacklevel=2)
            return
        self._data = self._grad = None
        ctxs = _ctx_list(ctx)
        if init is None:
            init = default_init if self.init is None else self.init
        if not _known(self._shape):
            if self._allow_deferred_init:
                self._deferred_init = (init, ctxs, default_init, None)
                return
            raise ValueError("Cannot initialize Parameter '%s' because it has invalid shape: "
                             "%s." % (self.name, str(self._shape)))
        self._deferred_init = (init, ctxs, default_init, None)
        self._finish_deferred_init()

    def _finish_deferred_init(self):
        """Initialize now that the shape is known (called at the first forward pass)."""
        if not self._deferred_init:
            return
        init, ctxs, default_init, data = self._deferred_init
        self._deferred_init = ()
        if not _known(self._shape):
            raise ValueError("Cannot initialize Parameter '%s' because it has invalid shape: "
                             "%s. Please specify in_units, in_channels, etc for `Block`s."
                             % (self.name, str(self._shape)))
        if data is None:
            data = nd.zeros(self._shape, dtype=self.dtype)
            _init.create(default_init)(_init.InitDesc(self.name, {"__init__": init}), data)
        self._init_impl(data._data if isinstance(data, nd.NDArray) else jnp.asarray(data), ctxs)

    def _init_impl(self, value, ctxs):
        self._ctx_list = list(ctxs)
        value = jnp.asarray(value, np_dtype(self.dtype))
        self._data = OrderedDict((c, _on(value, c)) for c in self._ctx_list)
        self._init_grad()

    def _init_grad(self):
        from optjax.compat.mxnet import autograd
        if self._grad_req == "null" or self._data is None:
            self._grad = None
            return
        self._grad = OrderedDict(
            (c, _on(jnp.zeros(d.shape, d._data.dtype), c)) for c, d in self._data.items())
        autograd.mark_variables(list(self._data.values()), list(self._grad.values()),
                                self._grad_req)

    def _is_deferred(self) -> bool:
        return self._data is None and bool(self._deferred_init)

    # -- access --------------------------------------------------------------------------
    def _check_and_get(self, store, ctx):
        if store is not None:
            if ctx is None:
                ctx = self._ctx_list[0] if len(self._ctx_list) == 1 else current_context()
            ctx = Context(ctx)
            if ctx not in store:
                raise RuntimeError(
                    "Parameter '%s' was not initialized on context %s. It was only "
                    "initialized on %s." % (self.name, str(ctx), str(self._ctx_list)))
            return store[ctx]
        if self._deferred_init:
            raise DeferredInitializationError(
                "Parameter '%s' has not been initialized yet because initialization was "
                "deferred. Actual initialization happens during the first forward pass. "
                "Please pass one batch of data through the network before accessing "
                "Parameters. You can also avoid deferred initialization by specifying "
                "in_units, num_features, etc., for network layers." % self.name)
        raise RuntimeError(
            "Parameter '%s' has not been initialized. Note that you should initialize "
            "parameters and create Trainer with Block.collect_params() instead of "
            "Block.params because the later does not include Parameters of nested child "
            "Blocks" % self.name)

    def data(self, ctx=None):
        """The data on ``ctx`` (the only context, or the current one, by default)."""
        for mapping in reversed(_overrides.stack):
            if self in mapping:
                return mapping[self]
        return self._check_and_get(self._data, ctx)

    def list_data(self):
        """The data on every context, in context order."""
        if self._data is None:
            self._check_and_get(None, None)
        return list(self._data.values())

    def grad(self, ctx=None):
        if self._data is not None and self._grad is None:
            raise RuntimeError("Cannot get gradient array for Parameter '%s' because "
                               "grad_req='null'" % self.name)
        return self._check_and_get(self._grad, ctx)

    def list_grad(self):
        if self._data is not None and self._grad is None:
            raise RuntimeError("Cannot get gradient array for Parameter '%s' because "
                               "grad_req='null'" % self.name)
        if self._grad is None:
            self._check_and_get(None, None)
        return list(self._grad.values())

    def list_ctx(self):
        if self._data is None:
            if self._deferred_init:
                return list(self._deferred_init[1])
            raise RuntimeError("Parameter '%s' has not been initialized" % self.name)
        return list(self._ctx_list)

    def var(self):
        """This Parameter as an ``mx.sym`` variable (one per Parameter, as MXNet): its name,
        shape, dtype, ``lr_mult``, ``wd_mult`` and initializer as variable attributes."""
        if getattr(self, "_var", None) is None:
            from optjax.compat.mxnet import symbol
            self._var = symbol.var(self.name, shape=self.shape, dtype=self.dtype,
                                   lr_mult=self.lr_mult, wd_mult=self.wd_mult, init=self.init,
                                   stype=self._stype)
        return self._var

    # -- mutation ------------------------------------------------------------------------
    def set_data(self, data):
        """Write ``data`` into every context's copy (shape checked first)."""
        value = data._data if isinstance(data, nd.NDArray) else jnp.asarray(np.asarray(data))
        self.shape = tuple(value.shape)
        if self._data is None:
            if not self._deferred_init:
                raise RuntimeError("Parameter '%s' has not been initialized" % self.name)
            init, ctxs, default_init, _ = self._deferred_init
            self._deferred_init = (init, ctxs, default_init, nd.from_jax(value))
            return
        for c, arr in self._data.items():
            arr._data = jax.device_put(jnp.asarray(value, arr._data.dtype), c.jax_device)
            arr._fresh_grad = False

    def _reduce(self):
        """The data averaged over contexts, on cpu (what ``save_parameters`` writes)."""
        block = self.list_data()
        if len(block) == 1:
            return nd.from_jax(jax.device_put(block[0]._data, cpu().jax_device))
        dev = cpu().jax_device
        total = sum(jax.device_put(w._data, dev) for w in block)
        return nd.from_jax(total / len(block))

    def _check_load(self, value, cast_dtype=False):
        """Raise (naming this parameter) if ``value`` cannot be loaded into it."""
        if self._shape:
            if len(self._shape) != len(value.shape) or not all(
                    s in (0, d) for s, d in zip(self._shape, value.shape)):
                raise AssertionError(
                    "Failed loading Parameter '%s' from saved params: shape incompatible "
                    "expected %s vs saved %s" % (self.name, str(self._shape), str(value.shape)))
        if self.dtype is not None and not cast_dtype and \
                np.dtype(np_dtype(self.dtype)) != np.dtype(value.dtype):
            raise AssertionError(
                "Failed loading Parameter '%s' from saved params: dtype incompatible expected "
                "%s vs saved %s. Set cast_dtype=True to cast the dtype of saved params."
                % (self.name, np.dtype(np_dtype(self.dtype)).name, np.dtype(value.dtype).name))

    def _load_init(self, data, ctx, cast_dtype=False, dtype_source="current"):
        value = data._data if isinstance(data, nd.NDArray) else jnp.asarray(np.asarray(data))
        self._check_load(value, cast_dtype)
        if cast_dtype and dtype_source == "saved":
            self.dtype = np.dtype(value.dtype).type
        value = value.astype(np_dtype(self.dtype))
        if self._shape:
            self._shape = tuple(int(d) for d in value.shape)
        ctxs = None if ctx is None else _ctx_list(ctx)
        if self._data is None:
            if self._deferred_init:
                ctxs = self._deferred_init[1]
            elif ctxs is None:
                ctxs = [cpu()]
            self._deferred_init = ()
            self._init_impl(value, ctxs)
        else:
            self.set_data(nd.from_jax(value))
        self._deferred_init = ()

    def zero_grad(self):
        """Set the gradient on every context to 0 (for ``grad_req='add'``)."""
        if self._grad is None:
            return
        for g in self._grad.values():
            g._data = jnp.zeros_like(g._data)
            g._fresh_grad = False

    def reset_ctx(self, ctx):
        """Move the data (and gradient) to ``ctx`` (one Context or a list)."""
        ctxs = _ctx_list(ctx)
        if self._data is not None:
            value = self._reduce()._data
            self._init_impl(value, ctxs)
        elif self._deferred_init:
            init, _, default_init, data = self._deferred_init
            self._deferred_init = (init, ctxs, default_init, data)
        else:
            raise ValueError("Cannot reset context for Parameter '%s' because it has not been "
                             "initialized." % self.name)

    def cast(self, dtype):
        """Change the data (and gradient) type to ``dtype``."""
        self.dtype = dtype
        if self._data is None:
            return
        for c, d in self._data.items():
            d._data = d._data.astype(np_dtype(dtype))
        self._init_grad()


class Constant(Parameter):
    """A Parameter that is never updated (``grad_req='null'``) holding ``value``."""

    def __init__(self, name, value):
        value = value._data if isinstance(value, nd.NDArray) else jnp.asarray(np.asarray(value))
        self.value = value
        super().__init__(name, grad_req="null", shape=value.shape, dtype=value.dtype,
                         init=_ConstInit(value))

    def __repr__(self):
        return f"Constant {self.name} (shape={self.shape}, dtype={self.dtype})"


class _ConstInit(_init.Initializer):
    def __init__(self, value):
        super().__init__()
        self.value = value

    def _init_weight(self, name, arr):
        arr[:] = self.value

    __call__ = lambda self, desc, arr: self._init_weight(desc, arr)  # noqa: E731


class ParameterDict:
    """An ordered ``name -> Parameter`` mapping whose names start with ``prefix``.

    ``get('weight', ...)`` returns (creating if needed) the Parameter
    ``prefix + 'weight'``, also looking in ``shared``.
    """

    def __init__(self, prefix="", shared=None):
        self._prefix = prefix
        self._params = OrderedDict()
        self._shared = shared

    @property
    def prefix(self):
        return self._prefix

    def __getitem__(self, key):
        return self._params[key]

    def __iter__(self):
        return iter(self._params)

    def __len__(self):
        return len(self._params)

    def __contains__(self, key):
        return key in self._params

    def __repr__(self):
        body = "\n".join("  " + repr(p) for p in self._params.values())
        return f"{self._prefix} (\n{body}\n)"

    def items(self):
        return self._params.items()

    def keys(self):
        return self._params.keys()

    def values(self):
        return self._params.values()

    def _get_impl(self, name):
        if name in self._params:
            return self._params[name]
        if self._shared is not None and name in self._shared._params:
            self._params[name] = self._shared._params[name]
            return self._shared._params[name]
        return None

    def get(self, name, **kwargs):
        """The Parameter ``prefix + name``, created with ``kwargs`` if absent; an existing one's
        attributes must agree with ``kwargs`` (unknown shape dimensions are filled in)."""
        name = self._prefix + name
        param = self._get_impl(name)
        if param is None:
            param = self._params[name] = Parameter(name, **kwargs)
            return param
        for k, v in kwargs.items():
            if k == "shape" and v is not None:
                param.shape = v
                continue
            if hasattr(param, k) and getattr(param, k) is not None and v is not None:
                existing = getattr(param, k)
                if k == "dtype" and np.dtype(np_dtype(v)) == np.dtype(np_dtype(existing)):
                    continue
                if existing != v and k not in ("init",):
                    raise AssertionError(
                        "Cannot retrieve Parameter '%s' because desired attribute does not "
                        "match with stored for attribute '%s': desired '%s' vs stored '%s'."
                        % (name, k, str(v), str(existing)))
            elif v is not None:
                setattr(param, k, v)
        return param

    def get_constant(self, name, value=None):
        name = self._prefix + name
        param = self._get_impl(name)
        if param is None:
            if value is None:
                raise KeyError("No constant named '%s'. Please specify value if you want to "
                               "create a new constant." % name)
            param = self._params[name] = Constant(name, value)
        return param

    def update(self, other):
        for k, v in other.items():
            if k in self._params and self._params[k] is not v:
                raise ValueError("Cannot update self with other because they have different "
                                 "Parameters with the same name '%s'" % k)
        for k, v in other.items():
            self._params[k] = v

    def initialize(self, init=_init.Uniform(), ctx=None, verbose=False, force_reinit=False):
        """Initialize every Parameter (``init`` is the default for those without their own)."""
        if verbose and hasattr(init, "set_verbosity"):
            init.set_verbosity(verbose=verbose)
        for _, v in self.items():
            v.initialize(None, ctx, init, force_reinit=force_reinit)

    def zero_grad(self):
        for p in self.values():
            p.zero_grad()

    def reset_ctx(self, ctx):
        for p in self.values():
            p.reset_ctx(ctx)

    def setattr(self, name, value):
        """Set attribute ``name`` (``grad_req``, ``lr_mult``...) on every Parameter."""
        for p in self.values():
            setattr(p, name, value)

    def list_ctx(self):
        s = []
        for p in self.values():
            for c in p.list_ctx():
                if c not in s:
                    s.append(c)
        return s

    def save(self, filename, strip_prefix=""):
        """Write every Parameter (averaged over contexts) to ``filename`` in MXNet's format,
        named without ``strip_prefix``."""
        arg_dict = {}
        for param in self.values():
            if not param.name.startswith(strip_prefix):
                raise ValueError(
                    "Prefix '%s' is to be striped before saving, but Parameter's name '%s' "
                    "does not start with '%s'. this may be due to your Block shares parameters "
                    "from other Blocks or you forgot to use 'with name_scope()' when creating "
                    "child blocks. For more info on naming, please see "
                    "https://mxnet.io/api/python/docs/tutorials/packages/gluon/blocks/naming.html"
                    % (strip_prefix, param.name, strip_prefix))
            arg_dict[param.name[len(strip_prefix):]] = param._reduce()
        nd.save(filename, arg_dict)

    def load(self, filename, ctx=None, allow_missing=False, ignore_extra=False,
             restore_prefix="", cast_dtype=False, dtype_source="current"):
        """Load Parameters saved by :meth:`save` (names get ``restore_prefix``)."""
        if restore_prefix:
            for name in self.keys():
                assert name.startswith(restore_prefix), \
                    "restore_prefix is '%s' but Parameters name '%s' does not start with '%s'" \
                    % (restore_prefix, name, restore_prefix)
        self.load_dict(nd.load(filename), ctx, allow_missing, ignore_extra, restore_prefix,
                       filename, cast_dtype, dtype_source)

    def load_dict(self, param_dict, ctx=None, allow_missing=False, ignore_extra=False,
                  restore_prefix="", filename=None, cast_dtype=False, dtype_source="current"):
        """Load from a ``name -> NDArray`` dict; every name and shape is checked before any
        Parameter changes."""
        lprefix = len(restore_prefix)
        loaded = [(k[4:] if k.startswith("arg:") or k.startswith("aux:") else k, v)
                  for k, v in param_dict.items()] if isinstance(param_dict, dict) else param_dict
        arg_dict = {restore_prefix + k: v for k, v in loaded}
        error_str = "file: %s" % filename if filename else "param_dict"
        if not allow_missing:
            for name in self.keys():
                assert name in arg_dict, (
                    "Parameter '%s' is missing in %s, which contains parameters: %s. Please make "
                    "sure source and target networks have the same prefix." % (
                        name[lprefix:], error_str, _brief(arg_dict.keys())))
        todo = []
        for name, value in arg_dict.items():
            if name not in self._params:
                assert ignore_extra, (
                    "Parameter '%s' loaded from %s is not present in ParameterDict, choices "
                    "are: %s. Set ignore_extra to True to ignore. Please make sure source and "
                    "target networks have the same prefix." % (
                        name[lprefix:], error_str, _brief(self._params.keys())))
                continue
            self[name]._check_load(value, cast_dtype)
            todo.append((self[name], value))
        for param, value in todo:
            param._load_init(value, ctx, cast_dtype=cast_dtype, dtype_source=dtype_source)
