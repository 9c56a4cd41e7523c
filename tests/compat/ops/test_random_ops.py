"""Operators that draw random numbers in training (their draws are the shim's own stream, so
they are checked by their distribution and their consistency, not against MXNet's draws)."""

import numpy as np

from optjax.compat.mxnet import autograd, nd


def test_dropout_training_scales_kept_and_backward_uses_the_same_mask():
    x = nd.ones((200, 50))
    x.attach_grad()
    with autograd.record():
        y = nd.Dropout(x, p=0.3)
    y.backward()
    out, grad = y.asnumpy(), x.grad.asnumpy()
    kept = out != 0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(out[kept], 1 / 0.7, rtol=1e-6)
    np.testing.assert_array_equal(grad, out)  # d(x * mask / (1 - p)) / dx with the same mask


def test_dropout_identity_in_prediction_and_always_mode_drops():
    x = nd.ones((100, 10))
    np.testing.assert_array_equal(nd.Dropout(x, p=0.5).asnumpy(), x.asnumpy())
    assert (nd.Dropout(x, p=0.5, mode="always").asnumpy() == 0).any()


def test_dropout_axes_share_the_mask():
    x = nd.ones((4, 30, 6))
    with autograd.train_mode():
        y = nd.Dropout(x, p=0.5, axes=(1,)).asnumpy()
    assert (y == y[:, :1, :]).all()


def test_rrelu_training_slopes_lie_between_the_bounds():
    x = -nd.ones((1000,))
    with autograd.train_mode():
        y = nd.LeakyReLU(x, act_type="rrelu", lower_bound=0.1, upper_bound=0.3).asnumpy()
    assert ((-y >= 0.1) & (-y <= 0.3)).all() and y.std() > 0.01
