"""A 2-D convolution whose weight gradient is written as matrix products, for XLA:CPU.

XLA:CPU computes a convolution's weight gradient as another convolution, whose window
is the output's spatial extent. In the shapes below that kernel is 1.5-3.3x slower than
the same sum written as matrix products (``benchmarks/conv_weight_grad.py``, which
times every case on the machine at hand): LeNet's 5x5 convolutions (1 -> 20 channels on
28x28 and 20 -> 50 on 12x12, batch 128), an RGB 3x3 first layer, 3x3 convolutions of 16-32
channels on 16x16. :func:`conv2d` is ``lax.conv_general_dilated`` forward (the same
computation, the same bits) and, under differentiation, XLA's own data gradient; its
weight gradient, for stride 1 (``x`` padded, ``P = N * out_h * out_w`` output positions)::

    dW[f, c, i, j] = sum_{n, p} dy[n, f, p] * x[n, c, p + dilate * (i, j)]

is computed

- ``"patches"`` when ``C * kh * kw <= 32`` (few input channels) and ``F >= 16``: one product
  ``dy^T (F, P) @ cols (P, kh * kw * C)`` with the matrix of every window (im2col);
- ``"offsets"`` when ``C >= 16``, ``F >= 16`` and ``P >= 8192``: ``kh * kw`` products
  ``dy^T (F, P) @ x_shifted (P, C)``, one per kernel offset;

and XLA's own way otherwise (strides, groups, 1-D/3-D, other dtypes, other backends,
small or wide layers where XLA's kernel measured as fast). The sums run in another
order than XLA's: weight gradients differ from XLA's in the last bits (relative
1e-6), the forward values and data gradients do not differ at all. Reverse-mode
gradients of any order work (``jax.grad``, MXNet's ``autograd`` with ``create_graph``);
forward mode (``jax.jvp``, ``jax.jacfwd``) is not defined through these convolutions
(a ``jax.custom_vjp``), as MXNet has none.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax

__all__ = ["weight_grad_plan", "conv2d"]

_HIGHEST = lax.Precision.HIGHEST


def weight_grad_plan(data_shape: tuple, weight_shape: tuple, *, stride: tuple, dilate: tuple,
                     padding: list, num_group: int, layout: str, dtype) -> str | None:
    """``"patches"``, ``"offsets"`` or None (XLA's weight gradient) for a convolution of
    ``data_shape`` by ``weight_shape`` (MXNet's layouts: ``NCHW`` with ``OIHW`` weights,
    ``NHWC`` with ``OHWI``), by the rules in the module docstring."""
    if (layout not in ("NCHW", "NHWC") or num_group != 1 or tuple(stride) != (1, 1)
            or jnp.dtype(dtype) != jnp.float32 or jax.default_backend() != "cpu"):
        return None
    sp = (1, 2) if layout == "NHWC" else (2, 3)
    kernel = weight_shape[1:3] if layout == "NHWC" else weight_shape[2:4]
    c, f = data_shape[layout.index("C")], weight_shape[0]
    out = [data_shape[a] + lo + hi - d * (k - 1)
           for a, (lo, hi), d, k in zip(sp, padding, dilate, kernel)]
    if min(out) < 1:
        return None
    positions = data_shape[0] * out[0] * out[1]
    if c * kernel[0] * kernel[1] <= 32 and f >= 16:
        return "patches"
    if c >= 16 and f >= 16 and positions >= 8192:
        return "offsets"
    return None


def _forward(data, weight, padding, dilate, dn):
    return lax.conv_general_dilated(data, weight, (1, 1), padding, rhs_dilation=dilate,
                                    dimension_numbers=dn, precision=_HIGHEST)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4, 5, 6))
def conv2d(data, weight, padding: tuple, dilate: tuple, dn, layout: str, plan: str):
    """``lax.conv_general_dilated(data, weight)`` with stride 1 (``padding`` as
    ``((lo, hi), (lo, hi))``, ``dn`` the dimension numbers of ``layout``) whose weight
    gradient is computed by ``plan`` (:func:`weight_grad_plan`)."""
    return _forward(data, weight, padding, dilate, dn)


def _conv2d_fwd(data, weight, padding, dilate, dn, layout, plan):
    return _forward(data, weight, padding, dilate, dn), (data, weight)


def _conv2d_bwd(padding, dilate, dn, layout, plan, res, dy):
    data, weight = res
    _, data_vjp = jax.vjp(lambda d: _forward(d, weight, padding, dilate, dn), data)
    return data_vjp(dy)[0], weight_gradient(data, dy, weight.shape, padding, dilate, layout,
                                            plan)


conv2d.defvjp(_conv2d_fwd, _conv2d_bwd)


def weight_gradient(data, dy, weight_shape: tuple, padding, dilate, layout: str, plan: str):
    """``dW`` of a stride-1 2-D convolution from its input ``data`` and output gradient
    ``dy`` (both in ``layout``), as matrix products (``plan``: ``"patches"`` or
    ``"offsets"``); shaped ``weight_shape``."""
    if layout == "NCHW":  # computed channel-last: windows are contiguous in C
        data, dy = data.transpose(0, 2, 3, 1), dy.transpose(0, 2, 3, 1)
    x = jnp.pad(data, ((0, 0), tuple(padding[0]), tuple(padding[1]), (0, 0)))
    n, oh, ow, f = dy.shape
    c = x.shape[-1]
    kh, kw = weight_shape[1:3] if layout == "NHWC" else weight_shape[2:4]
    rows = dy.reshape(n * oh * ow, f).T  # (F, P)

    def window(i, j):  # x at every output position shifted by kernel offset (i, j)
        a, b = i * dilate[0], j * dilate[1]
        return x[:, a:a + oh, b:b + ow, :].reshape(n * oh * ow, c)

    offsets = [(i, j) for i in range(kh) for j in range(kw)]
    if plan == "patches":
        cols = jnp.concatenate([window(i, j) for i, j in offsets], axis=1)  # (P, kh kw C)
        g = jnp.dot(rows, cols, precision=_HIGHEST)
    else:
        g = jnp.stack([jnp.dot(rows, window(i, j), precision=_HIGHEST) for i, j in offsets],
                      axis=1)
    g = g.reshape(f, kh, kw, c)  # OHWI
    return g if layout == "NHWC" else g.transpose(0, 3, 1, 2)
