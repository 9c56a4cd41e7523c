"""Module programs against real MXNet 1.9.1 (golden data from
``tests/golden/compat/module/gen_mxnet_module.py``): losses, metrics and parameters
within rtol 1e-4."""

import os
import sys

import numpy as np
import pytest

import optjax.compat.mxnet as mx

GOLDEN = os.path.join(os.path.dirname(__file__), "..", "..", "golden", "compat", "module")
sys.path.insert(0, GOLDEN)
from module_cases import (MLP_OPT, Recorder, bn_net, epoch_params, lenet_net, loop_net,  # noqa: E402
                          mlp_net, notes_net)
G = np.load(os.path.join(GOLDEN, "module_golden.npz"))
RTOL, ATOL = 1e-4, 1e-6


def g(key):
    v = G[key]
    return v.astype(np.float32) if v.dtype == np.float16 else v


def arrays(prefix):
    n = len(prefix)
    return {k[n:]: mx.nd.array(g(k)) for k in G.files if k.startswith(prefix)}


def check_run(name, rec, eps):
    np.testing.assert_allclose(rec.loss, g(f"{name}/loss"), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(rec.metric, g(f"{name}/metric"), rtol=RTOL, atol=ATOL)
    for e, ps in enumerate(eps):
        for k, v in ps.items():
            np.testing.assert_allclose(v, g(f"{name}/epoch{e}/{k}"), rtol=RTOL, atol=1e-5,
                                       err_msg=f"{name} epoch {e} {k}")
    assert len(eps) == len({k.split("/")[1] for k in G.files
                            if k.startswith(f"{name}/epoch")})


def test_notes_softmax_factor_scheduler():
    """The notes' program: bind, init_params, init_optimizer(FactorScheduler), fit."""
    mod = mx.mod.Module(notes_net(mx))
    mod.bind(data_shapes=[("data", (128, 20))], label_shapes=[("softmax_label", (128,))])
    mod.init_params(arg_params=arrays("notes/init/"))
    lr_sch = mx.lr_scheduler.FactorScheduler(step=100, factor=0.9)
    mod.init_optimizer(optimizer="sgd",
                       optimizer_params=(("learning_rate", 0.1), ("lr_scheduler", lr_sch)))
    rec, eps = Recorder(), []
    mod.fit(mx.io.NDArrayIter(g("notes/X"), g("notes/Y"), 128), num_epoch=5, eval_metric="acc",
            batch_end_callback=rec, epoch_end_callback=epoch_params(eps))
    check_run("notes", rec, eps)
    assert mod._optimizer.learning_rate == pytest.approx(0.09)


def test_notes_bn_momentum_clip_rescale():
    """The notes' fit with momentum, wd, MultiFactorScheduler, rescale_grad, clip_gradient
    and BatchNorm auxiliary states given as aux_params."""
    net = bn_net(mx)
    assert net.list_auxiliary_states() == ["bn_moving_mean", "bn_moving_var"]
    model = mx.mod.Module(net)
    lr_scheduler = mx.lr_scheduler.MultiFactorScheduler([8, 15], 0.5)
    optimizer_params = {"momentum": 0.9, "wd": 0.00005, "learning_rate": 0.001,
                        "lr_scheduler": lr_scheduler, "rescale_grad": 0.002, "clip_gradient": 5}
    rec, eps = Recorder(), []
    model.fit(mx.io.NDArrayIter(g("bn/X"), g("bn/Y"), 50), num_epoch=2, optimizer="sgd",
              optimizer_params=optimizer_params, eval_metric="acc",
              arg_params=arrays("bn/init/"), aux_params=arrays("bn/aux/"),
              batch_end_callback=rec, epoch_end_callback=epoch_params(eps))
    check_run("bn", rec, eps)
    # auxiliary states hold no optimizer state; only parameters were given to the updater
    assert sorted(model._updater.states) == list(range(6))
    assert model._optimizer.rescale_grad == 0.002


@pytest.mark.parametrize("tag,fixed", [("all", None), ("fixed", ["fc1_weight", "fc1_bias"])])
def test_notes_manual_loop_and_fixed_params(tag, fixed):
    """forward / update_metric / backward / update by hand; fixed_param_names."""
    mod = mx.mod.Module(loop_net(mx), fixed_param_names=fixed)
    mod.bind(data_shapes=[("data", (32, 12))], label_shapes=[("softmax_label", (32,))])
    mod.init_params(arg_params=arrays("loop/init/"))
    mod.init_optimizer(optimizer="sgd", optimizer_params={"learning_rate": 0.5, "momentum": 0.5})
    metric = mx.metric.create("acc")
    it = mx.io.NDArrayIter(g("loop/X"), g("loop/Y"), 32)
    metrics, grads = [], []
    for epoch in range(2):
        it.reset()
        metric.reset()
        for data_batch in it:
            mod.forward(data_batch)
            mod.update_metric(metric, data_batch.label)
            mod.backward()
            grads.append(mod._exec.grad_dict["fc2_weight"].asnumpy())
            mod.update()
            metrics.append(metric.get_name_value()[0][1])
    np.testing.assert_allclose(metrics, g(f"loop/{tag}/metric"), rtol=RTOL)
    np.testing.assert_allclose(grads, g(f"loop/{tag}/fc2_weight_grad"), rtol=RTOL, atol=1e-6)
    arg, _ = mod.get_params()
    for k, v in arg.items():
        np.testing.assert_allclose(v.asnumpy(), g(f"loop/{tag}/final/{k}"), rtol=RTOL, atol=1e-6)
    if fixed:
        for k in fixed:
            np.testing.assert_array_equal(arg[k].asnumpy(), g(f"loop/init/{k}"))
            assert k not in mod._exec.grad_dict
        # fixed parameters hold no optimizer state
        assert sorted(mod._updater.states) == [2, 3]


def resume_and_check(prefix, train):
    """Module.load(prefix, 2, load_optimizer_states=True), fit epochs 2..3, compare."""
    mod2 = mx.mod.Module.load(prefix, 2, load_optimizer_states=True)
    rec2, eps2 = Recorder(), []
    mod2.fit(train, num_epoch=4, begin_epoch=2, optimizer="sgd", optimizer_params=MLP_OPT,
             eval_metric="acc", batch_end_callback=rec2, epoch_end_callback=epoch_params(eps2))
    check_run("mlp_resumed", rec2, eps2)


def test_mlp_fit_score_valid_normalization_lr_mult(tmp_path):
    train = mx.io.NDArrayIter(g("mlp/X"), g("mlp/Y"), 32)
    val = mx.io.NDArrayIter(g("mlp/Xv"), g("mlp/Yv"), 32)
    rec, eps = Recorder(), []
    mod = mx.mod.Module(mlp_net(mx))
    prefix = str(tmp_path / "mlp")

    def ckpt(epoch, sym, arg, aux):
        if epoch + 1 == 2:
            mod.save_checkpoint(prefix, 2, save_optimizer_states=True)

    mod.fit(train, eval_data=val, num_epoch=4, optimizer="sgd", optimizer_params=MLP_OPT,
            eval_metric="acc", arg_params=arrays("mlp/init/"), batch_end_callback=rec,
            epoch_end_callback=[epoch_params(eps), ckpt])
    check_run("mlp", rec, eps)
    np.testing.assert_allclose([v for _, v in mod.score(val, "acc")], g("mlp/score"),
                               rtol=RTOL)
    # resumed from our checkpoint (symbol JSON, params, optimizer states)
    resume_and_check(prefix, train)


def test_lenet_fit_batchnorm_aux_and_predict():
    mod = mx.mod.Module(lenet_net(mx))
    rec, eps = Recorder(), []
    mod.fit(mx.io.NDArrayIter(g("lenet/X"), g("lenet/Y"), 16), num_epoch=2, optimizer="sgd",
            optimizer_params={"learning_rate": 0.1, "momentum": 0.9, "wd": 1e-4},
            eval_metric="acc", arg_params=arrays("lenet/init/"),
            aux_params=arrays("lenet/aux/"), batch_end_callback=rec,
            epoch_end_callback=epoch_params(eps))
    check_run("lenet", rec, eps)
    pred = mod.predict(mx.io.NDArrayIter(g("lenet/X")[:32], None, 16))
    np.testing.assert_allclose(pred.asnumpy(), g("lenet/predict"), rtol=RTOL, atol=1e-6)


def test_executor_head_gradients_and_grad_req_add():
    a, b = mx.sym.Variable("a"), mx.sym.Variable("b")
    out = mx.sym.Group([mx.sym.sum(a * b + mx.sym.exp(a), axis=1), mx.sym.tanh(b) / 2])
    ex = out.simple_bind(mx.cpu(), a=(3, 4), b=(3, 4), grad_req={"a": "add", "b": "write"})
    ex.arg_dict["a"][:] = g("exec/A")
    ex.arg_dict["b"][:] = g("exec/B")
    ex.grad_dict["a"][:] = 1.0
    heads = [mx.nd.array(g("exec/g0")), mx.nd.array(g("exec/g1"))]
    for _ in range(2):
        ex.forward(is_train=True)
        ex.backward(heads)
    np.testing.assert_allclose(ex.outputs[0].asnumpy(), g("exec/out0"), rtol=RTOL)
    np.testing.assert_allclose(ex.outputs[1].asnumpy(), g("exec/out1"), rtol=RTOL)
    np.testing.assert_allclose(ex.grad_dict["a"].asnumpy(), g("exec/grad_a"), rtol=RTOL)
    np.testing.assert_allclose(ex.grad_dict["b"].asnumpy(), g("exec/grad_b"), rtol=RTOL)


def test_mlp_resumes_from_real_mxnet_optimizer_states(tmp_path):
    """Our checkpoint of epoch 2 with MXNet's pickled .states (momentum) resumes like MXNet."""
    import shutil
    train = mx.io.NDArrayIter(g("mlp/X"), g("mlp/Y"), 32)
    mod = mx.mod.Module(mlp_net(mx))
    prefix = str(tmp_path / "mlp")
    mod.fit(train, num_epoch=2, optimizer="sgd", optimizer_params=MLP_OPT,
            eval_metric="acc", arg_params=arrays("mlp/init/"))
    mod.save_checkpoint(prefix, 2)
    shutil.copy(os.path.join(GOLDEN, "mlp-0002.states"), prefix + "-0002.states")
    resume_and_check(prefix, train)


def test_max_pooling_gradient_goes_to_the_first_maximum_like_mxnet():
    x = mx.sym.Variable("x")
    out = mx.sym.Pooling(x, pool_type="max", kernel=(2, 2), stride=(2, 2))
    ex = out.simple_bind(mx.cpu(), x=g("pool/X").shape)
    ex.arg_dict["x"][:] = g("pool/X")
    ex.forward(is_train=True)
    ex.backward(mx.nd.array(g("pool/head")))
    np.testing.assert_array_equal(ex.outputs[0].asnumpy(), g("pool/out"))
    np.testing.assert_allclose(ex.grad_dict["x"].asnumpy(), g("pool/grad"), rtol=1e-6)
