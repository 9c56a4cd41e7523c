"""MXNet's operators as pure JAX functions, one registry for ``mx.nd``, gluon's ``F`` and ``mx.sym``.

Importing this package registers every operator; see :mod:`.registry` for the conventions.
"""

from optjax.compat.mxnet.ops import registry
from optjax.compat.mxnet.ops import arithmetic, reduce, shape, unary  # noqa: F401  (register)
from optjax.compat.mxnet.ops import (  # noqa: F401  (register)
    activations, amp, conv, indexing, init_ops, linalg, loss_outputs, losses, nn, norm, tensor)
from optjax.compat.mxnet.ops import optimizer_updates  # noqa: F401  (register)
from optjax.compat.mxnet.ops.registry import OPS, Op, get, names, register

__all__ = ["registry", "OPS", "Op", "get", "names", "register"]
