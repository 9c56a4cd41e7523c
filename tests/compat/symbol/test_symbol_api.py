"""mx.sym against real MXNet 1.9.1: auto-naming, list_*, attr_dict, infer_shape, symbol JSON
(golden from ``tests/golden/compat/symbol/gen_mxnet_symbol.py``), and bad input."""

import json
import os
import sys

import numpy as np
import pytest

import optjax.compat.mxnet as mx

GOLDEN = os.path.join(os.path.dirname(__file__), "..", "..", "golden", "compat", "symbol")
sys.path.insert(0, GOLDEN)
from symbol_cases import CASES  # noqa: E402

with open(os.path.join(GOLDEN, "symbol_golden.json")) as f:
    G = json.load(f)
MODULE_GOLDEN = os.path.join(os.path.dirname(__file__), "..", "..", "golden", "compat", "module")


def build(name):
    with mx.name.NameManager():
        return CASES[name](mx)


@pytest.mark.parametrize("name", sorted(CASES))
def test_names_attrs_shapes_like_mxnet(name):
    sym, shapes = build(name)
    want = G[name]
    assert sym.list_arguments() == want["arguments"]
    assert sym.list_outputs() == want["outputs"]
    assert sym.list_auxiliary_states() == want["aux"]
    assert sym.list_inputs() == want["inputs"]
    assert sym.get_internals().list_outputs() == want["internals"]
    assert sym.attr_dict() == want["attr_dict"]
    arg, out, aux = sym.infer_shape(**shapes)
    assert [list(s) for s in arg] == want["infer_shape"][0]
    assert [list(s) for s in out] == want["infer_shape"][1]
    assert [list(s) for s in aux] == want["infer_shape"][2]


@pytest.mark.parametrize("name", sorted(CASES))
def test_json_matches_mxnet(name):
    sym, _ = build(name)
    ours = json.loads(sym.tojson())
    want = G[name]["json"]
    for key in ("nodes", "arg_nodes", "heads", "attrs"):
        assert ours[key] == want[key], key
    # MXNet's file loads here and writes back the same document
    again = json.loads(mx.sym.load_json(json.dumps(want)).tojson())
    for key in ("nodes", "arg_nodes", "heads", "attrs"):
        assert again[key] == want[key], key


def test_real_mxnet_checkpoint_loads_and_predicts_identically():
    g = np.load(os.path.join(MODULE_GOLDEN, "module_golden.npz"))
    prefix = os.path.join(MODULE_GOLDEN, "lenet")
    sym, arg, aux = mx.model.load_checkpoint(prefix, 2)
    assert sorted(aux) == ["bn2_moving_mean", "bn2_moving_var"]
    assert set(arg) == set(sym.list_arguments()) - {"data", "softmax_label"}
    mod = mx.mod.Module.load(prefix, 2)
    mod.bind(data_shapes=[("data", (16, 1, 12, 12))], label_shapes=None, for_training=False)
    pred = mod.predict(mx.io.NDArrayIter(g["lenet/X"][:32].astype(np.float32), None, 16))
    np.testing.assert_allclose(pred.asnumpy(), g["lenet/predict"], rtol=1e-5, atol=1e-7)


def test_checkpoint_round_trip(tmp_path):
    sym, arg, aux = mx.model.load_checkpoint(os.path.join(MODULE_GOLDEN, "lenet"), 2)
    prefix = str(tmp_path / "again")
    mx.model.save_checkpoint(prefix, 7, sym, arg, aux)
    assert os.path.isfile(prefix + "-symbol.json") and os.path.isfile(prefix + "-0007.params")
    sym2, arg2, aux2 = mx.model.load_checkpoint(prefix, 7)
    assert sym2.tojson() == sym.tojson()
    for k in arg:
        np.testing.assert_array_equal(arg2[k].asnumpy(), arg[k].asnumpy())
    for k in aux:
        np.testing.assert_array_equal(aux2[k].asnumpy(), aux[k].asnumpy())


def test_indexing_group_and_attr():
    data = mx.sym.Variable("data", lr_mult=0.5, __extra__="x")
    parts = mx.sym.SliceChannel(data, num_outputs=3, name="sl")
    assert len(parts) == 3
    assert parts[1].list_outputs() == ["sl_output1"]
    assert parts["sl_output2"].list_outputs() == ["sl_output2"]
    assert [s.list_outputs()[0] for s in parts] == ["sl_output0", "sl_output1", "sl_output2"]
    g = mx.sym.Group([parts[0], data])
    assert g.list_outputs() == ["sl_output0", "data"]
    assert data.attr("lr_mult") == "0.5" and data.attr("__extra__") == "x"
    assert data.list_attr() == {"__lr_mult__": "0.5", "lr_mult": "0.5", "__extra__": "x"}
    with pytest.raises(IndexError):
        parts[3]
    with pytest.raises(ValueError, match="no output named"):
        parts["nope"]
    with pytest.raises(ValueError, match="double underscores"):
        mx.sym.Variable("x", foo="1")


def test_infer_type_and_partial():
    data = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data, num_hidden=4, name="fc")
    with pytest.warns(UserWarning, match="Cannot decide shape"):
        assert net.infer_shape() == (None, None, None)
    arg, out, aux = net.infer_shape_partial()
    assert arg == [(), (), ()] and out == [()]
    arg, out, aux = net.infer_type(data="float64")
    assert arg == [np.float64] * 3 and out == [np.float64]
    cast = mx.sym.SoftmaxOutput(mx.sym.Cast(net, dtype="float16"), name="sm")
    assert cast.infer_type(data="float64") == ([np.float64] * 3 + [np.float16], [np.float16], [])
    with pytest.warns(UserWarning, match="Cannot decide type"):
        assert cast.infer_type() == (None, None, None)


def test_bad_shapes_raise_mxnet_error_naming_the_node():
    data = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data, num_hidden=3, name="f") + data
    with pytest.raises(mx.MXNetError, match="_plus"):
        net.infer_shape(data=(2, 4))
    with pytest.raises(mx.MXNetError, match="not an input"):
        net.infer_shape(data=(2, 4), foo=(3,))
    with pytest.raises(mx.MXNetError, match="Cannot find argument 'bogus'"):
        mx.sym.FullyConnected(data, num_hidden=3, bogus=1)
    with pytest.raises(mx.MXNetError, match="does not exist"):
        mx.sym.load("/nonexistent/x-symbol.json")
    with pytest.raises(mx.MXNetError, match="no MXNet operator"):
        mx.sym.load_json(json.dumps({"nodes": [{"op": "NoSuchOp", "name": "n", "inputs": []}],
                                     "arg_nodes": [], "heads": [[0, 0, 0]]}))


def test_executor_bind_and_errors():
    a, b = mx.sym.Variable("a"), mx.sym.Variable("b")
    c = a * b + 1
    ex = c.bind(mx.cpu(), {"a": mx.nd.array([1.0, 2.0]), "b": mx.nd.array([3.0, 4.0])},
                args_grad={"a": mx.nd.zeros(2)}, grad_req={"a": "write", "b": "null"})
    out = ex.forward(is_train=True)
    np.testing.assert_array_equal(out[0].asnumpy(), [4.0, 9.0])
    ex.backward(mx.nd.ones(2))
    np.testing.assert_array_equal(ex.grad_dict["a"].asnumpy(), [3.0, 4.0])
    assert "b" not in ex.grad_dict
    ex.forward(a=mx.nd.array([0.0, 1.0]))
    np.testing.assert_array_equal(ex.outputs[0].asnumpy(), [1.0, 5.0])
    assert ex.output_dict.keys() == {"_plusscalar0_output"} or len(ex.output_dict) == 1
    with pytest.raises(mx.MXNetError, match="missing"):
        c.bind(mx.cpu(), {"a": mx.nd.ones(2)})
    with pytest.raises(mx.MXNetError, match="unknown argument"):
        ex.forward(zz=mx.nd.ones(2))
    with pytest.raises(mx.MXNetError, match="simple_bind: cannot infer"):
        c.simple_bind(mx.cpu())
    with pytest.raises(ValueError, match="not in the arguments"):
        ex.copy_params_from({"zz": mx.nd.ones(2)})
    with pytest.raises(mx.MXNetError, match="shape"):
        ex.copy_params_from({"a": mx.nd.ones(2), "b": mx.nd.ones(3)})
    np.testing.assert_array_equal(ex.arg_dict["a"].asnumpy(), [0.0, 1.0])  # nothing copied


def test_batchnorm_fix_gamma_writes_ones_like_mxnet():
    x = mx.sym.Variable("data")
    ex = mx.sym.BatchNorm(x, name="bn").simple_bind(mx.cpu(), data=(4, 3))
    ex.arg_dict["bn_gamma"][:] = 0.5
    ex.arg_dict["data"][:] = np.arange(12.0).reshape(4, 3)
    ex.forward(is_train=False)
    np.testing.assert_array_equal(ex.arg_dict["bn_gamma"].asnumpy(), [1.0, 1.0, 1.0])


def test_dropout_in_a_compiled_step_draws_fresh_masks():
    x = mx.sym.Variable("data")
    ex = mx.sym.Dropout(x, p=0.5).simple_bind(mx.cpu(), data=(64,))
    ex.arg_dict["data"][:] = 1.0
    a = ex.forward(is_train=True)[0].asnumpy().copy()
    b = ex.forward(is_train=True)[0].asnumpy()
    assert set(np.unique(a)) <= {0.0, 2.0} and not np.array_equal(a, b)
    np.testing.assert_array_equal(ex.forward(is_train=False)[0].asnumpy(), np.ones(64))


def test_executor_matches_eager_nd_on_the_same_operators():
    """A graph of many operators gives the numbers of the same calls made eagerly with mx.nd
    (one operator registry), forward and gradient."""
    rng = np.random.RandomState(3)
    a = mx.sym.Variable("a")
    x = mx.sym.Variable("x")
    e = mx.sym.Embedding(a, input_dim=6, output_dim=4, name="emb")
    h = mx.sym.LeakyReLU(mx.sym.FullyConnected(x, num_hidden=4, name="fc"), act_type="leaky",
                         slope=0.1)
    c = mx.sym.Concat(mx.sym.mean(e, axis=1), h, dim=1)
    out = mx.sym.LinearRegressionOutput(mx.sym.dot(c, mx.sym.Variable("w")), name="lro")
    shapes = {"a": (3, 2), "x": (3, 5), "w": (8, 2)}
    ex = out.simple_bind(mx.cpu(), **shapes)
    vals = {"a": rng.randint(0, 6, (3, 2)).astype("f"), "x": rng.randn(3, 5).astype("f"),
            "w": rng.randn(8, 2).astype("f"), "emb_weight": rng.randn(6, 4).astype("f"),
            "fc_weight": rng.randn(4, 5).astype("f"), "fc_bias": rng.randn(4).astype("f"),
            "lro_label": rng.randn(3, 2).astype("f")}
    for k, v in vals.items():
        ex.arg_dict[k][:] = v
    got = ex.forward(is_train=True)[0].asnumpy()
    ex.backward()
    nd = {k: mx.nd.array(v) for k, v in vals.items()}
    nd["w"].attach_grad()
    with mx.autograd.record():
        emb = mx.nd.Embedding(nd["a"], nd["emb_weight"], input_dim=6, output_dim=4)
        hh = mx.nd.LeakyReLU(mx.nd.FullyConnected(nd["x"], nd["fc_weight"], nd["fc_bias"],
                                                  num_hidden=4), act_type="leaky", slope=0.1)
        cc = mx.nd.Concat(mx.nd.mean(emb, axis=1), hh, dim=1)
        y = mx.nd.LinearRegressionOutput(mx.nd.dot(cc, nd["w"]), nd["lro_label"])
    y.backward()
    np.testing.assert_allclose(got, y.asnumpy(), rtol=1e-6)
    np.testing.assert_allclose(ex.grad_dict["w"].asnumpy(), nd["w"].grad.asnumpy(), rtol=1e-6)


def test_compose_replaces_arguments():
    x = mx.sym.Variable("x")
    net = mx.sym.FullyConnected(mx.sym.Variable("data"), num_hidden=2, name="fc")
    composed = net(data=mx.sym.exp(x, name="e"))
    assert composed.list_arguments() == ["x", "fc_weight", "fc_bias"]
    assert net.list_arguments() == ["data", "fc_weight", "fc_bias"]  # unchanged
    ex = composed.bind(mx.cpu(), {"x": mx.nd.zeros((1, 3)), "fc_weight": mx.nd.ones((2, 3)),
                                  "fc_bias": mx.nd.zeros(2)}, grad_req="null")
    np.testing.assert_array_equal(ex.forward()[0].asnumpy(), [[3.0, 3.0]])
    with pytest.raises(ValueError, match="not an argument"):
        net(nothere=x)


def test_symbol_maximum_minimum_power_functions():
    a, b = mx.sym.Variable("a"), mx.sym.Variable("b")
    vals = {"a": mx.nd.array([1.0, 3.0]), "b": mx.nd.array([2.0, 2.0])}
    np.testing.assert_array_equal(mx.sym.maximum(a, b).eval(**vals)[0].asnumpy(), [2, 3])
    np.testing.assert_array_equal(mx.sym.minimum(a, 2.5).eval(a=vals["a"])[0].asnumpy(), [1, 2.5])
    np.testing.assert_array_equal(mx.sym.power(2, a).eval(a=vals["a"])[0].asnumpy(), [2, 8])
    assert mx.sym.maximum(1, 2) == 2


def test_creation_symbols_evaluate_like_mxnet():
    sym, _ = build("creation")
    outs = sym.eval(x=mx.nd.array([[1, 2, 3], [4, 5, 6]]))
    for got, want in zip(outs, G["creation_values"]):
        np.testing.assert_array_equal(got.asnumpy(), np.asarray(want, got.asnumpy().dtype))
    assert [o.dtype for o in outs][2:] == [np.int32, np.float32, np.int32]
    with pytest.raises(mx.MXNetError, match="infer_range"):
        mx.sym.arange(3, infer_range=True).eval()
