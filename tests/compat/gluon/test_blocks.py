"""Block/HybridBlock/Parameter behaviour as MXNet 1.9.1: naming, deferred initialization,
grad_req, contexts, hybridize, bad input (errors raised before anything changes)."""

import warnings

import numpy as np
import pytest

import optjax.compat.mxnet as mx
from optjax.compat.mxnet import autograd, gluon, nd
from optjax.compat.mxnet.gluon import nn


def _values(block):
    return {k: p.data().asnumpy().copy() for k, p in block.collect_params().items()}


def test_mxnet_naming_and_collect_params_select():
    net = nn.HybridSequential(prefix="model_")
    with net.name_scope():
        net.add(nn.Dense(4, activation="relu"), nn.Conv2D(2, 3), nn.BatchNorm(), nn.Dense(2))
    names = list(net.collect_params().keys())
    assert names == ["model_dense0_weight", "model_dense0_bias", "model_conv0_weight",
                     "model_conv0_bias", "model_batchnorm0_gamma", "model_batchnorm0_beta",
                     "model_batchnorm0_running_mean", "model_batchnorm0_running_var",
                     "model_dense1_weight", "model_dense1_bias"]
    assert list(net.collect_params(".*weight").keys()) == [
        "model_dense0_weight", "model_conv0_weight", "model_dense1_weight"]
    assert net[0].act.prefix == "model_dense0_relu_"
    assert sorted(net._collect_params_with_prefix())[:2] == ["0.bias", "0.weight"]


def test_global_counters_name_unscoped_blocks():
    a, b = nn.Dense(1), nn.Dense(1)
    ia, ib = int(a.name[len("dense"):]), int(b.name[len("dense"):])
    assert ib == ia + 1 and a.weight.name == a.name + "_weight"


def test_deferred_init_gets_shapes_at_first_forward():
    net = nn.Dense(3)
    net.initialize()
    assert net.weight.shape == (3, 0)
    with pytest.raises(gluon.DeferredInitializationError):
        net.weight.data()
    net(nd.ones((2, 5)))
    assert net.weight.shape == (3, 5) and net.weight.data().shape == (3, 5)


def test_shape_mismatch_at_first_forward_names_layer_and_shapes():
    net = nn.HybridSequential(prefix="m_")
    with net.name_scope():
        net.add(nn.Dense(3, in_units=4))
    net.initialize()
    before = _values(net)
    with pytest.raises(mx.base.MXNetError, match=r"m_dense0.*m_dense0_weight.*\(3, 4\).*"
                                                 r"\(2, 5\).*\(3, 5\)"):
        net(nd.ones((2, 5)))
    for k, v in _values(net).items():
        np.testing.assert_array_equal(v, before[k])


def test_backward_on_unrecorded_array_raises():
    x = nd.ones((2, 2))
    with pytest.raises(mx.base.MXNetError, match="not in a computational graph"):
        x.backward()


def test_dtype_mismatch_is_mxnets_error():
    with pytest.raises(mx.base.MXNetError, match="Incompatible attr"):
        nd.ones((2, 2), dtype="int32") + nd.ones((2, 2))


def test_grad_req_add_accumulates_until_zero_grad():
    net = nn.Dense(1, in_units=2)
    net.initialize(mx.init.One())
    net.weight.grad_req = "add"
    x = nd.array([[1.0, 2.0]])
    for _ in range(3):
        with autograd.record():
            y = net(x)
        y.backward()
    np.testing.assert_array_equal(net.weight.grad().asnumpy(), [[3.0, 6.0]])
    np.testing.assert_array_equal(net.bias.grad().asnumpy(), [1.0])  # 'write'
    net.collect_params().zero_grad()
    np.testing.assert_array_equal(net.weight.grad().asnumpy(), [[0.0, 0.0]])


def test_grad_req_null_has_no_gradient_and_is_not_updated():
    net = nn.Dense(1, in_units=2)
    net.initialize(mx.init.One())
    net.bias.grad_req = "null"
    with pytest.raises(RuntimeError, match="grad_req='null'"):
        net.bias.grad()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 1.0})
    with autograd.record():
        y = net(nd.ones((1, 2)))
    y.backward()
    trainer.step(1)
    np.testing.assert_array_equal(net.bias.data().asnumpy(), [0.0])
    np.testing.assert_array_equal(net.weight.data().asnumpy(), [[0.0, 0.0]])


def test_stale_gradient_raises_before_any_update():
    a, b = nn.Dense(1, in_units=2), nn.Dense(1, in_units=2)
    a.initialize()
    b.initialize()
    params = a.collect_params()
    params.update(b.collect_params())
    trainer = gluon.Trainer(params, "sgd", {"learning_rate": 1.0})
    before = {k: p.data().asnumpy().copy() for k, p in params.items()}
    with autograd.record():
        y = a(nd.ones((1, 2)))
    y.backward()
    with pytest.raises(UserWarning, match="has not been updated by backward"):
        trainer.step(1)
    for k, p in params.items():
        np.testing.assert_array_equal(p.data().asnumpy(), before[k])
    trainer.step(1, ignore_stale_grad=True)
    assert not np.array_equal(a.weight.data().asnumpy(), before[a.weight.name])
    np.testing.assert_array_equal(b.weight.data().asnumpy(), before[b.weight.name])


@pytest.mark.parametrize("hybridize", [False, True])
def test_dropout_backward_uses_the_forward_mask(hybridize):
    drop = nn.HybridSequential()
    drop.add(nn.Dropout(0.5))
    if hybridize:
        drop.hybridize()
    x = nd.random.uniform(1.0, 2.0, shape=(50, 8))
    x.attach_grad()
    with autograd.record():
        y = drop(x)
    y.backward()
    kept = y.asnumpy() != 0
    assert 0.3 < kept.mean() < 0.7
    np.testing.assert_allclose(y.asnumpy()[kept], 2 * x.asnumpy()[kept], rtol=1e-6)
    np.testing.assert_array_equal(x.grad.asnumpy(), 2.0 * kept)
    np.testing.assert_array_equal(drop(x).asnumpy(), x.asnumpy())  # predict mode: identity


def test_hybridized_batchnorm_updates_moving_stats_in_training_backward_only():
    net = nn.HybridSequential()
    net.add(nn.Dense(3, in_units=4), nn.BatchNorm(in_channels=3, momentum=0.5))
    net.initialize()
    net.hybridize()
    x = nd.random.normal(shape=(6, 4))
    with autograd.predict_mode():
        net(x)
    np.testing.assert_array_equal(net[1].running_mean.data().asnumpy(), np.zeros(3))
    with autograd.record():
        h = net[0](x)
        y = net(x)
    np.testing.assert_array_equal(net[1].running_mean.data().asnumpy(), np.zeros(3))
    y.backward()  # MXNet writes the moving statistics in the backward pass
    mean = h.asnumpy().mean(0)
    np.testing.assert_allclose(net[1].running_mean.data().asnumpy(), 0.5 * mean, rtol=1e-5,
                               atol=1e-6)


def test_custom_block_and_lambdas_and_hooks():
    class Net(gluon.Block):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            with self.name_scope():
                self.body = nn.HybridLambda(lambda F, x: F.relu(x) * 2)
                self.w = self.params.get("w", shape=(2,), init=mx.init.Constant(3.0))

        def forward(self, x):
            return nn.Lambda("exp")(self.body(x)) * self.w.data()

    net = Net(prefix="net_")
    net.initialize()
    seen = []
    net.register_forward_hook(lambda blk, inp, out: seen.append(out.shape))
    out = net(nd.array([-1.0, 0.5]))
    np.testing.assert_allclose(out.asnumpy(), [3.0, 3.0 * np.e], rtol=1e-6)
    assert seen == [(2,)]
    assert list(net.collect_params()) == ["net_w"]


def test_hybridblock_refuses_plain_block_children():
    seq = nn.HybridSequential()
    with pytest.raises(ValueError, match="Children of HybridBlock must also be HybridBlock"):
        seq.add(nn.Lambda("exp"))


def test_cast_and_parameter_dtype():
    net = nn.Dense(2, in_units=3)
    net.initialize()
    net.cast("float16")
    assert net.weight.data().dtype == np.float16 and net.weight.grad().dtype == np.float16
    assert net.weight.dtype == "float16"
    y = net(nd.ones((1, 3), dtype="float16"))
    assert y.dtype == np.float16


def test_initialize_twice_warns_and_force_reinit():
    net = nn.Dense(2, in_units=3)
    net.initialize(mx.init.One())
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        net.initialize()
    assert any("already initialized" in str(x.message) for x in w)
    net.initialize(mx.init.Zero(), force_reinit=True)
    np.testing.assert_array_equal(net.weight.data().asnumpy(), np.zeros((2, 3)))


def test_layer_initializers_and_lr_mult_read_by_trainer():
    layer = nn.Dense(2, in_units=2, weight_initializer=mx.init.Constant(0.5),
                     bias_initializer=mx.init.Constant(1.0))
    layer.initialize(mx.init.Xavier())
    np.testing.assert_array_equal(layer.weight.data().asnumpy(), np.full((2, 2), 0.5))
    np.testing.assert_array_equal(layer.bias.data().asnumpy(), [1.0, 1.0])
    layer.weight.lr_mult = 2.0
    trainer = gluon.Trainer(layer.collect_params(), "sgd", {"learning_rate": 0.1})
    with autograd.record():
        y = layer(nd.ones((1, 2))).sum()
    y.backward()
    trainer.step(1)
    np.testing.assert_allclose(layer.weight.data().asnumpy(), np.full((2, 2), 0.5 - 0.2))
    np.testing.assert_allclose(layer.bias.data().asnumpy(), [0.9, 0.9])


def test_gpu_context_is_mxnet_error():
    net = nn.Dense(2, in_units=2)
    with pytest.raises(mx.base.MXNetError):
        net.initialize(ctx=mx.gpu(0)) if mx.num_gpus() == 0 else (_ for _ in ()).throw(
            mx.base.MXNetError("has gpu"))


def test_clip_global_norm():
    a, b = nd.array([3.0, 0.0]), nd.array([[4.0]])
    norm = gluon.utils.clip_global_norm([a, b], 1.0)
    assert norm == pytest.approx(5.0)
    np.testing.assert_allclose(a.asnumpy(), [0.6, 0.0], rtol=1e-6)
    np.testing.assert_allclose(b.asnumpy(), [[0.8]], rtol=1e-6)


def test_second_order_gradient_through_hybridized_block_is_an_error_not_wrong_numbers():
    def run(hybridize):
        net = nn.HybridSequential()
        net.add(nn.Dense(2, in_units=2, activation="tanh"))
        net.initialize(mx.init.Constant(0.3))
        if hybridize:
            net.hybridize()
        x = nd.array([[0.5, -1.0]])
        x.attach_grad()
        with autograd.record():
            y = net(x).sum()
            (gx,) = autograd.grad(y, [x], create_graph=True)
            z = (gx * gx).sum()
        z.backward()
        return x.grad.asnumpy()

    assert np.abs(run(False)).sum() > 0
    with pytest.raises(mx.base.MXNetError, match="second-order gradient"):
        run(True)


def test_sequential_slicing_repr_setattr_apply_summary(capsys):
    net = nn.HybridSequential(prefix="s_")
    with net.name_scope():
        net.add(nn.Dense(4, in_units=3, activation="relu"), nn.Dense(2, in_units=4))
    net.initialize()
    tail = net[1:]
    assert isinstance(tail, nn.HybridSequential) and len(tail) == 1
    assert tail[0] is net[1]
    assert "Dense(3 -> 4, Activation(relu))" in repr(net)
    net.collect_params().setattr("grad_req", "add")
    assert all(p.grad_req == "add" for p in net.collect_params().values())
    seen = []
    net.apply(lambda b: seen.append(type(b).__name__))
    assert seen == ["Activation", "Dense", "Dense", "HybridSequential"]
    calls = []
    handle = net.register_forward_pre_hook(lambda blk, inp: calls.append(inp[0].shape))
    net.summary(nd.ones((5, 3)))
    handle.detach()
    net(nd.ones((5, 3)))
    assert calls == [(5, 3)]
    out = capsys.readouterr().out
    assert "Dense" in out and "(5, 2)" in out


def test_reset_ctx_and_list_ctx():
    net = nn.Dense(2, in_units=2)
    net.initialize(mx.init.One())
    net.collect_params().reset_ctx([mx.cpu(0), mx.cpu(1)])
    assert net.weight.list_ctx() == [mx.cpu(0), mx.cpu(1)]
    np.testing.assert_array_equal(net.weight.data(mx.cpu(1)).asnumpy(), np.ones((2, 2)))
    with pytest.raises(RuntimeError, match="was not initialized on context cpu\\(2\\)"):
        net.weight.data(mx.cpu(2))


@pytest.mark.parametrize("hybridize", [False, True])
def test_layer_dtype_mismatch_is_mxnets_error_and_changes_nothing(hybridize):
    net = nn.Dense(2, in_units=3)
    net.initialize()
    if hybridize:
        net.hybridize()
    before = _values(net)
    with pytest.raises(mx.base.MXNetError, match="Incompatible attr in node at 1-th input: "
                                                 "expected int32, got float32"):
        with autograd.record():
            net(nd.ones((1, 3), dtype="int32"))
    for k, v in _values(net).items():
        np.testing.assert_array_equal(v, before[k])


def test_hybridized_forward_draws_from_the_stream_only_when_it_uses_randomness():
    """A hybridized forward without random operators leaves the global stream where it
    is (as its imperative call and a bound symbol do); dropout in training still draws,
    a fresh mask each call (the test fails where every hybridized call drew a key)."""
    mx.random.seed(3)
    expect = mx.nd.random.uniform(shape=(3,)).asnumpy()
    x = mx.nd.ones((2, 5))
    net = mx.gluon.nn.HybridSequential()
    net.add(mx.gluon.nn.Dense(4))
    net.initialize()
    net.hybridize()
    net(x)  # the deferred initialization draws the weights
    mx.random.seed(3)
    net(x)
    with mx.autograd.record():
        net(x).backward()
    np.testing.assert_array_equal(mx.nd.random.uniform(shape=(3,)).asnumpy(), expect)

    drop = mx.gluon.nn.HybridSequential()
    drop.add(mx.gluon.nn.Dropout(0.5))
    drop.hybridize()
    with mx.autograd.record():
        a = drop(mx.nd.ones((64, 64))).asnumpy()
        b = drop(mx.nd.ones((64, 64))).asnumpy()
    assert not np.array_equal(a, b)
    mx.random.seed(3)
    with mx.autograd.record():
        drop(x)
    assert not np.array_equal(mx.nd.random.uniform(shape=(3,)).asnumpy(), expect)
