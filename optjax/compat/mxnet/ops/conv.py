"""Convolution and pooling: ``Convolution``, ``Deconvolution``, ``Pooling``, ``UpSampling``.

Layouts are MXNet's channel-first ``NCW``/``NCHW``/``NCDHW`` (weights
``(num_filter, C / num_group, *kernel)``) or channel-last ``NWC``/``NHWC``/``NDHWC``
(weights ``(num_filter, *kernel, C / num_group)``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from optjax.compat.mxnet.base import MXNetError
from optjax.compat.mxnet.ops.conv_grad import conv2d, weight_grad_plan
from optjax.compat.mxnet.ops.registry import register

_DEFAULT_LAYOUT = {3: "NCW", 4: "NCHW", 5: "NCDHW"}


def _layout(ndim: int, layout) -> str:
    lay = layout or _DEFAULT_LAYOUT.get(ndim)
    if lay is None or len(lay) != ndim:
        raise MXNetError(f"expected 3-D, 4-D or 5-D data with layout {layout}, got {ndim}-D")
    return lay


def _tup(v, n: int, fill: int) -> tuple:
    v = tuple(v) if v else ()
    return v if v else (fill,) * n


def _kernel_spec(lay: str) -> str:
    sp = lay.replace("N", "").replace("C", "")
    return "O" + sp + "I" if lay.endswith("C") else "OI" + sp


def _conv_shapes(data_shape, *, kernel: tuple, num_filter: int, num_group: int = 1,
                 no_bias: bool = False, layout=None, **_):
    lay = _layout(len(data_shape), layout)
    c = int(data_shape[lay.index("C")]) // int(num_group)
    k = tuple(int(v) for v in kernel)
    w = (int(num_filter),) + (k + (c,) if lay.endswith("C") else (c,) + k)
    return {"weight": w} if no_bias else {"weight": w, "bias": (int(num_filter),)}


def _add_bias(y, bias, lay):
    shape = [1] * y.ndim
    shape[lay.index("C")] = -1
    return y + bias.reshape(shape).astype(y.dtype)


@register("Convolution", ("data", "weight", "bias"), param_shapes=_conv_shapes)
def convolution(data, weight, bias=None, *, kernel: tuple, num_filter: int, stride: tuple = (),
                dilate: tuple = (), pad: tuple = (), num_group: int = 1, workspace: int = 1024,
                no_bias: bool = False, cudnn_tune: str | None = None, cudnn_off: bool = False,
                layout: str | None = None):
    """Cross-correlation ``y[n, f] = sum_c,k w[f, c, k] x[n, g*C/G + c, s*o + d*k - p] + b[f]``.

    ``stride`` and ``dilate`` default to 1 and ``pad`` to 0 per spatial axis;
    ``num_group`` splits channels into groups (weights ``(num_filter, C/num_group, *kernel)``).
    Output size ``floor((in + 2 pad - dilate (k - 1) - 1) / stride) + 1``.
    """
    lay = _layout(data.ndim, layout)
    n = len(kernel)
    stride, dilate, pad = _tup(stride, n, 1), _tup(dilate, n, 1), _tup(pad, n, 0)
    expected = _conv_shapes(data.shape, kernel=kernel, num_filter=num_filter,
                            num_group=num_group, no_bias=True, layout=lay)["weight"]
    if tuple(weight.shape) != expected:
        raise MXNetError(f"Convolution: weight shape {tuple(weight.shape)} does not match "
                         f"{expected} inferred from data {tuple(data.shape)}")
    dn = lax.conv_dimension_numbers(data.shape, weight.shape, (lay, _kernel_spec(lay), lay))
    padding = tuple((p, p) for p in pad)
    plan = weight_grad_plan(data.shape, weight.shape, stride=stride, dilate=dilate,
                            padding=padding, num_group=num_group, layout=lay, dtype=data.dtype)
    if plan is not None:  # the same forward; a faster weight gradient on XLA:CPU
        y = conv2d(data, weight.astype(data.dtype), padding, dilate, dn, lay, plan)
    else:
        y = lax.conv_general_dilated(data, weight.astype(data.dtype), stride, padding,
                                     rhs_dilation=dilate, dimension_numbers=dn,
                                     feature_group_count=num_group,
                                     precision=lax.Precision.HIGHEST)
    return y if no_bias or bias is None else _add_bias(y, bias, lay)


def _deconv_shapes(data_shape, *, kernel: tuple, num_filter: int, num_group: int = 1,
                   no_bias: bool = True, layout=None, **_):
    lay = _layout(len(data_shape), layout)
    c = int(data_shape[lay.index("C")])
    w = (c, int(num_filter) // int(num_group)) + tuple(int(v) for v in kernel)
    return {"weight": w} if no_bias else {"weight": w, "bias": (int(num_filter),)}


def deconv_padding(in_sizes, kernel, stride, dilate, pad, adj, target_shape):
    """MXNet's ``(pad, adj)`` per axis; a ``target_shape`` overrides both."""
    if not target_shape or not any(target_shape):
        return pad, adj
    pads, adjs = [], []
    for i, t in enumerate(target_shape):
        total = stride[i] * (in_sizes[i] - 1) + dilate[i] * (kernel[i] - 1) + 1 - t
        adjs.append(total % 2)
        pads.append((total + 1) // 2)
    return tuple(pads), tuple(adjs)


@register("Deconvolution", ("data", "weight", "bias"), param_shapes=_deconv_shapes)
def deconvolution(data, weight, bias=None, *, kernel: tuple, num_filter: int, stride: tuple = (),
                  dilate: tuple = (), pad: tuple = (), adj: tuple = (), target_shape: tuple = (),
                  num_group: int = 1, workspace: int = 512, no_bias: bool = True,
                  cudnn_tune: str | None = None, cudnn_off: bool = False,
                  layout: str | None = None):
    """Transposed convolution (the gradient of ``Convolution`` w.r.t. its data).

    Weights ``(C, num_filter / num_group, *kernel)``; output size
    ``stride (in - 1) + dilate (k - 1) + 1 - 2 pad + adj``; with ``target_shape``,
    ``pad`` and ``adj`` are chosen to reach it. ``no_bias`` defaults to True.
    """
    lay = _layout(data.ndim, layout)
    if lay not in ("NCW", "NCHW", "NCDHW"):
        raise MXNetError(f"Deconvolution: layout {lay} is not supported on CPU")
    n = len(kernel)
    stride, dilate = _tup(stride, n, 1), _tup(dilate, n, 1)
    pad, adj = deconv_padding(data.shape[2:], kernel, stride, dilate, _tup(pad, n, 0),
                              _tup(adj, n, 0), target_shape)
    c, g = data.shape[1], num_group
    w = weight.astype(data.dtype).reshape((g, c // g, num_filter // g) + tuple(kernel))
    w = jnp.swapaxes(w, 1, 2).reshape((num_filter, c // g) + tuple(kernel))
    w = jnp.flip(w, axis=tuple(range(2, 2 + n)))
    padding = [(d * (k - 1) - p, d * (k - 1) - p + a)
               for k, d, p, a in zip(kernel, dilate, pad, adj)]
    dn = lax.conv_dimension_numbers(data.shape, w.shape, (lay, _kernel_spec(lay), lay))
    y = lax.conv_general_dilated(data, w, (1,) * n, padding, lhs_dilation=stride,
                                 rhs_dilation=dilate, dimension_numbers=dn,
                                 feature_group_count=g, precision=lax.Precision.HIGHEST)
    return y if no_bias or bias is None else _add_bias(y, bias, lay)


def pool_extra(size: int, k: int, s: int, p: int, convention: str) -> int:
    """Padding added at the end of an axis so ``'full'`` (ceil) windows fit; 0 for ``'valid'``."""
    if convention == "valid":
        return 0
    out = -(-(size + 2 * p - k) // s) + 1  # ceil
    return max(0, (out - 1) * s + k - (size + 2 * p))


def _tiled_pool(data, sp, kernel, pool_type):
    """Pooling whose windows tile the input (kernel == stride, no padding, 'valid' windows
    or sizes that divide) as a reshape and
    a reduction over the window axis: much faster on CPU than ``reduce_window`` and its
    ``select_and_scatter`` gradient. Max pooling sends the gradient to the first
    maximum of each window (row-major), as MXNet's backward does."""
    # 'valid' windows: the trailing rows/columns no window covers are dropped (zero gradient)
    data = data[tuple(slice(0, d - d % kernel[sp.index(i)]) if i in sp else slice(None)
                      for i, d in enumerate(data.shape))]
    shape, win = [], []
    for i, d in enumerate(data.shape):
        if i in sp:
            k = kernel[sp.index(i)]
            shape += [d // k, k]
            win.append(len(shape) - 1)
        else:
            shape.append(d)
    x = data.reshape(shape)
    x = jnp.moveaxis(x, win, list(range(len(shape) - len(win), len(shape))))
    out_shape = x.shape[:len(shape) - len(win)]
    x = x.reshape(out_shape + (-1,))
    if pool_type == "sum":
        return jnp.sum(x, axis=-1)
    if pool_type == "avg":
        return jnp.mean(x, axis=-1).astype(data.dtype)
    first = jax.nn.one_hot(jnp.argmax(x, axis=-1), x.shape[-1], dtype=jnp.bool_)
    return jnp.sum(jnp.where(first, x, jnp.zeros((), x.dtype)), axis=-1)


@register("Pooling", ("data",))
def pooling(data, *, kernel: tuple = (), pool_type: str = "max", global_pool: bool = False,
            cudnn_off: bool = False, pooling_convention: str = "valid", stride: tuple = (),
            pad: tuple = (), p_value: int | None = None, count_include_pad: bool | None = None,
            layout: str | None = None):
    """``max``, ``avg``, ``sum`` or ``lp`` (``(sum |x|^p)^(1/p)``) over windows.

    ``stride`` defaults to 1 and ``pad`` to 0 per axis; ``global_pool`` pools each
    channel's whole spatial extent. Output size ``floor`` (``'valid'``) or
    ``ceil`` (``'full'``) of ``(in + 2 pad - k) / stride`` plus 1. ``avg`` divides by
    the window size including padding (``count_include_pad``, default True) but not
    the ``'full'`` overhang, or by the valid elements only.
    """
    lay = _layout(data.ndim, layout)
    sp = [i for i, ch in enumerate(lay) if ch not in "NC"]
    if global_pool:
        kernel, stride, pad = tuple(data.shape[i] for i in sp), (1,) * len(sp), (0,) * len(sp)
    n = len(sp)
    if len(kernel) != n:
        raise MXNetError(f"Pooling: kernel {tuple(kernel)} must have {n} dimensions for "
                         f"{data.ndim}-D data")
    stride, pad = _tup(stride, n, 1), _tup(pad, n, 0)
    window, strides = [1] * data.ndim, [1] * data.ndim
    padding = [(0, 0)] * data.ndim
    inner = [(0, 0)] * data.ndim
    for j, i in enumerate(sp):
        window[i], strides[i] = kernel[j], stride[j]
        extra = pool_extra(data.shape[i], kernel[j], stride[j], pad[j], pooling_convention)
        padding[i] = (pad[j], pad[j] + extra)
        inner[i] = (0, extra)
    if pool_type in ("max", "avg", "sum") and all(
            kernel[j] == stride[j] and pad[j] == 0 and (
                pooling_convention == "valid" or data.shape[i] % kernel[j] == 0)
            for j, i in enumerate(sp)):
        return _tiled_pool(data, sp, tuple(kernel), pool_type)
    if pool_type == "max":
        init = np.array(-np.inf if jnp.issubdtype(data.dtype, jnp.floating)
                        else jnp.iinfo(data.dtype).min, data.dtype)
        return lax.reduce_window(data, init, lax.max, window, strides, padding)

    def window_sum(x, pads):
        return lax.reduce_window(x, np.zeros((), x.dtype), lax.add, window, strides, pads)

    if pool_type == "sum":
        return window_sum(data, padding)
    if pool_type == "lp":
        p = p_value or 2
        s = window_sum(jnp.abs(data) ** p if p != 1 else jnp.abs(data), padding)
        return s if p == 1 else s ** (1.0 / p)
    if pool_type != "avg":
        raise MXNetError(f"Invalid Input: '{pool_type}', valid values are: "
                         "{'avg', 'lp', 'max', 'sum'}")
    total = window_sum(data, padding)
    ones = jnp.ones(data.shape, data.dtype)
    if count_include_pad is None or count_include_pad:
        # padding counts, the 'full' overhang does not
        counted = jnp.pad(ones, [(a, a) for a, _ in padding], constant_values=1)
        count = window_sum(counted, inner)
    else:
        count = window_sum(ones, padding)
    return total / count


@register("UpSampling", ("*data",))
def upsampling(*data, scale: int, sample_type: str = "nearest", num_filter: int = 0,
               multi_input_mode: str = "concat", num_args: int = 1, workspace: int = 512):
    """Nearest-neighbour upsampling of each input so its spatial size is the first
    input's times ``scale``; several inputs are concatenated on axis 1 (or summed,
    ``multi_input_mode='sum'``). Only ``sample_type='nearest'`` is supported."""
    if sample_type != "nearest":
        raise MXNetError("UpSampling: only sample_type='nearest' is supported by the shim")
    target = data[0].shape[2] * scale
    outs = []
    for x in data:
        s = target // x.shape[2]
        for ax in range(2, x.ndim):
            x = jnp.repeat(x, s, axis=ax)
        outs.append(x)
    if len(outs) == 1:
        return outs[0]
    if multi_input_mode == "sum":
        return sum(outs[1:], outs[0])
    return jnp.concatenate(outs, axis=1)
