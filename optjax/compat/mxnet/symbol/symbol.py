"""``mx.sym``: MXNet 1.9.1's ``Symbol`` over the operator registry.

A :class:`Symbol` is a list of outputs of graph nodes (:mod:`.graph`).
``mx.sym.<Operator>(...)`` exists for every registered operator and names its
node and the variables it creates as MXNet does (``fc`` -> ``fc_weight``,
``fc_bias``; ``BatchNorm`` -> ``batchnorm0_moving_mean``...). Shapes and dtypes
are inferred from the operators' ``param_shapes`` and ``jax.eval_shape``;
``bind``/``simple_bind`` return an :class:`~.executor.Executor` that runs the
graph as one compiled JAX function.

Example:
    >>> import optjax.compat.mxnet as mx
    >>> data = mx.sym.Variable("data")
    >>> out = mx.sym.exp(data * 2, name="e")
    >>> out.list_arguments(), out.list_outputs()
    (['data'], ['e_output'])
    >>> out.infer_shape(data=(2, 3))
    ([(2, 3)], [(2, 3)], [])
"""

from __future__ import annotations

import json
import os

import jax
import numpy as np

from optjax.compat.mxnet.base import MXNetError
from optjax.compat.mxnet.ndarray.dtypes import np_dtype
from optjax.compat.mxnet.symbol import graph as _graph
from optjax.compat.mxnet.symbol.naming import AttrScope, NameManager

__all__ = ["Symbol", "Variable", "var", "Group", "load", "load_json", "make_op", "maximum",
           "minimum", "power", "pow", "hypot",
           "DTYPE_NP_TO_MX", "DTYPE_MX_TO_NP"]

DTYPE_NP_TO_MX = {np.dtype(np.float32): 0, np.dtype(np.float64): 1, np.dtype(np.float16): 2,
                  np.dtype(np.uint8): 3, np.dtype(np.int32): 4, np.dtype(np.int8): 5,
                  np.dtype(np.int64): 6, np.dtype(np.bool_): 7, np.dtype(np.int16): 8,
                  np.dtype(np.uint16): 9, np.dtype(np.uint32): 10, np.dtype(np.uint64): 11}
DTYPE_MX_TO_NP = {v: k for k, v in DTYPE_NP_TO_MX.items()}
_HIDDEN = ("ctx_group", "lr_mult", "wd_mult", "force_mirroring", "mirror_stage", "profiler_scope")


class Symbol:
    """One or more outputs of a graph (MXNet's ``Symbol``)."""

    __array_priority__ = 1000.0

    def __init__(self, heads):
        self._heads = list(heads)  # [(Node, output index)]

    # -- structure -----------------------------------------------------------------------
    def _order(self):
        return _graph.topo_order(self._heads)

    def _split_vars(self):
        order = self._order()
        aux = _graph.aux_variables(order)
        args = [n for n in order if n.op is None and id(n) not in aux]
        auxs = [n for n in order if n.op is None and id(n) in aux]
        return order, args, auxs

    @property
    def name(self):
        """The node's name (None for a group of several outputs)."""
        if len(self._heads) != 1:
            return None
        return self._heads[0][0].name

    def list_arguments(self) -> list:
        return [n.name for n in self._split_vars()[1]]

    def list_auxiliary_states(self) -> list:
        return [n.name for n in self._split_vars()[2]]

    def list_inputs(self) -> list:
        return [n.name for n in self._order() if n.op is None]

    def list_outputs(self) -> list:
        return [n.output_names()[i] for n, i in self._heads]

    def get_internals(self) -> "Symbol":
        """Every output of every node, in graph order (``fc_output``, ``fc_weight``, ...)."""
        heads = []
        for n in self._order():
            heads += [(n, i) for i in range(n.num_outputs())]
        return Symbol(heads)

    def get_children(self):
        """The inputs of this (single-output) symbol's node, grouped; None for a variable."""
        node = self._heads[0][0]
        if not node.inputs:
            return None
        return Symbol(node.inputs)

    def __len__(self):
        return len(self._heads)

    def __iter__(self):
        return (Symbol([h]) for h in self._heads)

    def __getitem__(self, index):
        if isinstance(index, str):
            names = self.list_outputs()
            idx = [k for k, n in enumerate(names) if n == index]
            if not idx:
                raise ValueError(f"There is no output named {index!r}; outputs: {names}")
            if len(idx) > 1:
                raise ValueError(f"There are multiple outputs with name {index!r}")
            index = idx[0]
        if isinstance(index, slice):
            return Symbol(self._heads[index])
        if not isinstance(index, int):
            raise TypeError(f"Symbol indices must be integers, slices or output names, not "
                            f"{type(index).__name__}")
        if not -len(self._heads) <= index < len(self._heads):
            raise IndexError(f"Symbol output index {index} out of range "
                             f"({len(self._heads)} outputs)")
        return Symbol([self._heads[index]])

    def __repr__(self):
        if len(self._heads) == 1:
            return f"<Symbol {self.name}>"
        return "<Symbol group [" + ", ".join(n.name for n, _ in self._heads) + "]>"

    def __copy__(self):
        return self.__deepcopy__({})

    def __deepcopy__(self, memo):
        return load_json(self.tojson())

    def __getstate__(self):
        return {"json": self.tojson()}

    def __setstate__(self, state):
        self._heads = _graph.from_json(state["json"])

    def __call__(self, *args, **kwargs):
        """A copy with arguments replaced by symbols (MXNet's ``compose``): positional in
        ``list_arguments`` order, or by name."""
        kwargs.pop("name", None)
        arg_names = self.list_arguments()
        if len(args) > len(arg_names):
            raise TypeError(f"compose: {len(args)} symbols for {len(arg_names)} arguments")
        subs = dict(zip(arg_names, args))
        for k, v in kwargs.items():
            if k not in arg_names:
                raise ValueError(f"compose: {k!r} is not an argument; arguments are {arg_names}")
            subs[k] = v
        for k, v in subs.items():
            if not isinstance(v, Symbol) or len(v._heads) != 1:
                raise TypeError(f"compose: {k!r} must be a single-output Symbol")
        memo = {}

        def entry(node, i):
            if node.op is None:
                return subs[node.name]._heads[0] if node.name in subs else (node, i)
            if id(node) not in memo:
                new = _graph.Node(node.op, node.name, node.attrs, [entry(*e) for e in node.inputs])
                memo[id(node)] = new
            return memo[id(node)], i

        return Symbol([entry(n, i) for n, i in self._heads])

    # -- attributes ------------------------------------------------------------------------
    def attr(self, key: str):
        """The attribute ``key`` of this symbol's node (string), or None."""
        if len(self._heads) != 1:
            return None
        attrs = self._heads[0][0].attrs
        if key in attrs:
            return attrs[key]
        hidden = f"__{key}__"
        return attrs.get(hidden) if key in _HIDDEN else None

    @staticmethod
    def _visible(attrs):
        out = dict(attrs)
        for k, v in attrs.items():
            if k.startswith("__") and k.endswith("__") and k[2:-2] in _HIDDEN:
                out[k[2:-2]] = v
        return out

    def list_attr(self, recursive: bool = False) -> dict:
        if recursive:
            raise DeprecationWarning("Symbol.list_attr with recursive=True has been deprecated. "
                                     "Please use attr_dict instead.")
        if len(self._heads) != 1:
            return {}
        return self._visible(self._heads[0][0].attrs)

    def attr_dict(self) -> dict:
        """``{node name: {key: value}}`` for every node with attributes."""
        return {n.name: self._visible(n.attrs) for n in self._order() if n.attrs}

    def _set_attr(self, **kwargs):
        for k, v in kwargs.items():
            if not isinstance(v, str):
                raise ValueError("Set Attr only accepts string values")
            key = f"__{k}__" if k in _HIDDEN else k
            for node, _ in self._heads:
                node.attrs[key] = v
                node._kwargs = None
        for node in self._order():  # compiled programs read the attributes when traced
            node.programs.clear()

    # -- composition -----------------------------------------------------------------------
    def _binary(self, other, op, hint, scalar_op, scalar_hint, reverse=False):
        if isinstance(other, Symbol):
            args = (other, self) if reverse else (self, other)
            return _apply(op, hint, list(args), {})
        if isinstance(other, (int, float, np.generic)):
            return _apply(scalar_op, scalar_hint, [self], {"scalar": other})
        return NotImplemented

    def __add__(self, other):
        return self._binary(other, "elemwise_add", "_plus", "_add_scalar", "_plusscalar")

    __radd__ = __add__

    def __sub__(self, other):
        return self._binary(other, "elemwise_sub", "_minus", "_sub_scalar", "_minusscalar")

    def __rsub__(self, other):
        return self._binary(other, "elemwise_sub", "_minus", "_rsub_scalar", "_rminusscalar", True)

    def __mul__(self, other):
        return self._binary(other, "elemwise_mul", "_mul", "_mul_scalar", "_mulscalar")

    __rmul__ = __mul__

    def __truediv__(self, other):
        return self._binary(other, "elemwise_div", "_div", "_div_scalar", "_divscalar")

    def __rtruediv__(self, other):
        return self._binary(other, "elemwise_div", "_div", "_rdiv_scalar", "_rdivscalar", True)

    def __mod__(self, other):
        return self._binary(other, "broadcast_mod", "_mod", "_mod_scalar", "_modscalar")

    def __rmod__(self, other):
        return self._binary(other, "broadcast_mod", "_mod", "_rmod_scalar", "_rmodscalar", True)

    def __pow__(self, other):
        return self._binary(other, "broadcast_power", "_power", "_power_scalar", "_powerscalar")

    def __rpow__(self, other):
        return self._binary(other, "broadcast_power", "_power",
                            "_rpower_scalar", "_rpowerscalar", True)

    def __eq__(self, other):
        return self._binary(other, "broadcast_equal", "_equal", "_equal_scalar", "_equalscalar")

    def __ne__(self, other):
        return self._binary(other, "broadcast_not_equal", "_not_equal",
                            "_not_equal_scalar", "_notequalscalar")

    def __gt__(self, other):
        return self._binary(other, "broadcast_greater", "_greater",
                            "_greater_scalar", "_greaterscalar")

    def __ge__(self, other):
        return self._binary(other, "broadcast_greater_equal", "_greater_equal",
                            "_greater_equal_scalar", "_greaterequalscalar")

    def __lt__(self, other):
        return self._binary(other, "broadcast_lesser", "_lesser", "_lesser_scalar", "_lesserscalar")

    def __le__(self, other):
        return self._binary(other, "broadcast_lesser_equal", "_lesser_equal",
                            "_lesser_equal_scalar", "_lesserequalscalar")

    def __neg__(self):
        return self.__mul__(-1.0)

    __hash__ = object.__hash__

    def __getattr__(self, name):
        """Operators as methods: ``x.reshape(shape=...)``, ``x.sum(axis=1)``."""
        if name.startswith("_"):
            raise AttributeError(name)
        from optjax.compat.mxnet.ops import registry
        if name in registry.OPS:
            fn = make_op(registry.OPS[name], name)
            return lambda *a, **k: fn(self, *a, **k)
        raise AttributeError(f"'Symbol' object has no attribute {name!r}")

    # -- inference -------------------------------------------------------------------------
    def _infer(self, shapes: dict, dtypes: dict):
        """``({var name: ShapeDtypeStruct|None}, [head struct|None])`` from known inputs."""
        order = self._order()
        known = {}  # id(node) -> list of ShapeDtypeStruct per output (None unknown)
        var_info = {}
        for node in order:
            if node.op is None:
                shape = shapes.get(node.name)
                if shape is None and "__shape__" in node.attrs:
                    s = _graph.parse_attr(node.attrs["__shape__"], "tuple")
                    if s and all(d > 0 for d in s):
                        shape = s
                dt = dtypes.get(node.name)
                if dt is None and node.attrs.get("__dtype__", "-1") not in ("-1", ""):
                    dt = DTYPE_MX_TO_NP[int(node.attrs["__dtype__"])]
                var_info[id(node)] = [shape, dt]

        def struct(node, i=0):
            if node.op is None:
                s, d = var_info[id(node)]
                return None if s is None else jax.ShapeDtypeStruct(tuple(s), np_dtype(d))
            return known[id(node)][i] if known.get(id(node)) else None

        for node in order:
            if node.op is None:
                continue
            ins = [struct(src, i) for src, i in node.inputs]
            shape_fn = node.op.param_shapes
            if any(x is None for x in ins) and ins and ins[0] is not None and \
                    shape_fn is not None:
                try:
                    want = shape_fn(tuple(ins[0].shape), **node.kwargs())
                except Exception as e:  # noqa: BLE001 - report with the node's name
                    raise MXNetError(f"infer_shape: operator {node.op.name} (node "
                                     f"{node.name!r}) with data shape {tuple(ins[0].shape)}: "
                                     f"{e}") from None
                names = node.input_names()
                for k, (src, _) in enumerate(node.inputs):
                    if ins[k] is None and src.op is None and names[k] in want:
                        info = var_info[id(src)]
                        info[0] = tuple(want[names[k]])
                        if info[1] is None:
                            info[1] = ins[0].dtype
                        ins[k] = jax.ShapeDtypeStruct(info[0], np_dtype(info[1]))
            if any(x is None for x in ins):
                known[id(node)] = None
                continue
            try:
                outs = jax.eval_shape(
                    lambda *a, _n=node: _graph.call_node(_n, a, jax.random.PRNGKey(0), True)[0],
                    *ins)
            except Exception as e:  # noqa: BLE001
                shapes_txt = ", ".join(f"{n}={tuple(x.shape)}" for n, x in
                                       zip(node.input_names(), ins))
                raise MXNetError(f"infer_shape error. Arguments: operator {node.op.name} "
                                 f"(node {node.name!r}) with inputs {shapes_txt}: {e}") from None
            known[id(node)] = list(outs)
        heads = [struct(n, i) for n, i in self._heads]
        infos = {node.name: struct(node) for node in order if node.op is None}
        return infos, heads

    def _known_inputs(self, args, kwargs, what):
        names = self.list_arguments()
        given = {}
        if args:
            if len(args) > len(names):
                raise MXNetError(f"{what}: {len(args)} positional values for the "
                                 f"{len(names)} arguments {names}")
            for n, v in zip(names, args):
                if v is not None:
                    given[n] = v
        for k, v in kwargs.items():
            if k not in self.list_inputs():
                raise MXNetError(f"{what}: {k!r} is not an input of the symbol; inputs are "
                                 f"{self.list_inputs()}")
            given[k] = v
        return given

    def infer_shape(self, *args, **kwargs):
        """``(arg_shapes, out_shapes, aux_shapes)`` from some input shapes; ``(None, None,
        None)`` when they do not determine every shape."""
        res = self._infer_shape_impl(False, *args, **kwargs)
        return res

    def infer_shape_partial(self, *args, **kwargs):
        return self._infer_shape_impl(True, *args, **kwargs)

    def _infer_shape_impl(self, partial, *args, **kwargs):
        given = {k: tuple(int(d) for d in v)
                 for k, v in self._known_inputs(args, kwargs, "infer_shape").items()}
        infos, heads = self._infer(given, {})
        _, argn, auxn = self._split_vars()
        arg = [infos[n.name] for n in argn]
        aux = [infos[n.name] for n in auxn]
        if not partial and (any(x is None for x in arg + aux + heads)):
            import warnings
            missing = [n.name for n, x in zip(argn + auxn, arg + aux) if x is None]
            warnings.warn("Cannot decide shape for the following arguments "
                          "(0s in shape means unknown dimensions). Consider providing them as "
                          f"input:\n\t{missing}", stacklevel=3)
            return None, None, None
        sh = lambda x: () if x is None else tuple(x.shape)  # noqa: E731
        return [sh(x) for x in arg], [sh(x) for x in heads], [sh(x) for x in aux]

    def infer_type(self, *args, **kwargs):
        """``(arg_types, out_types, aux_types)`` as NumPy types from some input types.

        Types flow forward: an operator's outputs take its ``dtype`` attribute when it
        has one (``Cast``), else the type of its first typed input, and its untyped
        inputs (weights, labels) take that type too, as MXNet's operators infer them.
        ``(None, None, None)`` with a warning when some argument stays untyped.
        """
        names = self.list_arguments()
        types = {}
        for n, v in zip(names, args):
            if v is not None:
                types[n] = np_dtype(v)
        for k, v in kwargs.items():
            if k not in self.list_inputs():
                raise MXNetError(f"infer_type: {k!r} is not an input of the symbol; inputs "
                                 f"are {self.list_inputs()}")
            types[k] = np_dtype(v)
        order, argn, auxn = self._split_vars()
        for n in argn + auxn:
            if n.name not in types and n.attrs.get("__dtype__", "-1") not in ("-1", ""):
                types[n.name] = DTYPE_MX_TO_NP[int(n.attrs["__dtype__"])]
        out_types = {}
        for node in order:
            if node.op is None:
                continue
            ins = [types.get(src.name) if src.op is None else out_types[id(src)]
                   for src, _ in node.inputs]
            dtype = node.kwargs().get("dtype")
            t = np_dtype(dtype) if dtype not in (None, "None") else next(
                (d for d in ins if d is not None), None)
            for (src, _), d in zip(node.inputs, ins):
                if d is None and src.op is None and t is not None:
                    types[src.name] = t
            out_types[id(node)] = t
        missing = [n.name for n in argn + auxn if types.get(n.name) is None]
        if missing:
            import warnings
            warnings.warn("Cannot decide type for the following arguments. Consider providing "
                          f"them as input:\n\t{missing}", stacklevel=2)
            return None, None, None

        def of(node):
            t = types.get(node.name) if node.op is None else out_types[id(node)]
            return (t if t is not None else np.dtype(np.float32)).type

        return [of(n) for n in argn], [of(n) for n, _ in self._heads], [of(n) for n in auxn]

    # -- serialization ---------------------------------------------------------------------
    def tojson(self, remove_amp_cast: bool = True) -> str:
        return _graph.to_json(self._heads)

    def save(self, fname: str, remove_amp_cast: bool = True) -> None:
        if not isinstance(fname, str):
            raise TypeError("fname need to be string")
        with open(fname, "w") as f:
            f.write(self.tojson())

    # -- execution -------------------------------------------------------------------------
    def simple_bind(self, ctx=None, grad_req="write", type_dict=None, stype_dict=None,
                    group2ctx=None, shared_arg_names=None, shared_exec=None, shared_buffer=None,
                    **kwargs):
        """An executor with zero-filled arrays of the inferred shapes (``kwargs``: input shapes)."""
        from optjax.compat.mxnet.symbol.executor import Executor
        return Executor.simple(self, ctx, grad_req, type_dict or {}, kwargs)

    def bind(self, ctx=None, args=None, args_grad=None, grad_req="write", aux_states=None,
             group2ctx=None, shared_exec=None):
        """An executor over the given NDArrays (lists in ``list_arguments`` order, or dicts)."""
        from optjax.compat.mxnet.symbol.executor import Executor
        return Executor(self, ctx, args, args_grad, grad_req, aux_states)

    def eval(self, ctx=None, **kwargs):
        """Forward once with the given input NDArrays; the list of outputs."""
        ex = self.bind(ctx, kwargs, grad_req="null")
        return ex.forward()


# -- construction ------------------------------------------------------------------------------

def _attr_str(key, value) -> str:
    if key == "dtype" and value is not None and not isinstance(value, str):
        return np.dtype(value).name
    if isinstance(value, list):
        value = tuple(value)
    if isinstance(value, (np.generic,)):
        value = value.item()
    return str(value)


def Variable(name: str, attr=None, shape=None, lr_mult=None, wd_mult=None, dtype=None,
             init=None, stype=None, profiler_scope=None, **kwargs) -> Symbol:
    """A placeholder for an argument (data, label or parameter) named ``name``."""
    if not isinstance(name, str):
        raise TypeError("Expect a string for variable `name`")
    attrs = AttrScope.current.get(attr)
    if shape is not None:
        attrs["__shape__"] = str(tuple(shape))
    if lr_mult is not None:
        attrs["__lr_mult__"] = str(lr_mult)
    if wd_mult is not None:
        attrs["__wd_mult__"] = str(wd_mult)
    if dtype is not None:
        attrs["__dtype__"] = str(DTYPE_NP_TO_MX[np_dtype(dtype)])
    if init is not None:
        attrs["__init__"] = init if isinstance(init, str) else init.dumps()
    if stype is not None:
        attrs["__storage_type__"] = str({"default": 0, "row_sparse": 1, "csr": 2}[stype])
    for k, v in kwargs.items():
        if k.startswith("__") and k.endswith("__"):
            attrs[k] = str(v)
        else:
            raise ValueError(f"Attribute name={k} is not supported. Additional attributes must "
                             "start and end with double underscores, e.g, __yourattr__")
    return Symbol([(_graph.Node(None, name, attrs, []), 0)])


var = Variable


def Group(symbols) -> Symbol:
    """One symbol whose outputs are the outputs of ``symbols``, in order."""
    if not symbols or any(not isinstance(s, Symbol) for s in symbols):
        raise TypeError("Expected a list of symbols as input")
    heads = []
    for s in symbols:
        heads += s._heads
    return Symbol(heads)


def _binary_function(kind, scalar_fn):
    def fn(left, right):
        if isinstance(left, Symbol) and isinstance(right, Symbol):
            return _apply(f"broadcast_{kind}", f"_{kind}", [left, right], {})
        if isinstance(left, Symbol):
            return _apply(f"_{kind}_scalar", f"_{kind}scalar", [left], {"scalar": right})
        if isinstance(right, Symbol):
            rev = f"_r{kind}_scalar"
            from optjax.compat.mxnet.ops import registry
            if rev in registry.OPS:
                return _apply(rev, f"_r{kind}scalar", [right], {"scalar": left})
            return _apply(f"_{kind}_scalar", f"_{kind}scalar", [right], {"scalar": left})
        return scalar_fn(left, right)
    fn.__name__ = fn.__qualname__ = kind
    fn.__doc__ = (f"``{kind}(left, right)`` of symbols and/or numbers (MXNet's "
                  f"``mx.sym.{kind}``).")
    return fn


maximum = _binary_function("maximum", max)
minimum = _binary_function("minimum", min)
power = pow = _binary_function("power", lambda a, b: a ** b)
hypot = _binary_function("hypot", lambda a, b: (a * a + b * b) ** 0.5)


def load_json(json_str: str) -> Symbol:
    """A symbol from MXNet's symbol JSON text."""
    if not isinstance(json_str, str):
        raise TypeError("json_str needs to be string")
    return Symbol(_graph.from_json(json_str))


def load(fname: str) -> Symbol:
    """A symbol from a ``-symbol.json`` file written by MXNet or :meth:`Symbol.save`."""
    if not isinstance(fname, str):
        raise TypeError("fname needs to be string")
    if not os.path.isfile(fname):
        raise MXNetError(f"symbol file {fname!r} does not exist")
    with open(fname) as f:
        return load_json(f.read())


def _apply(opname, hint, inputs, attrs, name=None, attr=None):
    from optjax.compat.mxnet.ops import registry
    return _compose(registry.get(opname), hint, inputs, {}, attrs, name, attr)


def _compose(op, hint, inputs, named_inputs, attrs, name, attr):
    """A node applying ``op``: missing required inputs become variables ``<name>_<input>``."""
    str_attrs = {k: _attr_str(k, v) for k, v in attrs.items() if v is not None}
    if "num_args" in op.attr_names and op.variadic:
        str_attrs["num_args"] = str(len(inputs))
    scope = AttrScope.current.get(attr)
    name = NameManager.current.get(name, hint)
    node_attrs = dict(scope)
    node_attrs.update(str_attrs)
    node = _graph.Node(op, name, node_attrs, [])
    kwargs = node.kwargs()  # validates the attributes
    if op.variadic:
        for s in inputs:
            if not isinstance(s, Symbol) or len(s._heads) != 1:
                raise TypeError(f"{op.name}: inputs must be single-output Symbols")
        node.inputs = [s._heads[0] for s in inputs]
        return Symbol([(node, 0)])
    names = list(op.inputs) + list(op.aux)
    given = dict(named_inputs)
    for k, s in enumerate(inputs):
        if k >= len(names):
            raise TypeError(f"{op.name}: too many inputs ({len(inputs)}); it takes {names}")
        if names[k] in given:
            raise TypeError(f"{op.name}: input {names[k]!r} given twice")
        given[names[k]] = s
    unknown = set(given) - set(names)
    if unknown:
        raise TypeError(f"{op.name}: unknown inputs {sorted(unknown)}; it takes {names}")
    wanted = _graph.wanted_inputs(op, kwargs, present=set(given))
    for n in wanted:
        s = given.get(n)
        if s is None:
            vattrs = dict(str_attrs)
            if (op.name, n) in _graph.INPUT_INIT:
                vattrs["__init__"] = _graph.INPUT_INIT[(op.name, n)]
            vattrs.update(scope)
            s = Symbol([(_graph.Node(None, f"{name}_{n}", vattrs, []), 0)])
        if not isinstance(s, Symbol) or len(s._heads) != 1:
            raise TypeError(f"{op.name}: input {n!r} must be a single-output Symbol, got "
                            f"{type(s).__name__}")
        node.inputs.append(s._heads[0])
    return Symbol([(node, i) for i in range(node.num_outputs())]) \
        if node.num_outputs() > 1 else Symbol([(node, 0)])


def make_op(op, public_name: str):
    """The ``mx.sym`` function of a registered operator."""
    import inspect

    hint = public_name.lower()
    in_names = [n.lstrip("*") for n in op.inputs] + list(op.aux)

    def call(*args, name=None, attr=None, out=None, **kwargs):
        syms = [a for a in args if isinstance(a, Symbol)]
        # None in an input's position is an absent optional input (gluon's Dense(use_bias=False))
        rest = [a for k, a in enumerate(args)
                if not isinstance(a, Symbol) and not (a is None and k < len(in_names))]
        named = {k: kwargs.pop(k) for k in list(kwargs) if k in in_names and
                 isinstance(kwargs[k], Symbol)}
        for attr_name in op.attr_names:
            if not rest:
                break
            if attr_name not in kwargs:
                kwargs[attr_name] = rest.pop(0)
        if rest:
            raise TypeError(f"{public_name}(): unexpected positional arguments {rest}")
        kwargs = {k: v for k, v in kwargs.items() if v is not None or k in op.attr_names}
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        return _compose(op, hint, syms, named, kwargs, name, attr)

    call.__name__ = call.__qualname__ = public_name
    call.__doc__ = op.fn.__doc__
    try:
        params = [p for p in op.signature.parameters.values() if p.name not in ("key", "is_train")]
        params = [p.replace(default=None) if p.kind is p.POSITIONAL_OR_KEYWORD and
                  p.default is inspect.Parameter.empty else p for p in params]
        params += [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=None)
                   for n in ("name", "attr")]
        call.__signature__ = inspect.Signature(params)
    except ValueError:
        pass
    return call


def define_all(namespace: dict) -> list:
    """Put ``mx.sym.<Operator>`` for every registered operator into ``namespace``."""
    from optjax.compat.mxnet.ops import registry
    added = []
    for n, op in sorted(registry.OPS.items()):
        if n not in namespace:
            namespace[n] = make_op(op, n)
            added.append(n)
    return added


del json
