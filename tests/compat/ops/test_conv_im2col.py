"""Convolution's im2col path agrees with XLA's convolution (values and both gradients)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from optjax.compat.mxnet.ops import conv

CASES = [  # data (NCHW), weight (OIHW), stride, dilate, pad
    ((3, 4, 11, 9), (5, 4, 3, 2), (1, 1), (1, 1), (0, 0)),
    ((3, 4, 11, 9), (5, 4, 3, 2), (2, 3), (2, 1), (1, 2)),
    ((2, 3, 7, 7), (4, 3, 1, 1), (1, 1), (1, 1), (0, 0)),
    ((4, 1, 28, 28), (6, 1, 5, 5), (1, 1), (1, 1), (2, 2)),
]


def _xla(x, w, lay, stride, dilate, pad):
    dn = lax.conv_dimension_numbers(x.shape, w.shape, (lay, conv._kernel_spec(lay), lay))
    return lax.conv_general_dilated(x, w, stride, [(p, p) for p in pad], rhs_dilation=dilate,
                                    dimension_numbers=dn, precision=lax.Precision.HIGHEST)


@pytest.mark.parametrize("lay", ["NCHW", "NHWC"])
@pytest.mark.parametrize("case", CASES)
def test_im2col_matches_xla_convolution_and_gradients(case, lay):
    xs, ws, stride, dilate, pad = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal(ws).astype(np.float32)
    if lay == "NHWC":
        x, w = x.transpose(0, 2, 3, 1), w.transpose(0, 2, 3, 1)
    ref = _xla(x, w, lay, stride, dilate, pad)
    g = jnp.asarray(rng.standard_normal(ref.shape).astype(np.float32))
    got = conv._im2col_conv2d(x, w, lay, stride, dilate, pad)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)
    def grads(f):
        return jax.grad(lambda a, b: jnp.sum(f(a, b, lay, stride, dilate, pad) * g), (0, 1))(x, w)

    for a, b in zip(grads(conv._im2col_conv2d), grads(_xla)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-4)


def test_rule_picks_im2col_only_for_small_ungrouped_2d():
    on_cpu = jax.default_backend() == "cpu"
    assert conv.use_im2col((128, 20, 12, 12), "NCHW", (5, 5), (1, 1), (1, 1), (0, 0), 1) == on_cpu
    assert not conv.use_im2col((128, 20, 12, 12), "NCHW", (5, 5), (1, 1), (1, 1), (0, 0), 2)
    assert not conv.use_im2col((8, 3, 10), "NCW", (3,), (1,), (1,), (0,), 1)
    assert not conv.use_im2col((64, 256, 56, 56), "NCHW", (3, 3), (1, 1), (1, 1), (1, 1), 1)
