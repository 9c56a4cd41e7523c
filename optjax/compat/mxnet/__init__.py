"""``import optjax.compat.mxnet as mx``: MXNet 1.9.1's optimizer-facing API on optjax.

Legacy MXNet optimizer code (``mx.optimizer``, ``mx.lr_scheduler``, ``mx.init``,
``mx.gluon.Trainer``/``Parameter``/``data``, ``mx.nd`` in-place arithmetic) runs
unchanged and gets MXNet's numbers; every update rule, schedule and
initializer is optjax's functional core configured by
:mod:`optjax.compat.mxnet.recipes`. See ``docs/mxnet-migration.md``.
"""

from optjax.compat.mxnet import recipes  # noqa: F401
from optjax.compat.mxnet.recipes import build  # noqa: F401
from optjax.compat.mxnet import base, context, ndarray, states  # noqa: F401
from optjax.compat.mxnet import autograd  # noqa: F401
from optjax.compat.mxnet.context import (Context, cpu, cpu_pinned, cpu_shared, current_context,  # noqa: F401
                                         gpu, num_gpus)
from optjax.compat.mxnet.base import MXNetError  # noqa: F401
from optjax.compat.mxnet import lr_scheduler, optimizer  # noqa: F401
from optjax.compat.mxnet import initializer  # noqa: F401
from optjax.compat.mxnet import gluon  # noqa: F401
from optjax.compat.mxnet import symbol  # noqa: F401
from optjax.compat.mxnet.symbol import naming as name  # noqa: F401
from optjax.compat.mxnet.symbol.naming import AttrScope  # noqa: F401
from optjax.compat.mxnet.symbol import executor  # noqa: F401
from optjax.compat.mxnet import model  # noqa: F401
from optjax.compat.mxnet import module  # noqa: F401
from optjax.compat.mxnet import callback, io, kvstore, metric  # noqa: F401
from optjax.compat.mxnet import runtime  # noqa: F401
from optjax.compat.mxnet import monitor  # noqa: F401

nd = ndarray
init = initializer
random = ndarray.random
sym = symbol
mod = module
attribute = name
kv = kvstore
mon = monitor

__all__ = ["nd", "ndarray", "autograd", "base", "cpu_shared", "num_gpus", "current_context", "optimizer", "lr_scheduler", "init", "initializer", "gluon", "cpu",
           "gpu", "Context", "random", "recipes", "build", "states", "MXNetError", "io", "metric", "callback", "kv", "kvstore",
           "sym", "symbol", "mod", "module", "model", "name", "attribute", "AttrScope", "executor", "runtime",
           "monitor", "mon"]
