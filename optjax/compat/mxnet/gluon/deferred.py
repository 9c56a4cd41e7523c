"""Deferred shapes at a gluon block's first forward pass (MXNet's shape inference, on the registry).

At its first forward pass a HybridBlock runs ``hybrid_forward`` with :class:`FirstPassF`
as ``F``: ``mx.nd``, except that an operator with a ``param_shapes`` rule completes
the shape of a deferred Parameter (handed in as a :class:`Pending`) from its data's
shape and initializes it, and checks the shape of an initialized one, naming the
layer, the Parameter and both shapes when they disagree.
"""

from __future__ import annotations

from optjax.compat.mxnet import ndarray as nd
from optjax.compat.mxnet.base import MXNetError
from optjax.compat.mxnet.gluon.parameter import DeferredInitializationError
from optjax.compat.mxnet.ops import registry

__all__ = ["Pending", "FirstPassF"]


class Pending:
    """A deferred Parameter handed to ``hybrid_forward`` at the first forward pass."""

    def __init__(self, param):
        self.param = param

    def __getattr__(self, name):
        raise DeferredInitializationError(
            f"Parameter '{self.param.name}' has an unknown shape {self.param.shape}; it gets "
            "its shape from the operator it is passed to at the first forward pass (an "
            "operator with a param_shapes rule, such as FullyConnected or Convolution). "
            "Give its full shape when it is used otherwise.")


# Operators that accept any given shape of a weight and infer one only when it is unknown
# (MXNet's LeakyReLU: a prelu gamma of shape (1,) is one slope for every channel).
_ANY_KNOWN_SHAPE = frozenset({"LeakyReLU"})


class FirstPassF:
    """``F`` for a block's first forward pass: ``mx.nd`` that completes deferred shapes.

    An operator with a ``param_shapes`` rule receiving a deferred Parameter sets its
    shape from the data's shape and initializes it; one receiving an initialized
    Parameter checks its shape, and raises an error naming the layer, the Parameter
    and both shapes when they disagree.
    """

    def __init__(self, block, params: dict, ctx):
        self._block = block
        self._ctx = ctx
        self._by_id = {id(v): p for p, v in params.items() if isinstance(v, nd.NDArray)}

    def __getattr__(self, name):
        front = getattr(nd, name)
        op = registry.OPS.get(name)
        if op is None or op.param_shapes is None or not callable(front):
            return front

        def call(*args, **kwargs):
            return self._call(op, front, args, kwargs)

        return call

    def _call(self, op, front, args, kwargs):
        names = [n.lstrip("*") for n in op.inputs] + list(op.aux)
        bound, args = {}, list(args)
        for i, a in enumerate(args[:len(names)]):
            bound[names[i]] = (i, a)
        attrs = {k: v for k, v in kwargs.items() if k not in names and k not in ("name", "out")}
        for k, a in zip(op.attr_names, args[len(names):]):
            attrs[k] = a
        for k in names:
            if k in kwargs:
                bound[k] = (k, kwargs[k])
        data = bound.get(names[0], (None, None))[1]
        if not isinstance(data, nd.NDArray):
            return front(*args, **kwargs)
        shapes = op.param_shapes(tuple(data.shape), **attrs)
        for k, (where, value) in bound.items():
            param = value.param if isinstance(value, Pending) else self._by_id.get(id(value))
            if param is None or k not in shapes:
                continue
            want = tuple(int(s) for s in shapes[k])
            have = param.shape
            if not isinstance(value, Pending) and op.name in _ANY_KNOWN_SHAPE:
                continue
            if have is None or len(have) != len(want) or not all(
                    h in (0, w) for h, w in zip(have, want)):
                raise MXNetError(
                    f"{self._block.name}: Parameter '{param.name}' has shape {have} but the "
                    f"input of shape {tuple(data.shape)} needs {want} ({op.name}). Shape "
                    f"inconsistent, Provided = {list(have or ())}, inferred shape = "
                    f"{list(want)}")
            if isinstance(value, Pending):
                param.shape = want
                param._finish_deferred_init()
                arr = param.data(self._ctx)
                if isinstance(where, int):
                    args[where] = arr
                else:
                    kwargs[where] = arr
        return front(*args, **kwargs)
