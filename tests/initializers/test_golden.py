"""Deterministic initializers, name dispatch, Mixed, Load, Module/Gluon init and
FusedRNN against MXNet 1.9.1's own output (tests/golden/initializers/gen_mxnet.py)."""

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optjax
from optjax import initializers as I

from _init_golden import GOLDEN, GOLDEN_DIR, array, spec_init

KEY = jax.random.key(0)


def assert_exact(got, want, what=""):
    got = np.asarray(got)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    assert got.dtype == want.dtype, (what, got.dtype, want.dtype)
    np.testing.assert_array_equal(got, want, err_msg=str(what))


def test_golden_is_from_mxnet_1_9_1():
    assert GOLDEN["mxnet_version"] == "1.9.1"


@pytest.mark.parametrize("case", GOLDEN["basic"], ids=lambda c: f"{c['init']}-{c['shape']}-{c['dtype']}")
def test_basic_fills(case):
    init = spec_init(case["init"])
    with jax.enable_x64(case["dtype"] == "float64"):
        got = init(KEY, tuple(case["shape"]), jnp.dtype(case["dtype"]))
    assert_exact(got, array(case["value"]), case)


@pytest.mark.parametrize("case", GOLDEN["bilinear"], ids=lambda c: str(c["shape"]))
def test_bilinear(case):
    assert_exact(I.bilinear(KEY, tuple(case["shape"])), array(case["value"]))
    assert_exact(I.from_mxnet("bilinear")(None, tuple(case["shape"])), array(case["value"]))


@pytest.mark.parametrize("case", GOLDEN["lstm_bias"], ids=lambda c: f"{c['forget_bias']}-{c['shape']}")
def test_lstm_bias(case):
    assert_exact(I.lstm_bias(case["forget_bias"])(KEY, tuple(case["shape"])), array(case["value"]))


@pytest.mark.parametrize("row", GOLDEN["dispatch"], ids=lambda r: r["name"])
def test_param_kind_matches_mxnet_hooks(row):
    # MXNet's answer is which _init_<hook> its Initializer.__call__ called.
    assert I.param_kind(row["name"], "initdesc") == row["initdesc"]
    assert I.param_kind(row["name"], "legacy") == row["legacy"]
    bn = {"moving_mean": "zero", "moving_var": "one", "running_mean": "zero", "running_var": "one"}
    want = next((k for s, k in bn.items() if row["name"].endswith(s)), row["initdesc"])
    assert I.param_kind(row["name"]) == want


@pytest.mark.parametrize("row", GOLDEN["dispatch_values"], ids=lambda r: r["name"])
@pytest.mark.parametrize("style", ["initdesc", "legacy"])
def test_dispatch_values(row, style):
    init = I.by_name(I.constant(0.5), style=style)
    want = row[style]
    if "error" in want:
        with pytest.raises(ValueError, match=row["name"]):
            init(KEY, row["name"], tuple(row["shape"]))
    else:
        assert_exact(init(KEY, row["name"], tuple(row["shape"])), array(want), row["name"])


MODULE = GOLDEN["module"]
SHAPES = {k: tuple(v) for k, v in {**MODULE["arg_shapes"], **MODULE["aux_shapes"]}.items()}
# Ops attach __init__ attributes to some inputs (PReLU's gamma is Constant(0.25));
# MXNet applies them inside the dispatch. The BatchNorm ones are the "mxnet" style
# rules; the rest become explicit rules.
ATTR_RULES = {k: I.from_mxnet(v) for k, v in MODULE["symbol_init_attrs"].items() if not k.startswith("bn0_moving")}


def _module_default(spec):
    kind = spec[0]
    if kind == "mixed":
        return I.mixed(spec[1], [spec_init(s) for s in spec[2]])
    if kind == "load":
        return I.load(os.path.join(GOLDEN_DIR, spec[1]), default=spec_init(spec[2]))
    return spec_init(spec)


def test_batchnorm_attrs_are_the_mxnet_style_rules():
    for name, spec in MODULE["symbol_init_attrs"].items():
        if name.startswith("bn0_moving"):
            want = I.from_mxnet(spec)(KEY, SHAPES[name])
            assert_exact(I.by_name(I.uniform(1.0))(KEY, name, SHAPES[name]), np.asarray(want), name)


@pytest.mark.parametrize("case", MODULE["cases"], ids=lambda c: c["label"])
def test_module_init_params(case):
    got = optjax.init_params(KEY, SHAPES, _module_default(case["init"]), rules=ATTR_RULES)
    want = {**case["arg"], **case["aux"]}
    assert sorted(got) == sorted(want)
    for name, entry in want.items():
        assert_exact(got[name], array(entry), name)


def test_module_errors_are_value_errors():
    assert MODULE["errors"]["mixed_no_match"] == "ValueError"
    with pytest.raises(ValueError, match="bn0_beta"):  # the first name in order
        optjax.init_params(KEY, SHAPES, I.mixed(["fc.*"], [I.ones]), rules=ATTR_RULES)
    # MXNet raises AssertionError for these two; optjax a ValueError naming the parameter.
    assert MODULE["errors"]["load_shape"] == "AssertionError"
    with pytest.raises(ValueError, match=r"fc1_weight.*\(5, 400\).*\(2, 2\)"):
        optjax.init_params(KEY, SHAPES, I.load({"arg:fc1_weight": np.zeros((2, 2))}, default=I.ones), rules=ATTR_RULES)
    assert MODULE["errors"]["load_missing_no_default"] == "AssertionError"
    with pytest.raises(ValueError, match="no default"):
        optjax.init_params(KEY, SHAPES, I.load({}), rules=ATTR_RULES)


def test_nested_names_dispatch_like_flat_ones():
    case = MODULE["cases"][0]
    nested = {}
    for name, shape in SHAPES.items():
        layer, _, leaf = name.partition("_")
        nested.setdefault(layer, {})[leaf] = jax.ShapeDtypeStruct(shape, jnp.float32)
    got = optjax.init_params(KEY, nested, I.constant(0.5), rules={"prelu/gamma": I.constant(0.25)})
    want = {**case["arg"], **case["aux"]}
    for name, entry in want.items():
        layer, _, leaf = name.partition("_")
        assert_exact(got[layer][leaf], array(entry), name)


def test_gluon_initialize():
    g = GOLDEN["gluon"]
    shapes = {k: tuple(v["shape"]) for k, v in g["params"].items()}
    init = spec_init(g["init"])
    # Gluon calls init._init_weight on a parameter with no explicit init, bypassing
    # the name dispatch: foo_bias gets the initializer's value, not 0. In optjax that
    # is an explicit rule; the Gluon layers' own explicit inits match the dispatch.
    got = optjax.init_params(KEY, shapes, init, rules={"foo_bias": init})
    for name, entry in g["params"].items():
        assert_exact(got[name], array(entry), name)
    plain = optjax.init_params(KEY, shapes, init)
    assert float(plain["foo_bias"][0]) == 0.0 != array(g["params"]["foo_bias"])[0]


@pytest.mark.parametrize("case", GOLDEN["fused_rnn"], ids=lambda c: f"{c['mode']}-{c['num_layers']}-{c['bidirectional']}")
def test_fused_rnn(case):
    want = array(case["value"])
    args = (case["num_hidden"], case["num_layers"], case["mode"], case["bidirectional"])
    init = spec_init(case["init"] if case["init"] is not None else case["global_init"])
    got = I.fused_rnn(init, *args, forget_bias=case["forget_bias"])(KEY, want.shape)
    assert_exact(got, want)
    layout = I.fused_rnn_layout(case["num_input"], *args)
    assert [[n, list(s)] for n, _, s in layout] == case["layout"]
    assert I.fused_rnn_size(case["num_input"], *args) == want.size
    pieces = I.fused_rnn_unpack(want, *args)
    assert list(pieces) == [n for n, _ in case["layout"]]
    assert_exact(I.fused_rnn_pack(pieces, *args), want)
