"""``mx.gluon.SymbolBlock``: a block made from an ``mx.sym`` graph (MXNet 1.9.1).

``SymbolBlock.imports('net-symbol.json', ['data'], 'net-0000.params')`` loads a model
written by ``HybridBlock.export`` (here or in real MXNet) or by
``Module.save_checkpoint``. Every argument of the graph that is not an input
becomes a Parameter (auxiliary states with ``grad_req='null'``). The forward pass
runs the graph node by node through the operator registry on NDArrays (so it is
recorded by autograd like any gluon code, and ``hybridize()`` compiles it with
``jax.jit`` as any HybridBlock); with ``mx.sym`` inputs it composes the graph.
"""

from __future__ import annotations

import os

from optjax.compat.mxnet import ndarray as nd
from optjax.compat.mxnet import symbol as _sym
from optjax.compat.mxnet.base import MXNetError
from optjax.compat.mxnet.context import current_context
from optjax.compat.mxnet.gluon.block import HybridBlock, _first_ctx, _flatten, _regroup
from optjax.compat.mxnet.gluon.parameter import ParameterDict
from optjax.compat.mxnet.ndarray.invoke import invoke
from optjax.compat.mxnet.symbol import graph as _graph

__all__ = ["SymbolBlock"]


def run_graph(symbol, values: dict) -> list:
    """The outputs of ``symbol`` with its variables bound to the NDArrays ``values`` (by
    name), each operator called eagerly through :func:`invoke`."""
    results = {}
    for node in _graph.topo_order(symbol._heads):
        if node.op is None:
            if node.name not in values:
                raise MXNetError(f"SymbolBlock: no value for the graph's input {node.name!r}")
            results[id(node)] = [values[node.name]]
            continue
        arrays = [results[id(src)][i] for src, i in node.inputs]
        op = node.op
        if not op.variadic:
            by_name = dict(zip(node.input_names(), arrays))
            arrays = [by_name.get(n) for n in op.inputs] + [by_name[a] for a in op.aux]
        out = invoke(op, arrays, dict(node.kwargs()))
        results[id(node)] = list(out) if isinstance(out, (list, tuple)) else [out]
    return [results[id(n)][i] for n, i in symbol._heads]


class SymbolBlock(HybridBlock):
    """A HybridBlock computing ``outputs`` (Symbols) from the variables ``inputs``.

    Example:
      >>> from optjax.compat.mxnet import gluon, nd, sym
      >>> data = sym.var("data")
      >>> out = sym.FullyConnected(data, num_hidden=2, name="fc")
      >>> block = gluon.SymbolBlock(out, data)
      >>> sorted(block.collect_params().keys())
      ['fc_bias', 'fc_weight']
      >>> block.initialize()
      >>> block(nd.ones((3, 4))).shape
      (3, 2)
    """

    @staticmethod
    def imports(symbol_file, input_names, param_file=None, ctx=None, allow_missing=False,
                ignore_extra=False):
        """A SymbolBlock from ``symbol_file`` (``-symbol.json``) with the graph inputs
        ``input_names``, its Parameters loaded from ``param_file`` (``arg:``/``aux:``
        names, as ``export`` and ``save_checkpoint`` write them) in their saved dtypes."""
        if not os.path.exists(symbol_file):
            raise MXNetError(f"SymbolBlock.imports: symbol file {symbol_file!r} does not exist")
        graph = _sym.load(symbol_file)
        if isinstance(input_names, str):
            input_names = [input_names]
        known = set(graph.list_inputs())
        missing = [n for n in input_names if n not in known]
        if missing:
            raise MXNetError(f"SymbolBlock.imports: input names {missing} are not inputs of "
                             f"the graph in {symbol_file!r}; its inputs are {sorted(known)}")
        inputs = [_sym.var(i) for i in input_names]
        ret = SymbolBlock(graph, inputs)
        if param_file is not None:
            ret.collect_params().load(param_file, ctx, allow_missing, ignore_extra,
                                      cast_dtype=True, dtype_source="saved")
        return ret

    def __init__(self, outputs, inputs, params=None):
        super().__init__(prefix=None, params=None)
        self._prefix = ""
        self._params = ParameterDict("", params)
        if isinstance(inputs, _sym.Symbol) and len(inputs.list_outputs()) == 1:
            inputs = [inputs]
        if isinstance(outputs, (list, tuple)) and len(outputs) == 1:
            outputs = outputs[0]
        syms, self._in_format = _flatten(inputs)
        out, self._out_format = _flatten(outputs)
        for i in syms:
            if len(i._heads) != 1 or i._heads[0][0].op is not None:
                raise AssertionError("Input symbols must be variable, but %s is an output of "
                                     "operators" % str(i))
        out = _sym.Group(out) if len(out) > 1 else out[0]
        input_names = {i.name for i in syms}
        for arg in out.list_arguments():
            if arg not in input_names:
                self.params.get(arg, allow_deferred_init=True)
        for aux in out.list_auxiliary_states():
            if aux not in input_names:
                self.params.get(aux, grad_req="null", allow_deferred_init=True)
        self._graph = (syms, out)
        prefix = len(os.path.commonprefix(list(self._params.keys())))
        self._reg_params = {key[prefix:]: val for key, val in self._params.items()}

    def __repr__(self):
        syms, out = self._graph
        return "{name}(\n{block} : {n_in} -> {n_out}\n)".format(
            name=self.__class__.__name__, block=out, n_in=len(syms),
            n_out=len(out.list_outputs()))

    def _symbol_forward(self, x, *args):
        syms, out = self._graph
        flat, fmt = _flatten([x] + list(args))
        if fmt != self._in_format:
            raise AssertionError("Invalid input format")
        ret = out(**{k.name: v for k, v in zip(syms, flat)})
        return _regroup(list(ret), self._out_format)

    def _forward_nd(self, x, *args):
        syms, out = self._graph
        flat, fmt = _flatten([x] + list(args))
        if fmt != self._in_format:
            raise AssertionError("Invalid input format")
        ctx = _first_ctx(flat) or current_context()
        params = list(self.params.values())
        if any(p._is_deferred() for p in params):
            self._finish_shapes({s.name: a.shape for s, a in zip(syms, flat) if a is not None})
        values = {s.name: a for s, a in zip(syms, flat)}
        with ctx:
            values.update({p.name: p.data(ctx) for p in params})
            outs = run_graph(out, values)
        self._checked = True
        return _regroup(outs, self._out_format)

    def _finish_shapes(self, input_shapes):
        _, out = self._graph
        arg_shapes, _, aux_shapes = out.infer_shape(**input_shapes)
        shapes = dict(zip(out.list_arguments(), arg_shapes))
        shapes.update(zip(out.list_auxiliary_states(), aux_shapes))
        for p in self.params.values():
            if p._is_deferred():
                p.shape = shapes[p.name]
                p._finish_deferred_init()

    def hybrid_forward(self, F, x, *args, **kwargs):
        raise NotImplementedError  # the graph is run by _forward_nd / _symbol_forward

