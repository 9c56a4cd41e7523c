"""``HybridBlock.export`` and ``SymbolBlock.imports`` against real MXNet 1.9.1.

Goldens (``tests/golden/compat/gluon/``): ``shim_export/`` is what the shim's export
writes (``gen_shim_export.py``); ``mxnet_export/`` is real MXNet's export of the same
models and ``mxnet_export.npz`` holds the inputs and real MXNet's outputs: of its own
model, and of its ``SymbolBlock.imports`` and ``Module`` loading the shim's files
(``gen_mxnet_export.py``). The models are ``export_cases.py``.
"""

import json
import os
import sys

import numpy as np
import pytest

import optjax.compat.mxnet as mx
from optjax.compat.mxnet import autograd, gluon, nd

HERE = os.path.join(os.path.dirname(__file__), "..", "..", "golden", "compat", "gluon")
sys.path.insert(0, HERE)
import export_cases  # noqa: E402

GOLDEN = np.load(os.path.join(HERE, "mxnet_export.npz"))


def _inputs(name):
    return [GOLDEN[f"{name}/input/{i}"] for i in range(2) if f"{name}/input/{i}" in GOLDEN]


def _expected(name, what):
    return [GOLDEN[f"{name}/{what}/{i}"] for i in range(2) if f"{name}/{what}/{i}" in GOLDEN]


def _close(actual, expected):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", export_cases.NAMES)
@pytest.mark.parametrize("hybridize", [False, True])
def test_real_mxnet_export_imports_with_its_outputs(name, hybridize):
    inputs = _inputs(name)
    prefix = os.path.join(HERE, "mxnet_export", name)
    block = gluon.SymbolBlock.imports(prefix + "-symbol.json", export_cases.input_names(inputs),
                                      prefix + "-0000.params")
    if hybridize:
        block.hybridize()
    _close(export_cases.predict(mx, block, inputs), _expected(name, "output"))


@pytest.mark.parametrize("name", export_cases.NAMES)
def test_export_writes_what_real_mxnet_loaded(name, tmp_path):
    """The shim's export equals the committed files real MXNet loaded, and real MXNet's
    outputs from them (SymbolBlock.imports and Module) are the shim's own outputs."""
    net, inputs = export_cases.build(mx, name)
    np.testing.assert_array_equal(inputs[0], _inputs(name)[0])
    sym_file, params_file = net.export(str(tmp_path / name))
    assert sym_file == str(tmp_path / name) + "-symbol.json"
    assert params_file == str(tmp_path / name) + "-0000.params"
    committed = os.path.join(HERE, "shim_export", name)
    assert json.load(open(sym_file)) == json.load(open(committed + "-symbol.json"))
    mine, theirs = nd.load(params_file), nd.load(committed + "-0000.params")
    assert list(mine) == list(theirs)
    assert all(k.startswith(("arg:", "aux:")) for k in mine)
    for k in mine:
        np.testing.assert_array_equal(mine[k].asnumpy(), theirs[k].asnumpy())
    ours = export_cases.predict(mx, net, inputs)
    _close(ours, _expected(name, "output"))
    _close(ours, _expected(name, "mxnet_loads_shim_export"))
    _close(ours, _expected(name, "mxnet_module_loads_shim_export"))


def test_export_round_trip_and_training_an_imported_block(tmp_path):
    net, inputs = export_cases.build(mx, "lenet")
    net.export(str(tmp_path / "m"), epoch=3)
    block = gluon.SymbolBlock.imports(str(tmp_path / "m-symbol.json"), "data",
                                      str(tmp_path / "m-0003.params"))
    _close(export_cases.predict(mx, block, inputs), export_cases.predict(mx, net, inputs))
    params = block.collect_params()
    assert params["lenet_batchnorm0_running_mean"].grad_req == "null"
    x = nd.array(inputs[0])
    for model in (block, net):  # predict mode: no Dropout draws, the same numbers
        with autograd.record(train_mode=False):
            y = model(x)
        y.backward()
    for name, p in net.collect_params().items():
        if p.grad_req != "null":
            np.testing.assert_allclose(params[name].grad().asnumpy(), p.grad().asnumpy(),
                                       rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(params[name].data().asnumpy(), p.data().asnumpy(),
                                   rtol=1e-6, atol=1e-7)


def test_symbol_block_from_symbols_with_deferred_shapes():
    data = mx.sym.var("data")
    out = mx.sym.FullyConnected(mx.sym.Activation(data, act_type="relu"), num_hidden=3, name="fc")
    block = gluon.SymbolBlock(out, data)
    block.initialize(mx.init.One())
    y = block(nd.ones((2, 4)))
    assert block.collect_params()["fc_weight"].shape == (3, 4)
    np.testing.assert_array_equal(y.asnumpy(), np.full((2, 3), 5.0))


def test_export_needs_a_hybridized_call_first(tmp_path):
    net = gluon.nn.Dense(2, in_units=3)
    net.initialize()
    net(nd.ones((1, 3)))
    with pytest.raises(RuntimeError, match="hybridize"):
        net.export(str(tmp_path / "m"))


def test_imports_names_unknown_inputs(tmp_path):
    prefix = os.path.join(HERE, "mxnet_export", "lenet")
    with pytest.raises(mx.base.MXNetError, match="input"):
        gluon.SymbolBlock.imports(prefix + "-symbol.json", ["images"], prefix + "-0000.params")
