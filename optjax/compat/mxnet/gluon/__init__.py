"""``mx.gluon``: Blocks, layers (``nn``), losses, ``Parameter``/``ParameterDict``, ``Trainer``,
``utils`` and ``data``, as MXNet 1.9.1 on JAX."""

from optjax.compat.mxnet.gluon import data  # noqa: F401
from optjax.compat.mxnet.gluon import utils  # noqa: F401
from optjax.compat.mxnet.gluon.parameter import (  # noqa: F401
    Constant, DeferredInitializationError, Parameter, ParameterDict)
from optjax.compat.mxnet.gluon.block import Block, HybridBlock  # noqa: F401
from optjax.compat.mxnet.gluon.symbol_block import SymbolBlock  # noqa: F401
from optjax.compat.mxnet.gluon import nn  # noqa: F401
from optjax.compat.mxnet.gluon import loss  # noqa: F401
from optjax.compat.mxnet.gluon.trainer import Trainer  # noqa: F401

__all__ = ["Parameter", "ParameterDict", "Constant", "Trainer", "data", "utils", "nn", "loss",
           "Block", "HybridBlock", "SymbolBlock", "DeferredInitializationError"]
