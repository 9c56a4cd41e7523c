"""``mx.gluon.Block`` / ``HybridBlock``: MXNet 1.9.1's model containers on JAX.

A ``Block`` runs its ``forward`` eagerly on NDArrays (every operator call goes
through the operator registry and is recorded by ``mx.autograd``). A
``HybridBlock`` writes ``hybrid_forward(F, x, *args, **params)`` where ``F`` is
``mx.nd`` and ``params`` are its Parameters' data. Naming follows MXNet:
``Dense`` blocks created outside any scope are ``dense0_``, ``dense1_``...; a
child created inside ``with self.name_scope():`` gets the parent's prefix.

Deferred initialization: a Parameter with unknown dimensions (``Dense(10)``
without ``in_units``) gets its shape at the block's first forward pass, from the
operator's ``param_shapes`` rule in the registry; the same first pass checks
the shapes of already-initialized Parameters, so a mismatch names the layer,
the parameter and both shapes.

``hybridize()`` compiles the whole forward with ``jax.jit``: the compiled
function takes ``(parameter values, inputs, PRNG key, is_train)`` and returns
``(outputs, (updated auxiliary values, moving-average increments))``; inside it
``Parameter.data()`` returns NDArrays over the traced values and random operators
draw from the key. The moving-average increments (``BatchNorm``'s running
statistics) go on the call's tape entry and are applied by the backward pass, as
MXNet does; other updated auxiliary values are written back after the call. When
autograd is recording, the call is recorded as ONE tape entry (the block's whole
forward, :func:`~optjax.compat.mxnet.gluon.compiled.recorded_forward`) and deferred:
its outputs are pending (shapes from ``jax.eval_shape``), operators applied to them are
recorded pending too, and ``backward``'s compiled replay computes them together with
the gradient (forward, loss and backward in one XLA program); reading one before
``backward`` computes it then, as MXNet's asynchronous engine gives values at the first
read. A call that writes auxiliary values at once runs at once. First-order only: a
second-order ``autograd.grad`` through a hybridized block raises ``MXNetError``.
"""

from __future__ import annotations

import re
import threading
import warnings
from collections import OrderedDict, defaultdict

import jax
import numpy as np

from optjax.compat.mxnet import autograd
from optjax.compat.mxnet import initializer as _init
from optjax.compat.mxnet import ndarray as nd
from optjax.compat.mxnet.context import current_context
from optjax.compat.mxnet.gluon.compiled import recorded_forward
from optjax.compat.mxnet.gluon.deferred import FirstPassF, Pending
from optjax.compat.mxnet.gluon.parameter import Parameter, ParameterDict, _brief, overrides
from optjax.compat.mxnet.gluon.utils import HookHandle
from optjax.compat.mxnet.ndarray.ndarray import LazyValue, aval_of, is_pending
from optjax.compat.mxnet.ndarray import random as _random
from optjax.compat.mxnet import symbol as _sym
from optjax.compat.mxnet.symbol import naming as _naming

__all__ = ["Block", "HybridBlock"]


# -- naming ------------------------------------------------------------------------------

class _NameManager(threading.local):
    """MXNet's global name counter: ``dense0``, ``dense1``, ``conv0``... per hint."""

    def __init__(self):
        self.counter = {}

    def get(self, hint: str) -> str:
        n = self.counter.get(hint, 0)
        self.counter[hint] = n + 1
        return "%s%d" % (hint, n)


_names = _NameManager()


class _BlockScope:
    """The scope collecting child Blocks created inside ``with block.name_scope():``."""

    _current = threading.local()

    def __init__(self, block):
        self._block = block
        self._counter = {}
        self._old_scope = None
        self._name_scope = None

    @staticmethod
    def create(prefix, params, hint):
        """The prefix and ParameterDict of a new Block."""
        current = getattr(_BlockScope._current, "value", None)
        if current is None:
            if prefix is None:
                prefix = _names.get(hint) + "_"
            params = ParameterDict(prefix) if params is None else ParameterDict(params.prefix,
                                                                                params)
            return prefix, params
        if prefix is None:
            count = current._counter.get(hint, 0)
            prefix = "%s%d_" % (hint, count)
            current._counter[hint] = count + 1
        if params is None:
            parent = current._block.params
            params = ParameterDict(parent.prefix + prefix, parent._shared)
        else:
            params = ParameterDict(params.prefix, params)
        return current._block.prefix + prefix, params

    def __enter__(self):
        if self._block._empty_prefix:
            return self
        self._old_scope = getattr(_BlockScope._current, "value", None)
        _BlockScope._current.value = self
        self._name_scope = _naming.Prefix(self._block.prefix)  # symbols made inside, as MXNet
        self._name_scope.__enter__()
        return self

    def __exit__(self, ptype, value, trace):
        if self._block._empty_prefix:
            return
        self._name_scope.__exit__(ptype, value, trace)
        self._name_scope = None
        _BlockScope._current.value = self._old_scope


# -- helpers -----------------------------------------------------------------------------

class _Mode(threading.local):
    imperative = 0  # > 0 while a compiled forward is traced (children run their plain forward)


_mode = _Mode()


def _first_ctx(args):
    for a in args:
        if isinstance(a, nd.NDArray):
            return a.context
        if isinstance(a, (list, tuple)):
            c = _first_ctx(a)
            if c is not None:
                return c
    return None


def _flatten(args):
    """Nested lists/tuples of NDArrays (or None) or Symbols -> (flat list, format); as MXNet,
    a Symbol with ``n > 1`` outputs has format ``n`` (it stands for a list of ``n``)."""
    if args is None or isinstance(args, nd.NDArray):
        return [args], 0
    if isinstance(args, _sym.Symbol):
        n = len(args.list_outputs())
        return [args], n if n > 1 else 0
    if isinstance(args, (list, tuple)):
        flat, fmts = [], []
        for a in args:
            f, fmt = _flatten(a)
            flat.extend(f)
            fmts.append(fmt)
        return flat, (type(args), tuple(fmts))
    raise ValueError(f"HybridBlock inputs and outputs must be NDArrays or (nested) lists of "
                     f"them, got {type(args).__name__}")


def _regroup(flat, fmt):
    """The inverse of :func:`_flatten` (consumes ``flat`` from the front); an integer format
    ``n > 0`` (a SymbolBlock's multi-output Symbol, as MXNet) takes a list of ``n``."""
    if fmt == 0:
        return flat.pop(0)
    if isinstance(fmt, int):
        taken = flat[:fmt]
        del flat[:fmt]
        return taken
    kind, fmts = fmt
    return kind(_regroup(flat, f) for f in fmts)


def _indent(s_, num_spaces):
    s = s_.split("\n")
    if len(s) == 1:
        return s_
    first = s.pop(0)
    return first + "\n" + "\n".join((num_spaces * " ") + line for line in s)


# -- Block -------------------------------------------------------------------------------

class Block:
    """Base class of every layer and model (MXNet 1.9.1's ``gluon.Block``).

    Subclasses create children and Parameters in ``__init__`` (inside
    ``with self.name_scope():``) and define ``forward``.

    Example:
      >>> from optjax.compat.mxnet import gluon, nd
      >>> class Model(gluon.Block):
      ...     def __init__(self, **kwargs):
      ...         super().__init__(**kwargs)
      ...         with self.name_scope():
      ...             self.dense = gluon.nn.Dense(2, in_units=3)
      ...     def forward(self, x):
      ...         return self.dense(x).relu()
      >>> m = Model(prefix="model_")
      >>> m.initialize()
      >>> sorted(m.collect_params().keys())
      ['model_dense0_bias', 'model_dense0_weight']
      >>> m(nd.ones((4, 3))).shape
      (4, 2)
    """

    def __init__(self, prefix=None, params=None):
        self._empty_prefix = prefix == ""
        self._prefix, self._params = _BlockScope.create(prefix, params, self._alias())
        self._name = self._prefix[:-1] if self._prefix.endswith("_") else self._prefix
        self._scope = _BlockScope(self)
        self._children = OrderedDict()
        self._reg_params = {}
        self._forward_hooks = OrderedDict()
        self._forward_pre_hooks = OrderedDict()

    def __repr__(self):
        s = "{name}(\n{modstr}\n)"
        modstr = "\n".join("  ({key}): {block}".format(key=key, block=_indent(repr(block), 2))
                           for key, block in self.__dict__.items() if isinstance(block, Block))
        return s.format(name=self.__class__.__name__, modstr=modstr)

    def __setattr__(self, name, value):
        """Registers Blocks and Parameters assigned as attributes."""
        if hasattr(self, name):
            existing = getattr(self, name)
            if isinstance(existing, (Parameter, Block)) and not isinstance(value, type(existing)):
                raise TypeError("Changing attribute type for {name} from {type1} to {type2}"
                                "is not allowed.".format(name=name, type1=type(existing),
                                                         type2=type(value)))
        if isinstance(value, Block):
            self.register_child(value, name)
        elif isinstance(value, Parameter):
            assert name not in self._reg_params, \
                "Overriding Parameter attribute %s is not allowed. If you want to share " \
                "parameters between blocks, please set 'params' at Block construction instead."
            self._reg_params[name] = value
        super().__setattr__(name, value)

    def _check_container_with_block(self):
        children = set(id(c) for c in self._children.values())

        def unregistered(data):
            if isinstance(data, (list, tuple)):
                return any(unregistered(e) for e in data)
            if isinstance(data, dict):
                return any(unregistered(v) for v in data.values())
            return isinstance(data, Block) and id(data) not in children

        for k, v in self.__dict__.items():
            if isinstance(v, (list, tuple, dict)) and not (k.startswith("__") or k == "_children"):
                if unregistered(v):
                    warnings.warn('"{name}" is an unregistered container with Blocks. Note that '
                                  "Blocks inside the list, tuple or dict will not be registered "
                                  "automatically. Make sure to register them using "
                                  "register_child() or switching to "
                                  "nn.Sequential/nn.HybridSequential instead. ".format(
                                      name=self.__class__.__name__ + "." + k), stacklevel=3)

    def _alias(self):
        return self.__class__.__name__.lower()

    @property
    def prefix(self):
        return self._prefix

    @property
    def name(self):
        return self._name

    def name_scope(self):
        """``with block.name_scope():`` children created inside get this block's prefix."""
        return self._scope

    @property
    def params(self):
        """This Block's own ParameterDict (not its children's)."""
        return self._params

    def collect_params(self, select=None):
        """A ParameterDict of this Block's and its children's Parameters, those whose names
        match the regular expression ``select`` if given."""
        self._check_container_with_block()
        ret = ParameterDict(self._params.prefix)
        if not select:
            ret.update(self.params)
        else:
            pattern = re.compile(select)
            ret.update({name: value for name, value in self.params.items()
                        if pattern.match(name)})
        for cld in self._children.values():
            ret.update(cld.collect_params(select=select))
        return ret

    def _collect_params_with_prefix(self, prefix=""):
        if prefix:
            prefix += "."
        ret = {prefix + key: val for key, val in self._reg_params.items()}
        for name, child in self._children.items():
            ret.update(child._collect_params_with_prefix(prefix + name))
        return ret

    def save_parameters(self, filename, deduplicate=False):
        """Write the Parameters to ``filename`` in MXNet's binary format, named by structure
        (``0.weight``, ``features.1.bias``) as MXNet 1.9.1 does."""
        params = self._collect_params_with_prefix()
        if deduplicate:
            reverse_params = {v: k for k, v in params.items()}
            params = {v: k for k, v in reverse_params.items()}
        nd.save(filename, {key: val._reduce() for key, val in params.items()})

    def save_params(self, filename):
        warnings.warn("save_params is deprecated. Please use save_parameters.")
        self.collect_params().save(filename, strip_prefix=self.prefix)

    def load_parameters(self, filename, ctx=None, allow_missing=False, ignore_extra=False,
                        cast_dtype=False, dtype_source="current"):
        """Load Parameters written by :meth:`save_parameters` (or by ``collect_params().save``).

        Every name, shape and dtype is checked before any Parameter changes.
        """
        loaded = nd.load(filename)
        if not isinstance(loaded, dict):
            raise ValueError(f"'{filename}' holds a list of arrays, not named parameters")
        params = self._collect_params_with_prefix()
        if not loaded and not params:
            return
        if not any("." in i for i in loaded.keys()):
            del loaded
            self.collect_params().load(filename, ctx, allow_missing, ignore_extra, self.prefix,
                                       cast_dtype=cast_dtype, dtype_source=dtype_source)
            return
        if not allow_missing:
            params_inv = defaultdict(list)
            for k, v in params.items():
                params_inv[v].append(k)
            for name, param in params.items():
                assert any(p in loaded for p in params_inv[param]), \
                    "Parameter '%s' is missing in file '%s', which contains parameters: %s. " \
                    "Set allow_missing=True to ignore missing parameters." % (
                        name, filename, _brief(loaded.keys()))
        todo = []
        for name in loaded:
            if not ignore_extra and name not in params:
                raise ValueError(
                    "Parameter '%s' loaded from file '%s' is not present in ParameterDict, "
                    "which contains parameters %s. Set ignore_extra=True to ignore. " % (
                        name, filename, _brief(params.keys())))
            if name in params:
                params[name]._check_load(loaded[name], cast_dtype)
                todo.append((params[name], loaded[name]))
        for param, value in todo:
            param._load_init(value, ctx, cast_dtype=cast_dtype, dtype_source=dtype_source)

    def load_params(self, filename, ctx=None, allow_missing=False, ignore_extra=False):
        warnings.warn("load_params is deprecated. Please use load_parameters.")
        self.load_parameters(filename, ctx, allow_missing, ignore_extra)

    def register_child(self, block, name=None):
        """Register ``block`` as a child (attributes that are Blocks are registered already)."""
        if name is None:
            name = str(len(self._children))
        self._children[name] = block

    def register_forward_pre_hook(self, hook):
        """``hook(block, inputs)`` runs before each ``forward``."""
        handle = HookHandle()
        handle.attach(self._forward_pre_hooks, hook)
        return handle

    def register_forward_hook(self, hook):
        """``hook(block, inputs, outputs)`` runs after each ``forward``."""
        handle = HookHandle()
        handle.attach(self._forward_hooks, hook)
        return handle

    def apply(self, fn):
        """Apply ``fn(block)`` to every child (recursively), then to this block."""
        for cld in self._children.values():
            cld.apply(fn)
        fn(self)
        return self

    def initialize(self, init=_init.Uniform(), ctx=None, verbose=False, force_reinit=False):
        """``collect_params().initialize(...)``: ``init`` for Parameters without their own."""
        self.collect_params().initialize(init, ctx, verbose, force_reinit)

    def hybridize(self, active=True, **kwargs):
        """Hybridize every HybridBlock child (a plain Block itself stays imperative)."""
        for cld in self._children.values():
            cld.hybridize(active, **kwargs)

    def cast(self, dtype):
        """Cast every Parameter (and child's) to ``dtype``."""
        for child in self._children.values():
            child.cast(dtype)
        for _, param in self.params.items():
            param.cast(dtype)

    def zero_grad(self):
        self.collect_params().zero_grad()

    def __call__(self, *args):
        for hook in self._forward_pre_hooks.values():
            hook(self, args)
        out = self.forward(*args)
        for hook in self._forward_hooks.values():
            hook(self, args, out)
        return out

    def forward(self, *args):
        """The computation; override it."""
        raise NotImplementedError

    def summary(self, *inputs):
        """Print each child's output shape and parameter count for ``inputs``."""
        rows = []

        def hook(block, _, out):
            shapes = [o.shape for o in _flatten(out)[0] if o is not None]
            n = sum(int(np.prod(p.shape)) for p in block.params.values() if p.shape)
            rows.append((f"{block.__class__.__name__}-{len(rows) + 1}", shapes, n))

        handles = []
        self.apply(lambda b: handles.append(b.register_forward_hook(hook)))
        try:
            self(*inputs)
        finally:
            for h in handles:
                h.detach()
        for name, shapes, n in rows:
            print(f"{name:>30} {str(shapes):>30} {n:>12}")


class HybridBlock(Block):
    """A Block whose computation is ``hybrid_forward(F, x, *args, **params)`` and can be
    compiled with ``hybridize()`` (``jax.jit``).

    Example:
      >>> from optjax.compat.mxnet import gluon, nd
      >>> class Scale(gluon.HybridBlock):
      ...     def __init__(self, **kwargs):
      ...         super().__init__(**kwargs)
      ...         with self.name_scope():
      ...             self.w = self.params.get("w", shape=(1,), init="ones")
      ...     def hybrid_forward(self, F, x, w):
      ...         return F.broadcast_mul(x, w) * 2
      >>> s = Scale()
      >>> s.initialize()
      >>> s.hybridize()
      >>> s(nd.ones((2,))).asnumpy().tolist()
      [2.0, 2.0]
    """

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._active = False
        self._flags = []
        self._checked = False
        self._cached = None

    def __setattr__(self, name, value):
        super().__setattr__(name, value)
        if isinstance(value, HybridBlock):
            self._clear_cached_op()

    def register_child(self, block, name=None):
        if not isinstance(block, HybridBlock):
            raise ValueError(
                "Children of HybridBlock must also be HybridBlock, but %s has type %s. If you "
                "are using Sequential, please try HybridSequential instead." % (
                    str(block), str(type(block))))
        super().register_child(block, name)
        self._clear_cached_op()

    def _clear_cached_op(self):
        self._cached = None

    def hybridize(self, active=True, backend=None, clear=True, static_alloc=False,
                  static_shape=False, inline_limit=2, forward_bulk_size=None,
                  backward_bulk_size=None, **kwargs):
        """Compile the forward (and its backward) with ``jax.jit`` from the next call on.

        ``static_alloc``/``static_shape`` are accepted; XLA allocates statically anyway.
        """
        if backend is not None:
            raise NotImplementedError("hybridize(backend=...) is not supported by the optjax shim")
        self._active = active
        self._flags = [("static_alloc", static_alloc), ("static_shape", static_shape),
                       ("inline_limit", inline_limit)]
        if clear:
            self._clear_cached_op()
        if active and (self._forward_hooks or self._forward_pre_hooks):
            warnings.warn('"{block}" is being hybridized while still having forward hook/'
                          'pre-hook. If "{block}" is a child of HybridBlock, the hooks will not '
                          "take effect.".format(block=self))
        super().hybridize(active, static_alloc=static_alloc, static_shape=static_shape,
                          inline_limit=inline_limit)

    def cast(self, dtype):
        self._clear_cached_op()
        super().cast(dtype)

    def infer_shape(self, *args):
        """Complete deferred Parameter shapes from the inputs (runs one forward pass)."""
        with autograd.pause(False):
            self._imperative_call(args)

    def export(self, path, epoch=0, remove_amp_cast=True):
        """Write ``path-symbol.json`` (the block's graph, built by calling ``hybrid_forward``
        with ``F = mx.sym``) and ``path-%04d.params`` (``arg:``/``aux:`` names), as MXNet
        1.9.1 does; both load in real MXNet (``SymbolBlock.imports``, ``mx.mod.Module``).
        The block must be hybridized and called once first (the inputs' structure comes
        from that call); one input is named ``data``, several ``data0``, ``data1``...
        Returns ``(symbol file, params file)``."""
        last = getattr(self, "_last_inputs", None)
        if not self._active or last is None:
            raise RuntimeError(
                "Please first call block.hybridize() and then run forward with "
                "this block at least once before calling export.")
        sym = self._get_graph(*last)[1]
        sym_file = "%s-symbol.json" % path
        sym.save(sym_file, remove_amp_cast=remove_amp_cast)
        arg_names = set(sym.list_arguments())
        aux_names = set(sym.list_auxiliary_states())
        params = {p.name: p for p in self.collect_params().values()}
        arg_dict = {}
        for name in sym.list_inputs():
            if name in params:
                kind = "arg" if name in arg_names else "aux"
                arg_dict[f"{kind}:{name}"] = params[name]._reduce()
        for name in params:
            if name not in arg_names and name not in aux_names:
                warnings.warn('Parameter "{name}" is not found in the graph. '.format(name=name),
                              stacklevel=2)
        params_file = "%s-%04d.params" % (path, epoch)
        nd.save(params_file, arg_dict)
        return sym_file, params_file

    def _get_graph(self, in_fmt, absent):
        """``(input variables, output Symbol)``: ``hybrid_forward`` called with ``F = mx.sym``
        on variables named as MXNet names them (``data`` or ``data0``, ``data1``...), for
        inputs of structure ``in_fmt`` (:func:`_flatten`) with ``absent`` None ones."""
        real = sum(not a for a in absent)
        if real == 0:
            raise ValueError("All args are None and we do not support such a case.")
        inputs, symbols = [], []
        for a in absent:
            if a:
                inputs.append(None)
                continue
            v = _sym.var("data{}".format(len(symbols)) if real > 1 else "data")
            inputs.append(v)
            symbols.append(v)
        out = self._symbol_forward(*_regroup(inputs, in_fmt))
        outs = out if isinstance(out, (list, tuple)) else [out]
        return symbols, _sym.Group(list(outs))

    def _symbol_forward(self, x, *args):
        params = {k: p.var() for k, p in self._reg_params.items()}
        with self.name_scope():
            return self.hybrid_forward(_sym, x, *args, **params)

    # -- the imperative forward -------------------------------------------------------------
    def forward(self, x, *args):
        """Run ``hybrid_forward`` with ``F = mx.nd`` (compiled when hybridized)."""
        if isinstance(x, nd.NDArray) or (x is None and args) or isinstance(x, (list, tuple)):
            if self._active and not _mode.imperative:
                return self._call_cached_op(x, *args)
            return self._forward_nd(x, *args)
        if isinstance(x, _sym.Symbol):
            return self._symbol_forward(x, *args)
        raise ValueError("In HybridBlock, there must be one NDArray in the input (mx.sym "
                         f"inputs go through the symbol front end), got {type(x).__name__}")

    def _forward_nd(self, x, *args):
        ctx = _first_ctx((x,) + args) or current_context()
        with ctx:
            params, first = {}, not self._checked
            for k, p in self._reg_params.items():
                if p._is_deferred():
                    params[k], first = Pending(p), True
                else:
                    params[k] = p.data(ctx)
            if not first:
                return self.hybrid_forward(nd, x, *args, **params)
            F = FirstPassF(self, {p: params[k] for k, p in self._reg_params.items()}, ctx)
            out = self.hybrid_forward(F, x, *args, **params)
            self._checked = not any(p._is_deferred() for p in self._reg_params.values())
            return out

    def _imperative_call(self, args):
        _mode.imperative += 1
        try:
            return self.forward(*args)
        finally:
            _mode.imperative -= 1

    def hybrid_forward(self, F, x, *args, **kwargs):
        """The computation with ``F`` the operator namespace; override it."""
        raise NotImplementedError

    # -- the compiled forward ---------------------------------------------------------------
    def _build_cache(self, args):
        params = list(self.collect_params().values())
        if any(p._is_deferred() for p in params) or not self._all_checked():
            with autograd.pause(False):
                self._imperative_call(args)
        out_fmt = {}

        def run(pvals, xs, key, is_train, in_fmt):
            mapping = {p: nd.from_jax(v) for p, v in zip(params, pvals)}
            inputs = _regroup([None if x is None else nd.from_jax(x) for x in xs], in_fmt)
            with overrides(mapping), _random.traced_stream(key) as stream, \
                    autograd.pause(is_train), autograd.collect_aux_updates() as deferred:
                out = self._imperative_call(inputs)
            out_fmt[("key", is_train, in_fmt)] = stream.used
            flat, out_fmt["out"] = _flatten(out)
            changed = {i: mapping[p]._data for i, p in enumerate(params)
                       if mapping[p]._store.value is not pvals[i]}
            index = {id(mapping[p]._store): i for i, p in enumerate(params)}
            deferred = [(index[id(box._store)], m, v) for box, m, v in deferred
                        if id(box._store) in index]  # a Parameter's, not a temporary's
            out_fmt[("aux", is_train)] = [(i, m) for i, m, _ in deferred]
            return tuple(o._data for o in flat), (changed, tuple(v for _, _, v in deferred))

        self._cached = (params, run, jax.jit(run, static_argnums=(3, 4)), out_fmt)
        self._deferred_shapes = {}  # output shapes of deferred calls, by input shapes

    def _all_checked(self):
        return self._checked and all(
            c._all_checked() for c in self._children.values() if isinstance(c, HybridBlock))

    def _call_cached_op(self, *args):
        flat_in, in_fmt = _flatten(args)
        ctxs = {x.context for x in flat_in if x is not None}
        if len(ctxs) > 1:
            raise ValueError("Find multiple contexts in the input, After hybridized, the "
                             "HybridBlock only supports one input context. You can print the "
                             "ele.ctx in the input arguments to inspect their contexts. Find all "
                             "contexts = {}".format(ctxs))
        ctx = ctxs.pop() if ctxs else current_context()
        if self._cached is None:
            self._build_cache(args)
        params, run, compiled, out_fmt = self._cached
        self._last_inputs = (in_fmt, tuple(x is None for x in flat_in))  # for export()
        pdata = [p.data(ctx) for p in params]
        is_train = autograd.is_training()
        pvals = tuple(d._data for d in pdata)
        key = self._key(pvals, flat_in, is_train, in_fmt)
        recording = autograd.is_recording()
        outs = self._deferred_call(pvals, flat_in, key, is_train, in_fmt, ctx) \
            if recording and autograd.aux_sink() is None else None
        if outs is None:
            xvals = tuple(None if x is None else x._data for x in flat_in)
            outs, (changed, increments) = compiled(pvals, xvals, key, is_train, in_fmt)
            for i, value in changed.items():
                pdata[i]._data = value
            outs = [nd.from_jax(o, ctx) for o in outs] + \
                [nd.from_jax(v, ctx) for v in increments]
            lazy = None
        else:
            lazy = outs[0]._store.pending
        n_out = len(outs) - len(out_fmt[("aux", is_train)])
        out_nds = outs[:n_out]
        if recording:  # moving statistics change in the backward pass, as MXNet
            aux_updates = [(pdata[i], m, v)
                           for (i, m), v in zip(out_fmt[("aux", is_train)], outs[n_out:])]
            fn = recorded_forward(run, len(pdata), len(flat_in), n_out, is_train, in_fmt)
            autograd.record_fn(fn, fn, pdata + list(flat_in) + [key], {}, outs, aux_updates,
                               lazy)
        return _regroup(out_nds, out_fmt["out"])

    def _key(self, pvals, flat_in, is_train, in_fmt):
        """A key from the global stream when the forward draws random numbers (dropout
        in training), else a constant one that it never reads: like an imperative call
        and a bound symbol, a forward without randomness leaves the stream as it is.
        Whether it draws is learnt by the abstract trace of :meth:`_output_shapes`."""
        out_fmt = self._cached[3]
        flag = ("key", is_train, in_fmt)
        if flag not in out_fmt:
            self._output_shapes(pvals, flat_in, is_train, in_fmt)
        return _random.next_key() if out_fmt[flag] else _random.unused_key()

    def _output_shapes(self, pvals, flat_in, is_train, in_fmt):
        """The forward's outputs and moving-average increments as shapes, or False when
        it writes auxiliary values; one abstract trace per input and parameter shapes
        (it also records whether the forward draws a key)."""
        run = self._cached[1]
        in_avals = tuple(aval_of(x) for x in flat_in)
        cache_key = (is_train, in_fmt, in_avals, tuple((v.shape, v.dtype) for v in pvals))
        shapes = self._deferred_shapes.get(cache_key)
        if shapes is None:
            outs, (changed, increments) = jax.eval_shape(
                lambda pv, xv, k: run(pv, xv, k, is_train, in_fmt), pvals, in_avals,
                _random.unused_key())
            shapes = False if changed else tuple(outs) + tuple(increments)
            if len(self._deferred_shapes) > 64:
                self._deferred_shapes.clear()
            self._deferred_shapes[cache_key] = shapes
        return shapes

    def _deferred_call(self, pvals, flat_in, key, is_train, in_fmt, ctx):
        """The call's outputs and moving-average increments as pending NDArrays (computed
        by ``backward``'s compiled replay, fused with the loss and the gradient, or at the
        first read), or None when the call must run now (it writes auxiliary values)."""
        compiled = self._cached[2]
        shapes = self._output_shapes(pvals, flat_in, is_train, in_fmt)
        if shapes is False:
            return None
        n_p, n_in = len(pvals), len(flat_in)

        def compute(*arrays):
            outs, (_, increments) = compiled(arrays[:n_p], arrays[n_p:n_p + n_in],
                                             arrays[-1], is_train, in_fmt)
            return tuple(outs) + tuple(increments)

        args = list(pvals) + [x if x is None or is_pending(x) else x._data
                              for x in flat_in] + [key]
        return LazyValue(compute, args, shapes).outputs(ctx)
