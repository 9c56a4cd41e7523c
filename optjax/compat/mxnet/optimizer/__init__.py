"""``mx.optimizer``: MXNet 1.9.1's stateful optimizer API over optjax's functional core.

:mod:`.optimizer` holds the ``Optimizer`` base (bookkeeping, registry, the engine
that runs a class's functional call); :mod:`.sgd`, :mod:`.adaptive` and
:mod:`.contrib` the built-in classes; :mod:`.updater` the ``Updater``.
"""

from optjax.compat.mxnet.optimizer import contrib
from optjax.compat.mxnet.optimizer.adaptive import (LAMB, FTML, AdaDelta, AdaGrad, Adam, Adamax,
                                                    Ftrl, Nadam, RMSProp)
from optjax.compat.mxnet.optimizer.contrib import GroupAdaGrad
from optjax.compat.mxnet.optimizer.optimizer import CoreCall, Optimizer, Test, create, register
from optjax.compat.mxnet.optimizer.sgd import LARS, LBSGD, NAG, SGD, SGLD, DCASGD, Signum, ccSGD
from optjax.compat.mxnet.optimizer.updater import Updater, get_updater

__all__ = [
    "Optimizer", "CoreCall", "Updater", "get_updater", "create", "register", "contrib", "SGD",
    "ccSGD", "NAG", "RMSProp", "Adam", "AdaGrad", "AdaDelta", "Adamax", "Nadam", "DCASGD", "SGLD",
    "Signum", "FTML", "LBSGD", "Ftrl", "LAMB", "LARS", "GroupAdaGrad", "Test",
]
