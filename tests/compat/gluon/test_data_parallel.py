"""MXNet's single-machine data parallelism on 8 simulated CPU devices (tests/conftest.py):
a net initialized on a list of contexts, ``split_and_load``, a Trainer summing gradients
over the contexts as ``kvstore='device'``; numbers checked against real MXNet's
single-device run of the same loop (the sum of the slices' gradients is the batch's)."""

import os
import sys

import jax
import numpy as np
import pytest

import optjax.compat.mxnet as mx
from optjax.compat.mxnet import autograd, gluon

HERE = os.path.join(os.path.dirname(__file__), "..", "..", "golden", "compat", "gluon")
sys.path.insert(0, HERE)
import cases  # noqa: E402

GOLDEN = np.load(os.path.join(HERE, "mxnet_gluon.npz"))

pytestmark = pytest.mark.skipif(len(jax.devices("cpu")) < 4, reason="needs 4 CPU devices")


def _loop_golden(name):
    p = f"loop/{name}/"
    init = {k[len(p) + 5:]: GOLDEN[k] for k in GOLDEN.files if k.startswith(p + "init/")}
    final = {k[len(p) + 6:]: GOLDEN[k] for k in GOLDEN.files if k.startswith(p + "final/")}
    return GOLDEN[p + "xs"], GOLDEN[p + "ys"], GOLDEN[p + "losses"], init, final


@pytest.mark.parametrize("hybridize", [False, True], ids=["imperative", "hybridized"])
@pytest.mark.parametrize("per_loss_backward", [True, False], ids=["l.backward", "autograd.backward"])
def test_mlp_on_four_devices_matches_mxnet_single_device(hybridize, per_loss_backward):
    xs, ys, want_losses, init, final = _loop_golden("mlp")
    ctx = [mx.cpu(i) for i in range(4)]
    net = cases.mlp(mx)
    net.initialize(mx.init.Xavier(), ctx=ctx)
    with autograd.pause():
        net(mx.nd.array(xs[0], ctx=ctx[0]))
    cases.set_params(mx, net, init)
    if hybridize:
        for child in net._children.values():
            child.hybridize()
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1, "momentum": 0.9})
    losses = []
    for i in range(cases.STEPS):
        data = gluon.utils.split_and_load(mx.nd.array(xs[i]), ctx)
        label = gluon.utils.split_and_load(mx.nd.array(ys[i]), ctx)
        with autograd.record():
            ls = [loss(net(X), y) for X, y in zip(data, label)]
        if per_loss_backward:
            for l in ls:
                l.backward()
        else:
            autograd.backward(ls)
        trainer.step(xs.shape[1])
        losses.append(np.mean(np.concatenate([l.asnumpy() for l in ls])))
    np.testing.assert_allclose(losses, want_losses, rtol=1e-4, atol=1e-5)
    for name, p in cases.structural_params(net).items():
        copies = p.list_data()
        assert [next(iter(c._data.devices())) for c in copies] == [c.jax_device for c in ctx]
        for c in copies:
            np.testing.assert_allclose(c.asnumpy(), final[name], rtol=1e-4, atol=1e-5,
                                       err_msg=name)


def test_split_and_load_places_slices_on_devices():
    ctx = [mx.cpu(i) for i in range(3)]
    parts = gluon.utils.split_and_load(mx.nd.arange(10).reshape((5, 2)), ctx, even_split=False)
    assert [p.shape for p in parts] == [(2, 2), (2, 2), (1, 2)]
    assert [p.context for p in parts] == ctx
    assert [next(iter(p._data.devices())) for p in parts] == [c.jax_device for c in ctx]
    with pytest.raises(ValueError, match="cannot be evenly split"):
        gluon.utils.split_and_load(mx.nd.zeros((5, 2)), ctx)


def test_hybridized_block_refuses_inputs_on_two_contexts():
    net = gluon.nn.HybridLambda(lambda F, x, y: x + y)
    net.hybridize()
    a = mx.nd.ones((1, 3), ctx=mx.cpu(0))
    b = mx.nd.ones((1, 3), ctx=mx.cpu(1))
    with pytest.raises(ValueError, match="multiple contexts"):
        net(a, b)
