"""``Module.fit``'s fused training step (forward, backward and the optimizer's update as
one compiled call) gives the same bits as the two calls ``forward_backward(); update()``,
and falls back to them where it cannot run."""

import numpy as np
import pytest

import optjax.compat.mxnet as mx
from optjax.compat.mxnet.module import Module


def _bn_net():
    data = mx.sym.Variable("data")
    w1 = mx.sym.Variable("fc1_weight", lr_mult=0.5, wd_mult=2.0)
    h = mx.sym.FullyConnected(data, weight=w1, name="fc1", num_hidden=8)
    h = mx.sym.BatchNorm(h, name="bn")
    h = mx.sym.Activation(h, act_type="relu")
    h = mx.sym.FullyConnected(h, name="fc2", num_hidden=6)
    h = mx.sym.BatchNorm(h, name="bn2", fix_gamma=False)
    h = mx.sym.FullyConnected(h, name="fc3", num_hidden=4)
    return mx.sym.SoftmaxOutput(h, name="softmax", normalization="valid")


def _data(n=40, d=5, k=4):
    rng = np.random.RandomState(3)
    return rng.randn(n, d).astype(np.float32), rng.randint(0, k, n).astype(np.float32)


def _init(sym):
    mod = mx.mod.Module(sym)
    mod.bind(data_shapes=[("data", (8, 5))], label_shapes=[("softmax_label", (8,))])
    mod.init_params(mx.init.Xavier(magnitude=2.0))
    return mod.get_params()


class _Unfused(Module):
    """A Module whose step is always the two calls (the reference)."""

    def _fusable_names(self):
        return None


def _train(cls, optimizer, params, fixed=(), epochs=2):
    X, Y = _data()
    args, auxs = params
    mod = cls(_bn_net(), fixed_param_names=list(fixed))
    optimizer, opt_params = optimizer
    mod.fit(mx.io.NDArrayIter(X, Y, batch_size=8), num_epoch=epochs, optimizer=optimizer,
            optimizer_params=dict(opt_params), eval_metric=mx.metric.Accuracy(),
            arg_params={k: v.copy() for k, v in args.items()},
            aux_params={k: v.copy() for k, v in auxs.items()})
    a, x = mod.get_params()
    return mod, {k: v.asnumpy() for k, v in {**a, **x}.items()}


def _sched():
    return mx.lr_scheduler.MultiFactorScheduler(step=[4, 9], factor=0.5)


CASES = {  # name: (optimizer, its parameters, fixed_param_names)
    "sgd_momentum_sched_clip_wd": ("sgd", {"learning_rate": 0.1, "momentum": 0.9, "wd": 1e-3,
                                           "clip_gradient": 0.05, "rescale_grad": 0.3},
                                   ("fc2_weight", "bn_beta")),
    "adam_wd": ("adam", {"learning_rate": 0.01, "wd": 1e-3}, ()),
    "nadam": ("nadam", {"learning_rate": 0.01}, ("fc2_weight",)),
    "rmsprop_centered": ("rmsprop", {"learning_rate": 0.01, "centered": True}, ()),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_fused_and_two_call_steps_are_bit_identical(case):
    params = _init(_bn_net())
    name, opt, fixed = CASES[case]
    opt = dict(opt)
    if case.startswith("sgd"):
        opt["lr_scheduler"] = _sched()
    fused, p_fused = _train(Module, (name, opt), params, fixed)
    if case.startswith("sgd"):
        opt["lr_scheduler"] = _sched()
    ref, p_ref = _train(_Unfused, (name, opt), params, fixed)
    assert fused._exec._program._train_steps, "the fused step did not run"
    assert not ref._exec._program._train_steps
    assert sorted(p_fused) == sorted(p_ref)
    for k in p_ref:
        np.testing.assert_array_equal(p_fused[k], p_ref[k], err_msg=k)
    for k in fixed:
        np.testing.assert_array_equal(p_fused[k], params[0][k].asnumpy(), err_msg=k)
    # the moving statistics changed (aux states follow the forward pass)
    assert not np.array_equal(p_fused["bn_moving_mean"], params[1]["bn_moving_mean"].asnumpy())
    assert fused._optimizer.num_update == ref._optimizer.num_update == 10
    assert sorted(fused._updater.states) == sorted(ref._updater.states)
    for i in ref._updater.states:
        s_f, s_r = fused._updater.states[i], ref._updater.states[i]
        flat_f = [s_f] if isinstance(s_f, mx.nd.NDArray) else list(s_f or [])
        flat_r = [s_r] if isinstance(s_r, mx.nd.NDArray) else list(s_r or [])
        for a, b in zip(flat_f, flat_r):
            np.testing.assert_array_equal(a.asnumpy(), b.asnumpy())


def test_outputs_and_gradients_are_those_of_the_two_calls():
    params = _init(_bn_net())
    X, Y = _data()
    mods = []
    for cls in (Module, _Unfused):
        mod = cls(_bn_net())
        mod.bind(data_shapes=[("data", (8, 5))], label_shapes=[("softmax_label", (8,))])
        mod.init_params(arg_params=params[0], aux_params=params[1])
        mod.init_optimizer(optimizer="sgd", optimizer_params={"learning_rate": 0.1})
        batch = mx.io.DataBatch([mx.nd.array(X[:8])], [mx.nd.array(Y[:8])])
        for _ in range(2):
            mod._fit_step(batch)
        mods.append(mod)
    fused, ref = mods
    for a, b in zip(fused.get_outputs(), ref.get_outputs()):
        np.testing.assert_array_equal(a.asnumpy(), b.asnumpy())
    for k, g in ref._exec.grad_dict.items():
        np.testing.assert_array_equal(fused._exec.grad_dict[k].asnumpy(), g.asnumpy(), err_msg=k)
    # the user's arrays given to init_params were not donated
    for k, v in params[0].items():
        assert np.isfinite(v.asnumpy()).all()


def test_get_params_results_survive_later_fused_steps():
    params = _init(_bn_net())
    X, Y = _data()
    mod = mx.mod.Module(_bn_net())
    it = mx.io.NDArrayIter(X, Y, batch_size=8)
    seen = []
    mod.fit(it, num_epoch=2, optimizer="sgd", arg_params=params[0], aux_params=params[1],
            epoch_end_callback=lambda e, s, a, x: seen.append(a),
            batch_end_callback=lambda p: seen and seen[-1]["fc1_weight"].asnumpy())
    held = mod.get_params()[0]["fc1_weight"]
    copy = held.asnumpy().copy()
    mod.fit(it, num_epoch=1, optimizer="sgd")
    # get_params returns the module's own arrays (MXNet): they follow the module, and stay readable
    assert held.asnumpy().shape == copy.shape


def test_user_optimizer_falls_back_to_the_two_calls():
    @mx.optimizer.Optimizer.register
    class plainsgd(mx.optimizer.Optimizer):  # noqa: N801 - MXNet registers lower-case names
        def update(self, index, weight, grad, state):
            weight[:] -= self._get_lr(index) * self.rescale_grad * grad

    params = _init(_bn_net())
    mod, p = _train(Module, ("plainsgd", {"learning_rate": 0.1}), params)
    assert not mod._exec._program._train_steps
    _, p_ref = _train(Module, ("sgd", {"learning_rate": 0.1}), params)
    for k in p_ref:
        np.testing.assert_allclose(p[k], p_ref[k], rtol=1e-5, atol=1e-6, err_msg=k)


def test_manual_loop_reads_outputs_before_update():
    params = _init(_bn_net())
    X, Y = _data()
    mod = mx.mod.Module(_bn_net())
    mod.bind(data_shapes=[("data", (8, 5))], label_shapes=[("softmax_label", (8,))])
    mod.init_params(arg_params=params[0], aux_params=params[1])
    mod.init_optimizer(optimizer="sgd", optimizer_params={"learning_rate": 0.1})
    batch = mx.io.DataBatch([mx.nd.array(X[:8])], [mx.nd.array(Y[:8])])
    metric = mx.metric.Accuracy()
    mod._fit_step(batch)  # a fused step first: its buffers are donated by the next one
    mod.forward(batch, is_train=True)
    out = mod.get_outputs()[0].asnumpy()
    mod.update_metric(metric, batch.label)
    mod.backward()
    w0 = mod._exec.arg_dict["fc3_weight"].asnumpy()
    mod.update()
    assert not np.array_equal(w0, mod._exec.arg_dict["fc3_weight"].asnumpy())
    assert out.shape == (8, 4) and metric.get()[1] >= 0
    mod._fit_step(batch)
    assert np.isfinite(mod.get_outputs()[0].asnumpy()).all()
