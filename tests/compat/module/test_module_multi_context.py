"""``mx.mod.Module`` on several contexts (8 simulated CPU devices, see tests/conftest.py)
against real MXNet 1.9.1's data-parallel executor group
(tests/golden/compat/module/gen_mxnet_module_multi.py)."""

import os

import jax
import numpy as np
import pytest

import optjax.compat.mxnet as mx
from optjax.compat.mxnet.module.executor_group import split_input_slice
from tests.golden.compat.module.module_cases import epoch_params, multi_net

GOLD = np.load(os.path.join(os.path.dirname(__file__), "..", "..", "golden", "compat", "module",
                            "module_multi.npz"))
OPT = {"learning_rate": 0.1, "momentum": 0.9, "wd": 1e-3}
TOL = {"rtol": 1e-4, "atol": 1e-5}


def _init():
    arg = {k[len("init/arg:"):]: mx.nd.array(GOLD[k]) for k in GOLD.files if k.startswith("init/arg:")}
    aux = {k[len("init/aux:"):]: mx.nd.array(GOLD[k]) for k in GOLD.files if k.startswith("init/aux:")}
    return arg, aux


@pytest.mark.parametrize("n", [2, 4])
def test_fit_on_several_contexts_matches_mxnet(n):
    if len(jax.devices("cpu")) < n:
        pytest.skip(f"needs {n} CPU devices")
    X, Y = GOLD["X"], GOLD["Y"]
    arg, aux = _init()
    mod = mx.mod.Module(multi_net(mx), context=[mx.cpu(i) for i in range(n)])
    epochs, outs, metric = [], [], []

    def record(p):
        outs.append(p.locals["self"].get_outputs()[0].asnumpy())
        metric.append([v for _, v in p.eval_metric.get_name_value()])

    mod.fit(mx.io.NDArrayIter(X, Y, batch_size=8), num_epoch=2, optimizer="sgd",
            optimizer_params=OPT, eval_metric=["acc", "ce"], arg_params=arg, aux_params=aux,
            batch_end_callback=record, epoch_end_callback=epoch_params(epochs))
    # each slice ran on its own device
    devices = {next(iter(e.outputs[0]._data.devices())) for e in mod._exec.execs}
    assert devices == set(jax.devices("cpu")[:n])
    np.testing.assert_allclose(np.stack(outs), GOLD[f"n{n}/outputs"], **TOL)
    np.testing.assert_allclose(np.asarray(metric), GOLD[f"n{n}/metric"], **TOL)
    for e, params in enumerate(epochs):
        for k, v in params.items():
            np.testing.assert_allclose(v, GOLD[f"n{n}/epoch{e}/{k}"], err_msg=k, **TOL)
    pred = mod.predict(mx.io.NDArrayIter(X, Y, batch_size=8)).asnumpy()
    np.testing.assert_allclose(pred, GOLD[f"n{n}/predict"], **TOL)


def test_one_context_differs_from_two_as_in_mxnet():
    # per-slice BatchNorm and normalization: the 2-context numbers are not one context's
    assert not np.allclose(GOLD["n2/outputs"][0], GOLD["n4/outputs"][0], rtol=1e-3)


def test_split_input_slice_is_mxnets():
    assert split_input_slice(8, [1, 1]) == [slice(0, 4), slice(4, 8)]
    assert split_input_slice(10, [1, 1, 1]) == [slice(0, 3), slice(3, 6), slice(6, 10)]
    with pytest.raises(ValueError, match="Too many slices"):
        split_input_slice(2, [1, 1, 1])


def test_manual_loop_on_two_contexts_gives_merged_outputs_and_summed_gradients():
    if len(jax.devices("cpu")) < 2:
        pytest.skip("needs 2 CPU devices")
    X, Y = GOLD["X"], GOLD["Y"]
    arg, aux = _init()
    mods = []
    for ctx in ([mx.cpu(0)], [mx.cpu(0), mx.cpu(1)]):
        mod = mx.mod.Module(multi_net(mx), context=ctx)
        mod.bind(data_shapes=[("data", (8, 5))], label_shapes=[("softmax_label", (8,))],
                 inputs_need_grad=True)
        mod.init_params(arg_params=arg, aux_params=aux)
        mod.forward(mx.io.DataBatch([mx.nd.array(X[:8])], [mx.nd.array(Y[:8])]), is_train=False)
        mods.append(mod)
    one, two = mods
    # inference (global statistics) does not depend on the split
    np.testing.assert_allclose(two.get_outputs()[0].asnumpy(), one.get_outputs()[0].asnumpy(),
                               rtol=1e-5, atol=1e-6)
    assert [o.shape for o in two.get_outputs(merge_multi_context=False)[0]] == [(4, 4), (4, 4)]
    assert two.get_input_grads()[0].shape == (8, 5)
