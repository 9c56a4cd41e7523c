"""MXNet 1.9.1 compatibility.

For now: :mod:`optjax.compat.mxnet.recipes`, the optjax transform reproducing
each MXNet optimizer class on one parameter (``recipes.build(name, ...)``).
The ``mx.optimizer``-style shim built on it comes later (issue 6).
See ``docs/optimizers-mxnet.md``.
"""

from optjax.compat.mxnet import recipes
from optjax.compat.mxnet.recipes import build

__all__ = ["build", "recipes"]
