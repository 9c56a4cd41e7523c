"""``mx.gluon.utils``: data-parallel splitting, global-norm clipping, hook handles."""

from __future__ import annotations

import collections
import warnings
import weakref

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["split_data", "split_and_load", "clip_global_norm", "HookHandle"]


def split_data(data, num_slice: int, batch_axis: int = 0, even_split: bool = True) -> list:
    """Split ``data`` into ``num_slice`` slices along ``batch_axis`` (a list even for one).

    With ``even_split`` the size along ``batch_axis`` must divide evenly; otherwise the
    first ``size % num_slice`` slices get one element more.

    Example:
      >>> from optjax.compat.mxnet import nd, gluon
      >>> [s.shape for s in gluon.utils.split_data(nd.zeros((5, 2)), 2, even_split=False)]
      [(3, 2), (2, 2)]
    """
    from optjax.compat.mxnet import ndarray as nd
    size = data.shape[batch_axis]
    if even_split and size % num_slice != 0:
        raise ValueError(
            "data with shape %s cannot be evenly split into %d slices along axis %d. Use a "
            "batch size that's multiple of %d or set even_split=False to allow uneven "
            "partitioning of data." % (str(data.shape), num_slice, batch_axis, num_slice))
    n_each, extras = divmod(size, num_slice)
    sizes = [0] + extras * [n_each + 1] + (num_slice - extras) * [n_each]
    points = np.array(sizes).cumsum()
    if batch_axis != 0:
        return [nd.slice_axis(data, axis=batch_axis, begin=int(points[i]), end=int(points[i + 1]))
                for i in range(num_slice)]
    return [data[int(points[i]):int(points[i + 1])] for i in range(num_slice)]


def split_and_load(data, ctx_list, batch_axis: int = 0, even_split: bool = True) -> list:
    """Split ``data`` into ``len(ctx_list)`` slices and put slice ``i`` on ``ctx_list[i]``
    (a JAX device each)."""
    from optjax.compat.mxnet import ndarray as nd
    if not isinstance(data, nd.NDArray):
        data = nd.array(data, ctx=ctx_list[0])
    if len(ctx_list) == 1:
        return [data.as_in_context(ctx_list[0])]
    slices = split_data(data, len(ctx_list), batch_axis, even_split)
    return [s.as_in_context(ctx) for s, ctx in zip(slices, ctx_list)]


def clip_global_norm(arrays, max_norm: float, check_isfinite: bool = True):
    """Scale ``arrays`` in place so that their joint 2-norm is at most ``max_norm``.

    ``scale = min(1, max_norm / (norm + 1e-8))``. Returns the norm before clipping
    (a float, or an NDArray of shape (1,) when ``check_isfinite`` is False).
    """
    from optjax.compat.mxnet import ndarray as nd
    assert len(arrays) > 0
    dev = arrays[0].context.jax_device
    total = jnp.sqrt(sum(jax.device_put(jnp.sum(jnp.square(a._data.astype(jnp.float32))), dev)
                         for a in arrays))
    if check_isfinite and not np.isfinite(float(total)):
        warnings.warn(UserWarning("nan or inf is detected. Clipping results will be undefined."),
                      stacklevel=2)
    scale = jnp.minimum(max_norm / (total + 1e-8), 1.0)
    for a in arrays:
        a._data = (a._data * jax.device_put(scale, a.context.jax_device)).astype(a._data.dtype)
    if check_isfinite:
        return float(total)
    return nd.from_jax(total.reshape((1,)), arrays[0]._ctx)


class HookHandle:
    """A handle that can attach/detach a hook (``with handle:`` detaches at the end)."""

    def __init__(self):
        self._hooks_dict_ref = None
        self._id = None

    def attach(self, hooks_dict, hook):
        assert not self._hooks_dict_ref, "The same handle cannot be attached twice."
        self._id = id(hook)
        hooks_dict[self._id] = hook
        self._hooks_dict_ref = weakref.ref(hooks_dict)

    def detach(self):
        hooks_dict = self._hooks_dict_ref()
        if hooks_dict is not None and self._id in hooks_dict:
            del hooks_dict[self._id]

    def __getstate__(self):
        return (self._hooks_dict_ref(), self._id)

    def __setstate__(self, state):
        self._hooks_dict_ref = weakref.ref(collections.OrderedDict() if state[0] is None
                                           else state[0])
        self._id = state[1]

    def __enter__(self):
        return self

    def __exit__(self, ptype, value, trace):
        self.detach()
