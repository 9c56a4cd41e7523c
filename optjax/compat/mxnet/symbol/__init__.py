"""``mx.sym`` / ``mx.symbol``: MXNet 1.9.1's symbolic API on the operator registry.

Every registered operator has a function here (``mx.sym.FullyConnected``,
``mx.sym.SoftmaxOutput``, ``mx.sym.broadcast_add``, ...); see :mod:`.symbol`
for :class:`Symbol` and :mod:`.executor` for binding and running a graph.
"""

from optjax.compat.mxnet import ops as _ops  # noqa: F401  (registers the operators)
from optjax.compat.mxnet.symbol import executor, graph, naming  # noqa: F401
from optjax.compat.mxnet.symbol.creation import arange, full, ones, zeros
from optjax.compat.mxnet.symbol.executor import Executor
from optjax.compat.mxnet.symbol.symbol import (Group, Symbol, Variable, hypot, load, load_json,
                                               make_op, maximum, minimum, pow, power, var)
from optjax.compat.mxnet.symbol.symbol import define_all as _define_all

_OPERATORS = _define_all(globals())

__all__ = ["Symbol", "Variable", "var", "Group", "load", "load_json", "Executor", "make_op",
           "maximum", "minimum", "power", "pow", "hypot", "zeros", "ones", "full", "arange",
           *_OPERATORS]
