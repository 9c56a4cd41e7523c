"""A hybridized block called under ``autograd.record()`` defers its forward: the outputs
(and the operators applied to them) are computed by ``backward``'s one compiled replay, or
when first read. The numbers must not depend on when they are read."""

import numpy as np
import pytest

import optjax.compat.mxnet as mx
from optjax.compat.mxnet import autograd, gluon, nd
from optjax.compat.mxnet.gluon import nn


def _net():
    net = nn.HybridSequential()
    net.add(nn.Dense(5, activation="relu"), nn.BatchNorm(), nn.Dense(3))
    net.initialize(mx.init.Xavier())
    net.hybridize()
    return net


def _data():
    rng = np.random.RandomState(0)
    return nd.array(rng.standard_normal((4, 6)).astype(np.float32)), nd.array([0, 2, 1, 2])


def _steps(read_early):
    mx.random.seed(0)
    np.random.seed(0)
    net = _net()
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1, "momentum": 0.9})
    x, y = _data()
    seen = []
    for _ in range(3):
        with autograd.record():
            out = net(x)
            if read_early:
                seen.append(out.asnumpy())
            loss = loss_fn(out, y)
            if read_early:
                seen.append(loss.asnumpy())
        loss.backward()
        trainer.step(4)
        if not read_early:
            seen += [out.asnumpy(), loss.asnumpy()]
    params = [p.data().asnumpy() for p in net.collect_params().values()]
    return seen, params


def test_outputs_are_pending_until_backward_or_first_read():
    net, (x, y) = _net(), _data()
    with autograd.record():
        out = net(x)
        loss = gluon.loss.SoftmaxCrossEntropyLoss()(out, y)
    assert out._store.pending is not None and loss._store.pending is not None
    assert loss.shape == (4,) and loss.dtype == np.float32
    loss.backward()
    assert out._store.pending is None and loss._store.pending is None
    assert net[0].weight.grad().asnumpy().any()


def test_reading_before_backward_gives_the_same_numbers():
    early, p_early = _steps(True)
    late, p_late = _steps(False)
    for a, b in zip(early, late):
        np.testing.assert_array_equal(a, b)
    assert len(p_early) == len(p_late) == 8
    for a, b in zip(p_early, p_late):
        np.testing.assert_array_equal(a, b)


def test_pending_output_unused_by_the_loss_and_read_later():
    net, (x, _) = _net(), _data()
    with autograd.record():
        out = net(x)
        side = out * 2
        loss = out.sum()
    loss.backward()
    assert side._store.pending is not None  # not on the path to the head
    np.testing.assert_allclose(side.asnumpy(), 2 * out.asnumpy(), rtol=1e-6)


def test_backward_on_an_unrecorded_array_still_raises():
    net, (x, _) = _net(), _data()
    with autograd.record():
        net(x)
    with pytest.raises(mx.base.MXNetError, match="not in a computational graph"):
        nd.ones((2,)).backward()


def test_shape_mismatch_still_raises_at_the_first_forward():
    net = nn.HybridSequential()
    net.add(nn.Dense(3, in_units=5))
    net.initialize()
    net.hybridize()
    with pytest.raises(Exception, match="5"):
        with autograd.record():
            net(nd.ones((2, 4)))
