"""``mx.nd.<Operator>``: one eager front-end function per registered operator.

``nd.FullyConnected(x, w, b, num_hidden=10)`` maps its positional arguments to
the operator's inputs (then to its attributes, in order), its keyword arguments
by name, and calls :func:`~optjax.compat.mxnet.ndarray.invoke.invoke`. The
function carries the operator's signature (``help(nd.FullyConnected)``).
"""

from __future__ import annotations

import inspect

from optjax.compat.mxnet.ndarray.invoke import invoke
from optjax.compat.mxnet.ops import registry

__all__ = ["frontend", "define_all"]


def frontend(op):
    """The ``mx.nd`` function for ``op``."""
    names = tuple(n.lstrip("*") for n in op.inputs) + op.aux

    def call(*args, out=None, name=None, **kwargs):
        if op.variadic:
            inputs = list(args)
            attrs = kwargs
        else:
            inputs = [kwargs.pop(n, None) for n in names]
            extra = list(args)
            for k in range(len(names)):
                if not extra:
                    break
                if inputs[k] is None:
                    inputs[k] = extra.pop(0)
            for attr in op.attr_names:
                if not extra:
                    break
                if attr not in kwargs:
                    kwargs[attr] = extra.pop(0)
            if extra:
                raise TypeError(f"{op.name}() got {len(args)} positional arguments; it takes the "
                                f"inputs {names} and the attributes {op.attr_names}")
            while inputs and inputs[-1] is None and len(inputs) > 1 and not op.aux:
                inputs.pop()
            attrs = kwargs
        return invoke(op, inputs, attrs, out=out)

    call.__name__ = call.__qualname__ = op.name
    call.__doc__ = op.fn.__doc__
    params = [p for p in op.signature.parameters.values() if p.name not in ("key", "is_train")]
    params += [inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None),
               inspect.Parameter("name", inspect.Parameter.KEYWORD_ONLY, default=None)]
    try:
        call.__signature__ = inspect.Signature(params)
    except ValueError:
        pass
    return call


def define_all(namespace: dict) -> list[str]:
    """Put a front end for every registered operator into ``namespace`` (skipping taken names)."""
    added = []
    for name, op in sorted(registry.OPS.items()):
        if name not in namespace:
            namespace[name] = frontend(op)
            added.append(name)
    return added


define_all(globals())
