"""Shim behaviour: legacy MXNet code as users wrote it, bad input, jit reuse, states format."""

import io
import zipfile

import numpy as np
import pytest

import optjax.compat.mxnet as mx
from optjax.compat.mxnet import optimizer as mxopt


def test_legacy_custom_optimizer_and_scheduler():
    @mx.optimizer.Optimizer.register
    class MyOptimizer(mx.optimizer.Optimizer):
        def __init__(self, momentum=0.0, **kwargs):
            super().__init__(**kwargs)
            self.momentum = momentum

        def create_state(self, index, weight):
            if self.momentum == 0.0:
                return None
            return mx.nd.zeros(weight.shape, weight.context, dtype=weight.dtype)

        def update(self, index, weight, grad, state):
            lr = self._get_lr(index)
            wd = self._get_wd(index)
            self._update_count(index)
            grad = grad * self.rescale_grad
            if self.clip_gradient is not None:
                grad = mx.nd.clip(grad, -self.clip_gradient, self.clip_gradient)
            if state is not None:
                mom = state
                mom[:] *= self.momentum
                mom[:] += -lr * (grad + wd * weight)
                weight[:] += mom
            else:
                weight[:] += -lr * (grad + wd * weight)

    class MyScheduler(mx.lr_scheduler.LRScheduler):
        def __init__(self, shift=0):
            super().__init__(base_lr=0.1)
            self.shift = shift

        def __call__(self, num_update):
            return self.base_lr * 0.5 ** (num_update - self.shift)

    opt = mx.optimizer.Optimizer.create_optimizer("myoptimizer", momentum=0.9, wd=0.01,
                                                  lr_scheduler=MyScheduler())
    # the custom optimizer reads the lr before counting, so its scheduler sees n - 1
    ref = mx.optimizer.create("sgd", momentum=0.9, wd=0.01, lr_scheduler=MyScheduler(shift=1))
    u, v = mx.optimizer.get_updater(opt), mx.optimizer.get_updater(ref)
    w1, w2 = mx.nd.ones((3,)), mx.nd.ones((3,))
    for step in range(1, 4):
        g = mx.nd.array([0.5, -1.0, 2.0]) * step
        u(0, g, w1)
        v(0, g, w2)
    np.testing.assert_allclose(w1.asnumpy(), w2.asnumpy(), rtol=1e-6)
    assert opt.num_update == 3


def test_multifactor_list_of_factors_points_to_piecewise():
    with pytest.raises(TypeError, match="piecewise_constant_schedule"):
        mx.lr_scheduler.MultiFactorScheduler([1, 2, 3], [0.001, 0.003, 0.0003])


def test_unknown_name_lists_registered_and_unknown_kwarg():
    with pytest.raises(ValueError, match="adam.*sgd"):
        mx.optimizer.create("nosuch")
    with pytest.raises(TypeError):
        mx.optimizer.create("adam", momentum=0.9)
    assert mx.optimizer.create("AdAm").__class__ is mx.optimizer.Adam


def test_set_learning_rate_with_scheduler_raises():
    opt = mx.optimizer.SGD(lr_scheduler=mx.lr_scheduler.FactorScheduler(2))
    with pytest.raises(UserWarning):
        opt.set_learning_rate(0.1)


def test_bad_dtype_and_shape_update_nothing():
    opt = mx.optimizer.SGD(learning_rate=0.1, param_idx2name={0: "fc_weight", 1: "fc_bias"})
    u = mx.optimizer.get_updater(opt)
    w0, w1 = mx.nd.ones((2,)), mx.nd.ones((3,))
    with pytest.raises(TypeError, match=r"fc_bias.*float16.*float32"):
        u([0, 1], [mx.nd.ones((2,)), mx.nd.ones((3,), dtype="float16")], [w0, w1])
    with pytest.raises(ValueError, match=r"fc_bias.*\(4,\).*\(3,\)"):
        u([0, 1], [mx.nd.ones((2,)), mx.nd.ones((4,))], [w0, w1])
    assert (w0.asnumpy() == 1).all() and (w1.asnumpy() == 1).all()
    assert opt.num_update == 0


def test_ndarray_dtype_pitfall():
    with pytest.raises(mx.MXNetError, match="expected int32, got float32"):
        mx.nd.array([1, 2], dtype="int32") + mx.nd.array([1, 2])


def test_changing_lr_never_recompiles():
    from optjax.compat.mxnet.optimizer import optimizer as engine
    engine._apply.clear_cache()
    before = engine.TRACES
    opt = mx.optimizer.Adam(learning_rate=0.1)
    u = mx.optimizer.get_updater(opt)
    ws = [mx.nd.ones((4, 3)), mx.nd.ones((3,))]
    for step in range(5):
        opt.set_learning_rate(0.1 / (step + 1))
        opt.wd = 0.01 * step
        opt.rescale_grad = 1.0 / (step + 1)
        u([0, 1], [mx.nd.ones((4, 3)), mx.nd.ones((3,))], ws)
    assert engine.TRACES - before == 1


def test_multi_precision_float16():
    opt = mx.optimizer.SGD(learning_rate=0.1, momentum=0.9, multi_precision=True)
    u = mx.optimizer.get_updater(opt)
    w = mx.nd.ones((3,), dtype="float16")
    for _ in range(3):
        u(0, mx.nd.full((3,), 1e-3, dtype="float16"), w)
    mom, master = u.states[0]  # MXNet's SGD layout: (momentum, float32 master)
    assert w.dtype == np.float16 and master.dtype == np.float32 and mom.dtype == np.float32
    assert master.asnumpy()[0] < 1.0


def test_states_format_is_npz_without_pickle(tmp_path):
    opt = mx.optimizer.create("nadam", learning_rate=0.01)
    u = mx.optimizer.get_updater(opt)
    w = mx.nd.ones((2, 2))
    u(0, mx.nd.ones((2, 2)), w)
    blob = u.get_states(dump_optimizer=True)
    names = zipfile.ZipFile(io.BytesIO(blob)).namelist()
    assert "__meta__.npy" in names
    np.load(io.BytesIO(blob), allow_pickle=False)["__meta__"]
    u2 = mx.optimizer.get_updater(mx.optimizer.SGD())
    u2.set_states(blob)
    assert isinstance(u2.optimizer, mx.optimizer.Nadam)
    assert u2.optimizer.m_schedule == pytest.approx(opt.m_schedule)
    with pytest.raises(ValueError):
        u2.set_states(b"\x80\x04not a states file")


def test_trainer_legacy_loop_and_dataloader():
    gluon = mx.gluon
    X = mx.nd.random_normal(shape=(20, 2))
    y = 2 * X[:, 0] - 3.4 * X[:, 1] + 4.2
    loader = gluon.data.DataLoader(gluon.data.ArrayDataset(X, y), batch_size=8, shuffle=True,
                                   last_batch="discard")
    assert len(loader) == 2
    params = gluon.ParameterDict("lin_")
    w = params.get("weight", shape=(2,))
    b = params.get("bias", shape=(1,), init=mx.init.Zero())
    params.initialize(mx.init.Normal(0.1))
    w.lr_mult = 2.0
    trainer = gluon.Trainer(params, "sgd", {"learning_rate": 0.1, "wd": 0.0001})
    for data, label in loader:
        w.grad()[:] = mx.nd.ones((2,))
        b.grad()[:] = mx.nd.ones((1,))
        trainer.step(8)
    with pytest.raises(UserWarning, match="has not been updated"):
        trainer.step(8)
    trainer.set_learning_rate(0.01)
    assert trainer.learning_rate == 0.01


def test_contexts():
    assert mx.cpu().device_type == "cpu" and mx.gpu(1).device_id == 1
    a = mx.nd.zeros((2,), ctx=mx.cpu())
    assert a.context == mx.cpu(0)
