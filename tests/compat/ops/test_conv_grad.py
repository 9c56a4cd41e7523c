"""``Convolution``'s weight gradient as matrix products on XLA:CPU (ops/conv_grad.py):
the plan rules, the same forward and data gradient bits as XLA, the weight gradient
equal to XLA's up to summation order, second-order gradients. (MXNet's own numbers
for the convolution layers are in test_ops_golden.py and the gluon/Module goldens.)"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from optjax.compat.mxnet.ops.conv import convolution
from optjax.compat.mxnet.ops.conv_grad import weight_grad_plan

# (data NCHW shape, num_filter, kernel, pad, dilate, plan)
CASES = [
    ((16, 1, 28, 28), 20, (5, 5), (0, 0), (1, 1), "patches"),
    ((8, 3, 10, 10), 16, (3, 3), (1, 1), (2, 1), "patches"),
    ((64, 1, 28, 28), 6, (5, 5), (0, 0), (1, 1), None),  # few filters: XLA's measured as fast
    ((128, 20, 12, 12), 50, (5, 5), (0, 0), (1, 1), "offsets"),
    ((64, 16, 16, 16), 32, (3, 3), (1, 2), (1, 1), "offsets"),
    ((8, 20, 12, 12), 50, (5, 5), (0, 0), (1, 1), None),  # few output positions
]


def _lax_conv(x, w, pad, dilate, layout):
    spec = "OIHW" if layout == "NCHW" else "OHWI"
    dn = lax.conv_dimension_numbers(x.shape, w.shape, (layout, spec, layout))
    return lax.conv_general_dilated(x, w, (1, 1), [(p, p) for p in pad], rhs_dilation=dilate,
                                    dimension_numbers=dn, precision=lax.Precision.HIGHEST)


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("shape, num_filter, kernel, pad, dilate, plan", CASES)
def test_forward_and_data_gradient_are_xlas_weight_gradient_equal_up_to_order(
        layout, shape, num_filter, kernel, pad, dilate, plan):
    rng = np.random.default_rng(0)
    if layout == "NHWC":
        shape = (shape[0], shape[2], shape[3], shape[1])
    c = shape[layout.index("C")]
    wshape = (num_filter, c) + kernel if layout == "NCHW" else (num_filter,) + kernel + (c,)
    x = jnp.asarray(rng.standard_normal(shape).astype(np.float32))
    w = jnp.asarray(rng.standard_normal(wshape).astype(np.float32))
    assert weight_grad_plan(shape, wshape, stride=(1, 1), dilate=dilate,
                            padding=tuple((p, p) for p in pad), num_group=1, layout=layout,
                            dtype=np.float32) == plan

    def ours(x, w):
        return convolution(x, w, kernel=kernel, num_filter=num_filter, pad=pad, dilate=dilate,
                           no_bias=True, layout=layout)

    def theirs(x, w):
        return _lax_conv(x, w, pad, dilate, layout)

    y, vjp = jax.vjp(ours, x, w)
    y_ref, vjp_ref = jax.vjp(theirs, x, w)
    dy = jnp.asarray(rng.standard_normal(y.shape).astype(np.float32))
    (dx, dw), (dx_ref, dw_ref) = vjp(dy), vjp_ref(dy)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(dx, dx_ref)
    np.testing.assert_allclose(dw, dw_ref, rtol=2e-5, atol=2e-5 * float(jnp.abs(dw_ref).max()))
    if plan is None:
        np.testing.assert_array_equal(dw, dw_ref)


def test_plan_falls_back_to_xla_where_not_measured_faster():
    common = dict(dilate=(1, 1), padding=((0, 0), (0, 0)), layout="NCHW")
    lenet1 = ((128, 1, 28, 28), (20, 1, 5, 5))
    assert weight_grad_plan(*lenet1, stride=(1, 1), num_group=1, dtype=np.float32,
                            **common) == "patches"
    assert weight_grad_plan(*lenet1, stride=(2, 2), num_group=1, dtype=np.float32,
                            **common) is None
    assert weight_grad_plan(*lenet1, stride=(1, 1), num_group=1, dtype=np.float16,
                            **common) is None
    assert weight_grad_plan((128, 4, 28, 28), (20, 2, 5, 5), stride=(1, 1), num_group=2,
                            dtype=np.float32, **common) is None
    assert weight_grad_plan((32, 128, 8, 8), (128, 128, 3, 3), stride=(1, 1), num_group=1,
                            dtype=np.float32, **common) is None  # wide, few positions


def test_second_order_gradient_through_the_weight_gradient():
    rng = np.random.default_rng(1)
    x = jnp.asarray(rng.standard_normal((4, 1, 9, 9)).astype(np.float32))
    w = jnp.asarray(rng.standard_normal((3, 1, 3, 3)).astype(np.float32))

    def loss(conv):
        return lambda w: jnp.sum(jnp.tanh(conv(x, w)) ** 2)

    def ours(x, w):
        return convolution(x, w, kernel=(3, 3), num_filter=3, no_bias=True)

    def theirs(x, w):
        return _lax_conv(x, w, (0, 0), (1, 1), "NCHW")

    def g_norm(conv):
        return lambda w: jnp.sum(jax.grad(loss(conv))(w) ** 2)

    np.testing.assert_allclose(jax.grad(g_norm(ours))(w), jax.grad(g_norm(theirs))(w),
                               rtol=1e-4, atol=1e-5)
