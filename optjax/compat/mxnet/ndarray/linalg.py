"""``mx.nd.linalg``: the ``linalg_*`` operators under their short names (``nd.linalg.gemm2``)."""

from optjax.compat.mxnet.ndarray.ops import frontend
from optjax.compat.mxnet.ops import registry

__all__ = sorted(n[len("linalg_"):] for n in registry.OPS if n.startswith("linalg_"))

globals().update({n: frontend(registry.get("linalg_" + n)) for n in __all__})
