"""The graph under ``mx.sym``: nodes over the operator registry, evaluation as one pure JAX
function, and MXNet 1.9.1's symbol JSON.

A node is a variable (``op is None``) or a call of a registered operator
(:mod:`optjax.compat.mxnet.ops`) on the outputs of other nodes. Its attributes
are kept as the strings MXNet writes in ``-symbol.json`` (``"num_hidden": "10"``,
``"kernel": "(3, 3)"``, ``"no_bias": "True"``) and parsed once into the
operator's keyword arguments using the types of its signature.

:func:`evaluate` runs the graph on JAX arrays: the arguments and auxiliary
states by name, a PRNG key (folded with each random node's position) and the
training flag; it is pure, so executors compile it with ``jax.jit`` and
differentiate it with ``jax.vjp``.
"""

from __future__ import annotations

import ast
import inspect
import json

import jax

from optjax.compat.mxnet.base import MXNetError
from optjax.compat.mxnet.ops import registry

__all__ = ["Node", "topo_order", "evaluate", "deferred_aux", "parse_attr", "op_kwargs", "wanted_inputs",
           "to_json", "from_json", "json_op_name", "registry_op"]

# Attributes MXNet operators accept that change nothing in the math here.
_NO_EFFECT = frozenset({"workspace", "cudnn_tune", "cudnn_off", "lazy_update", "layout",
                        "num_args", "__layout__"})
# Initializers MXNet attaches (``__init__``) to the input variables some operators create.
INPUT_INIT = {("BatchNorm", "moving_mean"): '["zero", {}]', ("BatchNorm", "moving_var"): '["one", {}]',
              ("LeakyReLU", "gamma"): '["Constant", {"value": 0.25}]'}
# Named outputs of multi-output operators (otherwise output0, output1, ...).
_OUTPUT_NAMES = {"BatchNorm": ("output", "mean", "var")}


def registry_op(json_name: str):
    """The registered operator behind an MXNet JSON operator name (the registry holds
    every name MXNet knows an operator by, as aliases)."""
    return registry.get(json_name)


def json_op_name(op) -> str:
    """The name MXNet writes for ``op`` in symbol JSON: its registered name."""
    return op.name


class Node:
    """One graph node: a variable (``op is None``) or an operator call."""

    __slots__ = ("op", "name", "attrs", "inputs", "_kwargs", "programs", "__weakref__")

    def __init__(self, op, name: str, attrs: dict, inputs: list):
        self.op = op
        self.name = name
        self.attrs = dict(attrs)      # every attribute, as MXNet's strings
        self.inputs = list(inputs)    # [(Node, output index)]
        self._kwargs = None
        self.programs = {}            # compiled executors' programs with this node as head

    @property
    def is_variable(self) -> bool:
        return self.op is None

    def kwargs(self) -> dict:
        """The operator's keyword arguments parsed from the string attributes (cached)."""
        if self._kwargs is None:
            self._kwargs = op_kwargs(self.op, self.attrs, self.name)
        return self._kwargs

    def num_outputs(self) -> int:
        return 1 if self.op is None else int(self.op.num_outputs(**self.kwargs()))

    def output_names(self) -> list:
        if self.op is None:
            return [self.name]
        n = self.num_outputs()
        if n == 1:
            return [self.name + "_output"]
        named = _OUTPUT_NAMES.get(self.op.name)
        if named and len(named) >= n:
            return [f"{self.name}_{s}" for s in named[:n]]
        return [f"{self.name}_output{i}" for i in range(n)]

    def input_names(self) -> list:
        """The operator's input names, in order, for the inputs this node has."""
        return wanted_inputs(self.op, self.kwargs(), count=len(self.inputs))

    def __repr__(self):
        return f"Node({'null' if self.op is None else self.op.name}, {self.name!r})"


def _annotation(p) -> str:
    a = p.annotation
    if a is inspect.Parameter.empty:
        return ""
    return a if isinstance(a, str) else getattr(a, "__name__", str(a))


def parse_attr(text, annotation: str = "", default=None):
    """An attribute string of symbol JSON as the Python value the operator takes.

    ``annotation`` is the type annotation of the operator's keyword argument
    (``"int"``, ``"tuple"``, ``"bool"``, ``"float | None"``, ...); without one the
    type of ``default`` decides, then Python literal syntax, else the string.

    >>> parse_attr("(3, 3)", "tuple"), parse_attr("True", "bool"), parse_attr("10", "int")
    ((3, 3), True, 10)
    """
    if not isinstance(text, str):
        return text
    t = text.strip()
    ann = annotation.replace(" ", "")
    kinds = set(ann.split("|")) if ann else set()
    if t == "None" and (not kinds or "None" in kinds or default is None):
        return None
    if not kinds and default is not None:
        kinds = {type(default).__name__}
    if "bool" in kinds and t in ("True", "False", "true", "false", "1", "0"):
        return t in ("True", "true", "1")
    try:
        lit = ast.literal_eval(t)
    except (ValueError, SyntaxError):
        lit = t
    if kinds & {"tuple", "list", "Tuple"} or ann.startswith("tuple"):
        if isinstance(lit, (int, float)):
            return (lit,)
        if isinstance(lit, (list, tuple)):
            return tuple(tuple(x) if isinstance(x, list) else x for x in lit)
    if "int" in kinds and not (kinds & {"float"}):
        try:
            return int(lit) if not isinstance(lit, str) else int(float(t))
        except (ValueError, TypeError):
            pass
    if "float" in kinds:
        try:
            return float(t)
        except ValueError:
            pass
    if "str" in kinds:
        return t
    if isinstance(lit, list):
        return tuple(lit)
    return lit


def op_kwargs(op, attrs: dict, node_name: str = "") -> dict:
    """The keyword arguments of ``op`` from string ``attrs`` (unknown names are an error)."""
    params = op.signature.parameters
    kw = {}
    for key, text in attrs.items():
        if key.startswith("__") and key.endswith("__"):
            continue
        if key in op.attr_names:
            p = params[key]
            kw[key] = parse_attr(text, _annotation(p),
                                 None if p.default is inspect.Parameter.empty else p.default)
        elif key in _NO_EFFECT or key in ("lr_mult", "wd_mult", "ctx_group"):
            continue
        else:
            raise MXNetError(f"Cannot find argument '{key}' of operator {op.name} "
                             f"(node {node_name!r}); its arguments are {list(op.attr_names)}")
    return kw


def wanted_inputs(op, kwargs: dict, present=(), count: int | None = None) -> list:
    """The array inputs ``op`` takes with these attributes (MXNet's ``ListArguments``),
    then its auxiliary states: the required inputs, ``bias`` unless ``no_bias``,
    LeakyReLU's ``gamma`` for ``prelu``, and optional inputs named in ``present`` or
    needed to reach ``count`` inputs in all (a node read from JSON)."""
    if op.variadic:
        return [f"arg{i}" for i in range(count if count is not None else len(present))]
    params = op.signature.parameters
    chosen = []
    for n in op.inputs:
        p = params.get(n)
        optional = p is not None and p.default is not inspect.Parameter.empty
        if not optional or n in present:
            chosen.append(n)
        elif n == "bias" and "no_bias" in op.attr_names:
            if not kwargs.get("no_bias", params["no_bias"].default):
                chosen.append(n)
        elif n == "gamma" and op.name == "LeakyReLU":
            if kwargs.get("act_type", params["act_type"].default) == "prelu":
                chosen.append(n)
    if count is not None:
        for n in op.inputs:
            if len(chosen) >= count - len(op.aux):
                break
            if n not in chosen:
                chosen.append(n)
        chosen.sort(key=op.inputs.index)
    return chosen + list(op.aux)


def fixed_gamma_variables(order) -> list:
    """Names of the variables MXNet overwrites with ones on every forward pass: the
    ``gamma`` of a ``BatchNorm`` with ``fix_gamma=True`` (MXNet 1.9.1 writes 1 into the
    argument array; the math uses 1 and its gradient is 0)."""
    names = []
    for node in order:
        if node.op is not None and node.op.name == "BatchNorm" and \
                node.kwargs().get("fix_gamma", True):
            src = dict(zip(node.input_names(), node.inputs)).get("gamma")
            if src is not None and src[0].op is None:
                names.append(src[0].name)
    return names


def topo_order(heads) -> list:
    """The nodes reaching ``heads`` ([(Node, index)]) in MXNet's DFS post-order."""
    order, seen = [], set()
    for head, _ in heads:
        stack = [(head, 0)]
        while stack:
            node, k = stack.pop()
            if k == 0 and id(node) in seen:
                continue
            if k < len(node.inputs):
                stack.append((node, k + 1))
                child = node.inputs[k][0]
                if id(child) not in seen:
                    stack.append((child, 0))
            else:
                if id(node) not in seen:
                    seen.add(id(node))
                    order.append(node)
    return order


def aux_variables(order) -> set:
    """ids of the variable nodes used as auxiliary states."""
    aux = set()
    for node in order:
        if node.op is not None and node.op.aux:
            for src, _ in node.inputs[len(node.inputs) - len(node.op.aux):]:
                aux.add(id(src))
    return aux


def call_node(node, arrays, key, is_train):
    """Run one operator node on its input arrays: ``(outputs tuple, new aux tuple)``."""
    op = node.op
    kw = dict(node.kwargs())
    if op.needs_key:
        kw["key"] = key
    if op.needs_mode:
        kw["is_train"] = bool(is_train)
    if op.variadic:
        result = op.fn(*arrays, **kw)
    else:
        by_name = dict(zip(node.input_names(), arrays))
        pos = [by_name.get(n) for n in op.inputs] + [by_name[a] for a in op.aux]
        result = op.fn(*pos, **kw)
    new_aux = ()
    if op.aux:
        result, new_aux = result
    outs = tuple(result) if isinstance(result, (tuple, list)) else (result,)
    return outs, tuple(new_aux)


def _momentum(node, is_train):
    return node.op.deferred_momentum(bool(is_train), node.kwargs())


def deferred_aux(order, is_train: bool) -> list:
    """``[(auxiliary state name, momentum)]`` of the moving-average updates that a
    training forward defers to the backward pass, in the order of :func:`evaluate`'s
    increments (MXNet writes ``BatchNorm``'s moving statistics in its backward pass)."""
    out = []
    for node in order:
        if node.op is not None and node.op.aux:
            m = _momentum(node, is_train)
            if m is not None:
                out.extend((src.name, m) for src, _ in node.inputs[-len(node.op.aux):])
    return out


def evaluate(order, heads, args: dict, aux: dict, key, is_train: bool):
    """Run the graph: ``(list of head arrays, dict of new auxiliary states, increments)``.

    ``order`` is :func:`topo_order` of ``heads``; variables read ``args`` or
    ``aux`` by name. Auxiliary states change only when ``is_train``; moving
    averages are not applied but returned as ``increments`` (one per entry of
    :func:`deferred_aux`), for the backward pass to apply.
    """
    values = {}
    new_aux = dict(aux)
    increments = []
    for k, node in enumerate(order):
        if node.op is None:
            if node.name in args:
                values[id(node)] = (args[node.name],)
            elif node.name in new_aux:
                values[id(node)] = (aux[node.name],)
            else:
                raise MXNetError(f"no value for the variable {node.name!r}")
            continue
        sub = jax.random.fold_in(key, k) if node.op.needs_key and key is not None else key
        arrays = [values[id(src)][i] for src, i in node.inputs]
        deferred = node.op.aux and _momentum(node, is_train) is not None
        if deferred:  # zero moving statistics: the new ones are the increments
            n = len(node.op.aux)
            arrays = arrays[:-n] + [jax.numpy.zeros_like(a) for a in arrays[-n:]]
        outs, upd = call_node(node, arrays, sub, is_train)
        values[id(node)] = outs
        if upd and is_train:
            srcs = node.inputs[len(node.inputs) - len(node.op.aux):]
            for (src, _), value in zip(srcs, upd):
                if deferred:
                    increments.append(value.astype(aux[src.name].dtype))
                else:
                    new_aux[src.name] = value.astype(aux[src.name].dtype)
    return [values[id(n)][i] for n, i in heads], new_aux, tuple(increments)


def node_input_gradients(order, heads, args: dict, aux: dict, key, head_grads) -> list:
    """The gradient that each operator node's backward pass computes for each of its
    (non-auxiliary) inputs, as MXNet's monitor sees the ``<node>_backward_output<i>``
    arrays: ``[(node, (cotangent, ...), [zero cotangents of the outputs nothing reads])]``
    in backward order (reverse of ``order``).

    Runs the training forward pass node by node under ``jax.vjp`` and pulls the
    cotangents back from ``head_grads`` (one per head); an output nothing consumes
    gets zeros, an integer input a zero gradient. Eager (a debugging aid)."""
    values, pullbacks = {}, {}
    for k, node in enumerate(order):
        if node.op is None:
            values[id(node)] = (args[node.name] if node.name in args else aux[node.name],)
            continue
        sub = jax.random.fold_in(key, k) if node.op.needs_key and key is not None else key
        arrays = [values[id(src)][i] for src, i in node.inputs]

        def run(*xs, node=node, sub=sub):
            return call_node(node, list(xs), sub, True)[0]

        values[id(node)], pullbacks[id(node)] = jax.vjp(run, *arrays)
    cot = {}  # id(node) -> {output index: summed cotangent}

    def accumulate(node, i, g):
        slot = cot.setdefault(id(node), {})
        slot[i] = slot[i] + g if i in slot else g

    for (node, i), g in zip(heads, head_grads):
        if node.op is not None:
            accumulate(node, i, g)
    out = []
    for node in reversed(order):
        if node.op is None:
            continue
        slot = cot.get(id(node), {})
        outs = values[id(node)]
        grads = pullbacks[id(node)](tuple(
            slot[i].astype(o.dtype) if i in slot else jax.numpy.zeros_like(o)
            for i, o in enumerate(outs)))
        n_in = len(node.inputs) - len(node.op.aux)
        grads = tuple(jax.numpy.zeros(x.shape, x.dtype)
                      if getattr(g, "dtype", None) == jax.dtypes.float0 else g
                      for g, x in zip(grads, [values[id(s)][i] for s, i in node.inputs]))
        out.append((node, grads[:n_in],
                    [jax.numpy.zeros_like(o) for i, o in enumerate(outs) if i not in slot]))
        for (src, i), g in zip(node.inputs[:n_in], grads):
            if src.op is not None:
                accumulate(src, i, g)
    return out


# -- JSON ------------------------------------------------------------------------------------

def to_json(heads) -> str:
    """MXNet 1.9.1's symbol JSON for ``heads``."""
    order = topo_order(heads)
    index = {id(n): k for k, n in enumerate(order)}
    aux = aux_variables(order)
    nodes, arg_nodes, row_ptr = [], [], [0]
    for k, n in enumerate(order):
        entry = {"op": "null" if n.op is None else json_op_name(n.op), "name": n.name}
        if n.attrs:
            entry["attrs"] = {a: str(v) for a, v in n.attrs.items()}
        entry["inputs"] = [[index[id(s)], i, 1 if id(s) in aux else 0] for s, i in n.inputs]
        nodes.append(entry)
        if n.op is None:
            arg_nodes.append(k)
        row_ptr.append(row_ptr[-1] + n.num_outputs())
    doc = {"nodes": nodes, "arg_nodes": arg_nodes, "node_row_ptr": row_ptr,
           "heads": [[index[id(n)], i, 0] for n, i in heads],
           "attrs": {"mxnet_version": ["int", 10901]}}
    return json.dumps(doc, indent=2)


_LEGACY_KEYS = ("attr", "param")


def from_json(text: str) -> list:
    """The heads ``[(Node, index)]`` of a symbol JSON written by MXNet (or :func:`to_json`)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise MXNetError(f"symbol JSON does not parse: {e}") from None
    if not isinstance(doc, dict) or "nodes" not in doc or "heads" not in doc:
        raise MXNetError("symbol JSON must be an object with 'nodes' and 'heads'")
    built = []
    for k, entry in enumerate(doc["nodes"]):
        attrs = {}
        for key in _LEGACY_KEYS + ("attrs",):  # MXNet < 1.0 wrote 'param'/'attr'
            attrs.update(entry.get(key) or {})
        opname = entry.get("op", "null")
        try:
            inputs = [(built[e[0]], int(e[1])) for e in entry.get("inputs", [])]
        except IndexError:
            raise MXNetError(f"symbol JSON node {k} ({entry.get('name')!r}) reads a later "
                             f"node") from None
        if opname == "null":
            node = Node(None, entry["name"], attrs, [])
        else:
            try:
                op = registry_op(opname)
            except KeyError as e:
                raise MXNetError(f"symbol JSON node {entry.get('name')!r}: {e.args[0]}") from None
            node = Node(op, entry["name"], attrs, inputs)
            node.kwargs()  # parse now: a bad attribute fails at load time
        built.append(node)
    return [(built[h[0]], int(h[1])) for h in doc["heads"]]
