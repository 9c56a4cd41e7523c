"""Module API behaviour (MXNet 1.9.1 semantics read from its module/*.py) and bad input:
every error is raised before any parameter, state or binding changes."""

import os

import numpy as np
import pytest

import optjax.compat.mxnet as mx


def _net(num_hidden=3):
    data = mx.sym.Variable("data")
    fc = mx.sym.FullyConnected(data, name="fc", num_hidden=num_hidden)
    return mx.sym.SoftmaxOutput(fc, name="softmax")


GOOD = {"fc_weight": mx.nd.ones((3, 4)), "fc_bias": mx.nd.zeros((3,))}


def _bound(**kw):
    mod = mx.mod.Module(_net(), **kw)
    mod.bind(data_shapes=[("data", (2, 4))], label_shapes=[("softmax_label", (2,))])
    return mod


def _snapshot(mod):
    return {k: v.asnumpy().copy() for k, v in mod._exec.arg_dict.items()}


def test_missing_arg_params_raise_and_change_nothing():
    mod = _bound()
    before = _snapshot(mod)
    with pytest.raises(RuntimeError, match="fc_bias is not presented"):
        mod.init_params(arg_params={"fc_weight": mx.nd.ones((3, 4))})
    assert not mod.params_initialized
    assert all(np.array_equal(before[k], v) for k, v in _snapshot(mod).items())
    assert np.array_equal(mod._arg_params["fc_weight"].asnumpy(), np.zeros((3, 4)))
    mod.init_params(arg_params={"fc_bias": mx.nd.ones(3)}, allow_missing=True,
                    initializer=mx.init.Constant(0.5))
    np.testing.assert_array_equal(mod.get_params()[0]["fc_weight"].asnumpy(), np.full((3, 4), 0.5))
    np.testing.assert_array_equal(mod.get_params()[0]["fc_bias"].asnumpy(), [1.0] * 3)


def test_unknown_and_misshaped_params():
    mod = _bound()
    mod.init_params(arg_params=GOOD)
    before = _snapshot(mod)
    # MXNet: extra names are ignored by init_params/set_params, an error with allow_missing
    mod.set_params({**GOOD, "extra": mx.nd.ones(2)}, {})
    with pytest.raises(ValueError, match='Find name "extra"'):
        mod.set_params({"fc_weight": mx.nd.zeros((3, 4)), "extra": mx.nd.ones(2)}, {},
                       allow_missing=True)
    assert all(np.array_equal(before[k], v) for k, v in _snapshot(mod).items())
    mod.set_params({**GOOD, "extra": mx.nd.ones(2)}, {}, allow_missing=True, allow_extra=True)
    with pytest.raises(mx.MXNetError, match="fc_weight"):
        mod.set_params({"fc_weight": mx.nd.ones((3, 5)), "fc_bias": mx.nd.ones(3)}, {})
    assert all(np.array_equal(before[k], v) for k, v in _snapshot(mod).items())
    np.testing.assert_array_equal(mod.get_params()[0]["fc_bias"].asnumpy(), [0, 0, 0])


def test_shapes_that_do_not_infer_leave_module_unbound():
    data = mx.sym.Variable("data")
    bad = mx.sym.FullyConnected(data, num_hidden=3, name="f") + data
    mod = mx.mod.Module(bad, label_names=None)
    with pytest.raises(mx.MXNetError, match=r"node ._plus\d"):
        mod.bind(data_shapes=[("data", (2, 4))])
    assert not mod.binded
    with pytest.raises(ValueError, match="don't match names"):
        mx.mod.Module(_net()).bind(data_shapes=[("dat", (2, 4))])


def test_label_name_not_in_symbol():
    with pytest.warns(UserWarning, match="label_names"):
        mod = mx.mod.Module(_net(), label_names=["lbl"])
    with pytest.raises(KeyError, match="lbl"):
        mod.bind(data_shapes=[("data", (2, 4))], label_shapes=[("lbl", (2,))])
    assert not mod.binded
    with pytest.raises(ValueError, match="not found in symbol"):
        mx.mod.Module(_net(), data_names=["nodata"])


def test_update_before_init_optimizer():
    mod = _bound()
    mod.init_params(arg_params=GOOD)
    mod.forward(mx.io.DataBatch([mx.nd.ones((2, 4))], [mx.nd.array([0, 1])]), is_train=True)
    mod.backward()
    with pytest.raises(AssertionError, match="init_optimizer"):
        mod.update()
    np.testing.assert_array_equal(mod.get_params()[0]["fc_weight"].asnumpy(), np.ones((3, 4)))


def test_missing_checkpoint(tmp_path):
    with pytest.raises(mx.MXNetError, match="nothere-symbol.json"):
        mx.model.load_checkpoint(str(tmp_path / "nothere"), 3)
    with pytest.raises(mx.MXNetError, match="does not exist"):
        mx.mod.Module.load(str(tmp_path / "nothere"), 3)
    mx.model.save_checkpoint(str(tmp_path / "m"), 1, _net(), GOOD, {})
    with pytest.raises(mx.MXNetError, match="m-0002.params"):
        mx.model.load_checkpoint(str(tmp_path / "m"), 2)
    with pytest.raises(mx.MXNetError, match="m-0001.states"):
        mx.mod.Module.load(str(tmp_path / "m"), 1, load_optimizer_states=True)


def _state_arrays(state) -> list:
    """The NumPy arrays of an optimizer state (None, an NDArray, or tuples of them)."""
    if state is None:
        return []
    if isinstance(state, (tuple, list)):
        return [a for s in state for a in _state_arrays(s)]
    return [state.asnumpy()]


def test_states_with_unknown_types_are_refused_and_change_nothing(tmp_path):
    import pickle
    mod = _bound()
    mod.init_params(arg_params=GOOD)
    mod.init_optimizer(optimizer="sgd", optimizer_params={"momentum": 0.9})
    mod.forward(mx.io.DataBatch([mx.nd.ones((2, 4))], [mx.nd.array([0, 1])]), is_train=True)
    mod.backward()
    mod.update()
    states_before = {k: _state_arrays(s)[-1] for k, s in mod._updater.states.items()}
    evil = tmp_path / "evil.states"
    evil.write_bytes(pickle.dumps({0: os.system}, protocol=2))
    with pytest.raises(mx.MXNetError, match="posix.system|os.system|refusing"):
        mod.load_optimizer_states(str(evil))
    wrong = tmp_path / "wrong.states"
    from optjax.compat.mxnet import legacy_pickle
    wrong.write_bytes(legacy_pickle.dumps_states({0: np.zeros(5, np.float32)}))
    with pytest.raises(mx.MXNetError, match="index 0"):
        mod.load_optimizer_states(str(wrong))
    for k, v in states_before.items():
        np.testing.assert_array_equal(_state_arrays(mod._updater.states[k])[-1], v)


def test_states_written_in_mxnet_format_and_read_back(tmp_path):
    """Adam's states go to MXNet's pickle layout ({index: (mean, var)}) and load back; as
    in MXNet, a fresh optimizer that loads them counts its steps from the start again."""
    import jax
    from optjax.compat.mxnet import legacy_pickle
    mod = _bound()
    mod.init_params(arg_params=GOOD)
    mod.init_optimizer(optimizer="adam")
    batch = mx.io.DataBatch([mx.nd.array(np.arange(8.0).reshape(2, 4))], [mx.nd.array([0, 2])])
    for _ in range(2):
        mod.forward_backward(batch)
        mod.update()
    fname = str(tmp_path / "a.states")
    mod.save_optimizer_states(fname)
    with open(fname, "rb") as f:
        loaded = legacy_pickle.load_states(f.read())
    assert sorted(loaded.states) == [0, 1]
    mean, var = loaded.states[0]
    leaves = _state_arrays(mod._updater.states[0])  # MXNet's (mean, var) NDArrays
    np.testing.assert_array_equal(mean, leaves[0])
    np.testing.assert_array_equal(var, leaves[1])
    mod2 = _bound()
    mod2.init_params(arg_params=mod.get_params()[0])
    mod2.init_optimizer(optimizer="adam")
    mod2.load_optimizer_states(fname)
    leaves2 = _state_arrays(mod2._updater.states[0])
    np.testing.assert_array_equal(leaves2[0], mean)
    np.testing.assert_array_equal(leaves2[1], var)
    assert mod2._optimizer.num_update == 0  # counters restart, as in MXNet


def test_custom_optimizer_scheduler_initializer_from_the_notes():
    calls = []

    @mx.optimizer.Optimizer.register
    class MyOptimizer(mx.optimizer.Optimizer):
        def update(self, index, weight, grad, state):
            calls.append(index)
            weight[:] -= 0.1 * grad

    class MyScheduler(mx.lr_scheduler.LRScheduler):
        def __call__(self, num_update):
            return 0.5

    @mx.init.register
    class MyInit(mx.init.Initializer):
        def _init_weight(self, name, arr):
            arr[:] = 0.25

    it = mx.io.NDArrayIter(np.ones((4, 4), np.float32), np.array([0, 1, 2, 0], np.float32), 2)
    mod = mx.mod.Module(_net())
    mod.fit(it, num_epoch=1, optimizer="myoptimizer", eval_metric="acc",
            initializer=MyInit())
    assert calls == [0, 1, 0, 1]
    assert isinstance(mx.optimizer.Optimizer.create_optimizer("MyOptimizer"), MyOptimizer)
    mod2 = mx.mod.Module(_net())
    mod2.fit(it, num_epoch=1, optimizer="sgd", eval_metric="acc", initializer=MyInit(),
             optimizer_params={"lr_scheduler": MyScheduler(), "learning_rate": None})
    assert mod2._optimizer.learning_rate == 0.5


def test_predict_iter_predict_reshape_input_grads_and_params_file(tmp_path):
    mod = mx.mod.Module(_net())
    mod.bind(data_shapes=[("data", (2, 4))], label_shapes=[("softmax_label", (2,))],
             inputs_need_grad=True)
    mod.init_params(arg_params={"fc_weight": mx.nd.array(np.arange(12.0).reshape(3, 4) / 10),
                                "fc_bias": mx.nd.zeros(3)})
    x = np.arange(8.0, dtype=np.float32).reshape(2, 4)
    mod.forward(mx.io.DataBatch([mx.nd.array(x)], [mx.nd.array([0, 1])]), is_train=True)
    mod.backward()
    (gx,) = mod.get_input_grads()
    p = mod.get_outputs()[0].asnumpy()
    w = np.arange(12.0).reshape(3, 4) / 10
    np.testing.assert_allclose(gx.asnumpy(), (p - np.eye(3)[[0, 1]]) @ w, rtol=1e-5)
    # a batch of another size reshapes the module
    out = mod.predict(mx.nd.array(np.ones((5, 4), np.float32)))
    assert out.shape == (5, 3)
    outs = list(mod.iter_predict(mx.io.NDArrayIter(np.ones((4, 4), np.float32), None, 2)))
    assert len(outs) == 2 and outs[0][0][0].shape == (2, 3)
    assert mod.output_shapes == [("softmax_output", (2, 3))]
    mod.save_params(str(tmp_path / "p.params"))
    mod2 = mx.mod.Module(_net())
    mod2.bind(data_shapes=[("data", (2, 4))], for_training=False)
    mod2.init_params()
    mod2.load_params(str(tmp_path / "p.params"))
    np.testing.assert_array_equal(mod2.get_params()[0]["fc_weight"].asnumpy(), w.astype("f"))


def test_init_optimizer_defaults_match_mxnet():
    data = mx.sym.Variable("data")
    w = mx.sym.Variable("fc_weight", lr_mult=3.0)
    fc = mx.sym.FullyConnected(data, weight=w, name="fc", num_hidden=3)
    bn = mx.sym.BatchNorm(fc, name="bn")
    mod = mx.mod.Module(mx.sym.SoftmaxOutput(bn, name="softmax"), fixed_param_names=["bn_beta"])
    mod.bind(data_shapes=[("data", (8, 4))], label_shapes=[("softmax_label", (8,))])
    mod.init_params()
    mod.init_optimizer(optimizer="sgd", optimizer_params={"wd": 0.1})
    o = mod._optimizer
    assert o.rescale_grad == 1.0 / 8
    assert o.idx2name == {0: "fc_weight", 1: "fc_bias", 2: "bn_gamma", 3: "bn_beta"}
    assert o.lr_mult == {"fc_weight": 3.0}
    assert o.wd_mult == {"fc_bias": 0.0, "bn_beta": 0.0}
    assert sorted(mod._exec.grad_dict) == ["bn_gamma", "fc_bias", "fc_weight"]
    assert mod.get_params()[1]["bn_moving_var"].asnumpy().tolist() == [1.0, 1.0, 1.0]


def test_notes_program_runs_as_written():
    """The notes' Module program verbatim (random initialization, FactorScheduler), then fit:
    the training accuracy on a separable problem rises."""
    data = mx.symbol.Variable('data')
    label = mx.symbol.Variable('softmax_label')
    fc = mx.symbol.FullyConnected(data, name='fc', num_hidden=10)
    loss = mx.symbol.SoftmaxOutput(fc, label, name='softmax')
    mod = mx.mod.Module(loss)
    mod.bind(data_shapes=[('data', (128, 20))], label_shapes=[('softmax_label', (128,))])
    mod.init_params(mx.initializer.Uniform(scale=1.0))
    lr_sch = mx.lr_scheduler.FactorScheduler(step=100, factor=0.9)
    mod.init_optimizer(optimizer='sgd',
                       optimizer_params=(('learning_rate', 0.1), ('lr_scheduler', lr_sch)))
    rng = np.random.RandomState(1)
    centers = rng.randn(10, 20) * 3
    Y = rng.randint(0, 10, 128 * 8)
    X = (centers[Y] + rng.randn(128 * 8, 20)).astype(np.float32)
    metric = mx.metric.create("acc")
    accs = []
    mod.fit(mx.io.NDArrayIter(X, Y.astype(np.float32), 128), num_epoch=4, eval_metric=metric,
            epoch_end_callback=lambda *a: accs.append(metric.get_global_name_value()[0][1]))
    assert accs[-1] > 0.9 and accs[-1] > accs[0]
    assert mod._optimizer.num_update == 32


def test_training_step_compiles_once_and_predict_drops_padding():
    mod = _bound()
    mod.init_params(arg_params=GOOD)
    mod.init_optimizer(optimizer="sgd", optimizer_params={"momentum": 0.9})
    rng = np.random.RandomState(0)
    for _ in range(4):
        mod.forward_backward(mx.io.DataBatch([mx.nd.array(rng.randn(2, 4))],
                                             [mx.nd.array([0, 1])]))
        mod.update()
    prog = mod._exec._program
    (step,) = prog._fwd_bwd.values()
    assert step._cache_size() == 1  # forward + vjp traced once for all batches

    class PaddedIter:
        def __init__(self):
            self.batches = [mx.io.DataBatch([mx.nd.array(np.ones((2, 4)))], [], pad=0),
                            mx.io.DataBatch([mx.nd.array(np.ones((2, 4)) * 2)], [], pad=1)]

        def reset(self):
            self.i = 0

        def __iter__(self):
            return iter(self.batches)

    out = mod.predict(PaddedIter())
    assert out.shape == (3, 3)
    np.testing.assert_allclose(out.asnumpy()[2], mod.predict(mx.nd.array(np.ones((2, 4)) * 2))
                               .asnumpy()[0], rtol=1e-6)


def test_grad_req_add_accumulates_until_zeroed():
    mod = mx.mod.Module(_net())
    mod.bind(data_shapes=[("data", (2, 4))], label_shapes=[("softmax_label", (2,))],
             grad_req="add")
    mod.init_params(arg_params=GOOD)
    batch = mx.io.DataBatch([mx.nd.array(np.arange(8.0).reshape(2, 4))], [mx.nd.array([0, 2])])
    mod.forward_backward(batch)
    once = mod._exec.grad_dict["fc_weight"].asnumpy().copy()
    mod.forward_backward(batch)
    np.testing.assert_allclose(mod._exec.grad_dict["fc_weight"].asnumpy(), 2 * once, rtol=1e-6)


def test_shared_module_and_explicit_reshape_share_parameters():
    train = _bound()
    train.init_params(arg_params=GOOD)
    train.init_optimizer(optimizer="sgd", optimizer_params={"learning_rate": 1.0})
    infer = mx.mod.Module(_net())
    infer.bind(data_shapes=[("data", (5, 4))], for_training=False, shared_module=train)
    x = mx.nd.array(np.arange(20.0).reshape(5, 4) / 10)
    before = infer.predict(x).asnumpy()
    train.forward_backward(mx.io.DataBatch([mx.nd.array(np.ones((2, 4)))], [mx.nd.array([0, 1])]))
    train.update()
    after = infer.predict(x).asnumpy()  # the same weight arrays: the update is visible
    assert not np.allclose(before, after)
    train.reshape([("data", (3, 4))], [("softmax_label", (3,))])
    assert train.data_shapes[0].shape == (3, 4)
    train.forward(mx.io.DataBatch([mx.nd.array(np.ones((3, 4)))], [mx.nd.array([0, 1, 2])]), is_train=False)
    assert train.get_outputs()[0].shape == (3, 3)
    np.testing.assert_allclose(train.predict(x).asnumpy(), after, rtol=1e-6)


def test_fine_tuning_a_real_mxnet_checkpoint_with_fixed_params():
    """The classic fine-tuning recipe: cut a loaded network at an internal output, add a new
    classifier, initialise from the checkpoint (allow_missing) and train only the new layer."""
    golden = os.path.join(os.path.dirname(__file__), "..", "..", "golden", "compat", "module")
    sym, arg, aux = mx.model.load_checkpoint(os.path.join(golden, "lenet"), 2)
    feat = sym.get_internals()["fc1_output"]
    net = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(feat, num_hidden=3, name="new_fc"),
                               name="softmax")
    fixed = [n for n in net.list_arguments() if n not in ("data", "softmax_label")
             and not n.startswith("new_fc")]
    mod = mx.mod.Module(net, fixed_param_names=fixed)
    it = mx.io.NDArrayIter(np.random.RandomState(0).randn(8, 1, 12, 12).astype(np.float32),
                   np.array([0, 1, 2, 0, 1, 2, 0, 1], np.float32), 4)
    mod.fit(it, num_epoch=2, arg_params=arg, aux_params=aux, allow_missing=True,
            initializer=mx.init.Xavier(), eval_metric="acc",
            optimizer_params={"learning_rate": 0.1})
    new_arg, new_aux = mod.get_params()
    for k in fixed:
        if k == "bn2_gamma":  # fix_gamma: every forward writes ones, as MXNet does
            np.testing.assert_array_equal(new_arg[k].asnumpy(), np.ones(8))
            continue
        np.testing.assert_array_equal(new_arg[k].asnumpy(), arg[k].asnumpy())
    assert not np.allclose(new_arg["new_fc_bias"].asnumpy(), 0)
    # BatchNorm's moving statistics still move in training (auxiliary states are not fixed)
    assert not np.allclose(new_aux["bn2_moving_mean"].asnumpy(), aux["bn2_moving_mean"].asnumpy())


def test_variable_init_attribute_wins_over_the_module_initializer():
    data = mx.sym.Variable("data")
    w = mx.sym.Variable("fc_weight", init=mx.init.Constant(0.3), shape=(3, 4))
    net = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(data, weight=w, name="fc", num_hidden=3),
                               name="softmax")
    mod = mx.mod.Module(net)
    mod.bind(data_shapes=[("data", (2, 4))], label_shapes=[("softmax_label", (2,))])
    mod.init_params(mx.init.Uniform(1.0))
    np.testing.assert_array_equal(mod.get_params()[0]["fc_weight"].asnumpy(),
                                  np.full((3, 4), 0.3, np.float32))


def test_tutorial_fit_with_callbacks_checkpoints_and_score(tmp_path, caplog):
    """The classic MNIST-style tutorial flow: NDArrayIter, 'acc', Speedometer, do_checkpoint,
    eval_data, then load_checkpoint + score."""
    import logging
    rng = np.random.RandomState(0)
    centers = rng.randn(3, 4) * 3
    Y = rng.randint(0, 3, 64)
    X = (centers[Y] + rng.randn(64, 4)).astype(np.float32)
    train = mx.io.NDArrayIter(X, Y.astype(np.float32), batch_size=16, shuffle=True)
    val = mx.io.NDArrayIter(X[:40], Y[:40].astype(np.float32), batch_size=16)  # padded
    prefix = str(tmp_path / "tut")
    mod = mx.mod.Module(_net())
    with caplog.at_level(logging.INFO):
        mod.fit(train, eval_data=val, optimizer="sgd",
                optimizer_params={"learning_rate": 0.1, "momentum": 0.9}, eval_metric="acc",
                batch_end_callback=mx.callback.Speedometer(16, 2),
                epoch_end_callback=mx.callback.do_checkpoint(prefix), num_epoch=3,
                kvstore=mx.kv.create("local"))
    text = caplog.text
    assert "Epoch[2] Train-accuracy=" in text and "Epoch[2] Validation-accuracy=" in text
    assert "samples/sec" in text
    sym, arg, aux = mx.model.load_checkpoint(prefix, 3)
    mod2 = mx.mod.Module(sym)
    mod2.bind(data_shapes=val.provide_data, label_shapes=val.provide_label, for_training=False)
    mod2.set_params(arg, aux)
    ((name, acc),) = mod2.score(val, "acc")
    assert name == "accuracy" and acc > 0.8
    assert mod.score(val, "acc")[0][1] == acc
