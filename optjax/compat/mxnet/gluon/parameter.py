"""``mx.gluon.Parameter`` / ``ParameterDict``: data and gradient NDArrays per context.

Gradients come from ``jax.grad`` (there is no autograd tape): write them into the
gradient buffer in place, ``p.grad()[:] = g`` (``grad_req='write'``) or
``p.grad()[:] += g`` (``grad_req='add'``). Such a write marks the gradient
fresh, as MXNet's ``backward`` does, so ``Trainer.step`` accepts it.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from optjax.compat.mxnet import initializer as _init
from optjax.compat.mxnet import ndarray as nd
from optjax.compat.mxnet.context import Context, current_context

__all__ = ["Parameter", "ParameterDict", "DeferredInitializationError"]


class DeferredInitializationError(RuntimeError):
    pass


def _ctx_list(ctx):
    if ctx is None:
        return [current_context()]
    if isinstance(ctx, Context):
        return [ctx]
    return list(ctx)


class Parameter:
    """MXNet's Gluon Parameter (dense storage only)."""

    def __init__(self, name, grad_req="write", shape=None, dtype=np.float32, lr_mult=1.0,
                 wd_mult=1.0, init=None, allow_deferred_init=False, differentiable=True,
                 stype="default", grad_stype="default"):
        self.name = name
        self._shape = tuple(shape) if isinstance(shape, (list, tuple)) else (
            (shape,) if isinstance(shape, int) else shape)
        self.dtype = dtype
        self.lr_mult = lr_mult
        self.wd_mult = wd_mult
        self.init = init
        self._differentiable = differentiable
        self._allow_deferred_init = allow_deferred_init
        self._data = None
        self._grad = None
        self._ctx_list = None
        self._grad_req = None
        self.grad_req = grad_req

    def __repr__(self):
        return f"Parameter {self.name} (shape={self.shape}, dtype={np.dtype(self.dtype).name})"

    @property
    def shape(self):
        return self._shape

    @shape.setter
    def shape(self, new_shape):
        self._shape = tuple(new_shape)

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
        if req == "null":
            self._grad = None
        elif self._data is not None:
            self._init_grad()

    def _init_grad(self):
        from optjax.compat.mxnet import autograd
        self._grad = OrderedDict(
            (c, nd.zeros(d.shape, ctx=c if c.device_type == "gpu" else None, dtype=d.dtype))
            for c, d in self._data.items())
        autograd.mark_variables(list(self._data.values()), list(self._grad.values()),
                                self._grad_req)

    def initialize(self, init=None, ctx=None, default_init=_init.Uniform(), force_reinit=False):
        if self._data is not None and not force_reinit:
            import warnings
            warnings.warn("Parameter '%s' is already initialized, ignoring. Set "
                          "force_reinit=True to re-initialize." % self.name, stacklevel=2)
            return
        ctxs = _ctx_list(ctx)
        init = init if init is not None else (self.init if self.init is not None else default_init)
        if self._shape is None or any(s == 0 for s in self._shape):
            raise DeferredInitializationError(
                f"Parameter '{self.name}' has an unknown shape {self._shape}; deferred "
                "initialization needs a forward pass, which the optjax shim does not emulate: "
                "give the shape")
        data = nd.zeros(self._shape, dtype=self.dtype)
        _init.create(default_init)(_init.InitDesc(self.name, {"__init__": init}), data)
        self._ctx_list = ctxs
        self._data = OrderedDict((c, data.copy() if i else data) for i, c in enumerate(ctxs))
        if self._grad_req != "null":
            self._init_grad()

    def _check(self):
        if self._data is None:
            raise RuntimeError(
                "Parameter '%s' has not been initialized. Note that you should initialize "
                "parameters and create Trainer with Block.collect_params() instead of "
                "Block.params because the later does not include Parameters of nested child "
                "Blocks" % self.name)

    def _pick(self, store, ctx):
        self._check()
        if ctx is None:
            return next(iter(store.values()))
        ctx = Context(ctx)
        if ctx not in store:
            raise RuntimeError(f"Parameter '{self.name}' was not initialized on context {ctx}. "
                               f"It was only initialized on {list(store)}.")
        return store[ctx]

    def data(self, ctx=None):
        return self._pick(self._data, ctx)

    def list_data(self):
        self._check()
        return list(self._data.values())

    def grad(self, ctx=None):
        if self._data is not None and self._grad is None:
            raise RuntimeError("Cannot get gradient array for Parameter '%s' because "
                               "grad_req='null'" % self.name)
        return self._pick(self._grad, ctx)

    def list_grad(self):
        if self._data is not None and self._grad is None:
            raise RuntimeError("Cannot get gradient array for Parameter '%s' because "
                               "grad_req='null'" % self.name)
        self._check()
        return list(self._grad.values())

    def list_ctx(self):
        self._check()
        return list(self._ctx_list)

    def set_data(self, data):
        self._check()
        for arr in self._data.values():
            arr[:] = data
            arr._fresh_grad = False

    def zero_grad(self):
        if self._grad is None:
            return
        for g in self._grad.values():
            g[:] = 0
            g._fresh_grad = False

    def cast(self, dtype):
        self.dtype = dtype
        if self._data is None:
            return
        for c in list(self._data):
            self._data[c] = self._data[c].astype(dtype)
        if self._grad is not None:
            self._init_grad()


class ParameterDict:
    """An ordered ``name -> Parameter`` mapping with a ``prefix``."""

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

    def get(self, name, **kwargs):
        name = self._prefix + name
        if name not in self._params:
            self._params[name] = Parameter(name, **kwargs)
        else:
            param = self._params[name]
            for k, v in kwargs.items():
                if k == "shape" and v is not None:
                    param.shape = v
                elif v is not None and hasattr(param, k):
                    setattr(param, k, v)
        return self._params[name]

    def update(self, other):
        for k, v in other.items():
            if k in self._params and self._params[k] is not v:
                raise ValueError("Cannot update self with other because they have different "
                                 "Parameters with the same name '%s'" % k)
        for k, v in other.items():
            self._params[k] = v

    def initialize(self, init=_init.Uniform(), ctx=None, verbose=False, force_reinit=False):
        if verbose:
            init.set_verbosity(verbose=verbose)
        for _, v in self.items():
            v.initialize(None, ctx, init, force_reinit=force_reinit)

    def zero_grad(self):
        for p in self.values():
            p.zero_grad()

    def reset_ctx(self, ctx):
        raise NotImplementedError("reset_ctx is not supported by the optjax shim")

    def setattr(self, name, value):
        for p in self.values():
            setattr(p, name, value)

    def list_ctx(self):
        s = []
        for p in self.values():
            for c in p.list_ctx():
                if c not in s:
                    s.append(c)
        return s
