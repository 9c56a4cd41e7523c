"""``mx.nd.contrib``: the registered operators named ``_contrib_<name>``, as ``<name>``
(``nd.contrib.adamw_update`` is the operator ``_contrib_adamw_update``), as in MXNet."""

from optjax.compat.mxnet.ndarray.ops import frontend as _frontend
from optjax.compat.mxnet.ops import registry as _registry

__all__ = []
for _name, _op in sorted(_registry.OPS.items()):
    if _name.startswith("_contrib_"):
        globals()[_name[len("_contrib_"):]] = _frontend(_op)
        __all__.append(_name[len("_contrib_"):])
del _name, _op
