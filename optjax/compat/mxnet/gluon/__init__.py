"""``mx.gluon``: ``Parameter``, ``ParameterDict``, ``Trainer`` and ``data``."""

from optjax.compat.mxnet.gluon import data  # noqa: F401
from optjax.compat.mxnet.gluon.parameter import (  # noqa: F401
    DeferredInitializationError, Parameter, ParameterDict)
from optjax.compat.mxnet.gluon.trainer import Trainer  # noqa: F401

__all__ = ["Parameter", "ParameterDict", "Trainer", "data", "DeferredInitializationError"]
