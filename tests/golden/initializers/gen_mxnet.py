"""Generate golden data for optjax.initializers from real MXNet 1.9.1.

Run from the repository root with the MXNet venv that ``tools/mxnet-venv.sh`` builds:

    bash tools/mxnet-venv.sh ../mxnet-venv     # once: a venv with MXNet 1.9.1, numpy<1.24
    ../mxnet-venv/bin/python tests/golden/initializers/gen_mxnet.py

Writes ``mxnet_initializers.json`` beside this file. Every value in it comes from
MXNet; nothing is typed by hand. Arrays are stored as nested lists of Python floats
(float32 values are exactly representable as JSON doubles) with their dtype.

Random initializers cannot be reproduced (MXNet's generator differs), so for them
the script records the *arguments* MXNet passes to its random functions (the
bounds and standard deviations, i.e. the fan computation) by wrapping
``mx.random.uniform``/``normal``.
"""

import json
import os
import sys
import warnings

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
if os.getcwd() == os.path.abspath(os.path.join(here, "..", "..", "..")):
    sys.path = [p for p in sys.path if p not in ("", os.getcwd())]

import mxnet as mx  # noqa: E402
from mxnet.initializer import InitDesc  # noqa: E402

warnings.simplefilter("ignore")


def arr(x):
    a = x.asnumpy() if hasattr(x, "asnumpy") else np.asarray(x)
    return {"dtype": str(a.dtype), "shape": list(a.shape), "data": a.astype(np.float64).ravel().tolist()}


def run(init, name, shape, dtype="float32", desc=True):
    a = mx.nd.full(shape, 7.0, dtype=dtype)  # a sentinel: every element must be overwritten
    try:
        init(InitDesc(name) if desc else name, a)
    except Exception as e:  # noqa: BLE001
        return {"error": type(e).__name__, "message": str(e)}
    return arr(a)


out = {"mxnet_version": mx.__version__}

# ---------------------------------------------------------------- deterministic fills
basic = []
for label, init, spec in [
    ("zeros", mx.init.Zero(), ["zeros"]),
    ("ones", mx.init.One(), ["ones"]),
    ("constant(2.5)", mx.init.Constant(2.5), ["constant", 2.5]),
    ("constant(-0.3)", mx.init.Constant(-0.3), ["constant", -0.3]),
    ("constant([1,2,3])", mx.init.Constant(np.array([1.0, 2.0, 3.0])), ["constant", [1.0, 2.0, 3.0]]),
]:
    shapes = [(2, 3), (4, 2, 3)] if "[" in label else [(3,), (2, 3), (2, 3, 2, 2)]
    for shape in shapes:
        for dtype in ("float32", "float16", "float64"):
            basic.append({"init": spec, "shape": list(shape), "dtype": dtype,
                          "value": run(init, "fc_weight", shape, dtype)})
out["basic"] = basic

out["bilinear"] = [
    {"shape": list(s), "value": run(mx.init.Bilinear(), "up_weight", s)}
    for s in [(1, 1, 1, 1), (1, 1, 2, 2), (1, 1, 4, 4), (2, 3, 5, 5), (1, 2, 3, 4), (1, 1, 4, 6), (3, 2, 7, 7)]
]
out["lstm_bias"] = [
    {"forget_bias": fb, "shape": list(s), "value": run(mx.init.LSTMBias(fb), "lstm_i2h_bias_weight", s)}
    for fb, s in [(1.0, (8,)), (1.0, (10,)), (2.5, (16,)), (2.5, (3,)), (-0.5, (12, 3))]
]

# ---------------------------------------------------------------- name dispatch (which hook)
HOOKS = ["weight", "bias", "gamma", "beta", "zero", "one", "bilinear", "loc_bias",
         "quantized_weight", "quantized_bias", "default"]


class Recorder(mx.init.Initializer):
    def __init__(self):
        super().__init__()
        self.calls = []


for h in HOOKS:
    setattr(Recorder, "_init_" + h, (lambda h: lambda self, name, a: self.calls.append(h))(h))

NAMES = ["fc_weight", "fc_bias", "conv0_weight", "fc1/weight", "dense0/bias", "bn_gamma", "bn_beta",
         "bn/gamma", "bn_moving_mean", "bn_moving_var", "bn_moving_inv_var", "bn_moving_avg",
         "batchnorm0_running_mean", "batchnorm0_running_var", "data_min", "data_max",
         "fc_weight_quantize", "fc_bias_quantize", "upsampling0_weight", "upsampling0_bias",
         "stn_loc_weight", "stn_loc_bias", "embed_weight", "prelu_alpha", "mybias", "weights", "foo",
         "lstm_l0_i2h_weight", "gammax", "layer/Weight"]
dispatch = []
for n in NAMES:
    row = {"name": n}
    for style, desc in (("initdesc", True), ("legacy", False)):
        r = Recorder()
        r(InitDesc(n) if desc else n, mx.nd.zeros((6,)))
        assert len(r.calls) == 1, (n, r.calls)
        row[style] = r.calls[0]
    dispatch.append(row)
out["dispatch"] = dispatch

# Values through the dispatch with a Constant weight init, both styles.
VALUE_NAMES = [n for n in NAMES if "quantize" not in n]
dispatch_values = []
for n in VALUE_NAMES:
    shape = (1, 1, 4, 4) if n.startswith("upsampling") else (6,)
    row = {"name": n, "shape": list(shape)}
    for style, desc in (("initdesc", True), ("legacy", False)):
        row[style] = run(mx.init.Constant(0.5), n, shape, desc=desc)
    dispatch_values.append(row)
out["dispatch_values"] = dispatch_values

# ---------------------------------------------------------------- fan computation (random inits' arguments)
captured = []
_uniform, _normal = mx.random.uniform, mx.random.normal


def cap_uniform(low=0, high=1, shape=None, *a, **k):
    captured.append(["uniform", float(low), float(high), list(shape) if shape is not None else None])
    return _uniform(low, high, shape, *a, **k)


def cap_normal(loc=0, scale=1, shape=None, *a, **k):
    captured.append(["normal", float(loc), float(scale), list(shape) if shape is not None else None])
    return _normal(loc, scale, shape, *a, **k)


mx.random.uniform, mx.random.normal = cap_uniform, cap_normal
mx.initializer.random.uniform, mx.initializer.random.normal = cap_uniform, cap_normal
fans = []
FAN_SHAPES = [(10, 20), (64, 32, 3, 3), (16, 8, 5), (4, 3, 2, 2, 2), (7, 1), (1, 7)]
configs = [["uniform", {"scale": 1.0}], ["uniform", {}], ["normal", {"sigma": 0.5}], ["normal", {}],
           ["orthogonal", {}], ["orthogonal", {"scale": 0.5, "rand_type": "normal"}]]
for rt in ("uniform", "gaussian"):
    for ft in ("avg", "in", "out"):
        configs.append(["xavier", {"rnd_type": rt, "factor_type": ft, "magnitude": 2.34}])
configs.append(["xavier", {}])
for ft in ("avg", "in", "out"):
    configs.append(["msraprelu", {"factor_type": ft, "slope": 0.1}])
configs.append(["msraprelu", {}])
for name, kw in configs:
    init = mx.init.create(name, **kw)
    for s in FAN_SHAPES:
        captured.clear()
        val = run(init, "w_weight", s)
        if "error" in val:
            fans.append({"init": [name, kw], "shape": list(s), "error": val["error"]})
            continue
        assert len(captured) == 1, captured
        fans.append({"init": [name, kw], "shape": list(s), "call": captured[0]})
for name, kw in [["xavier", {}], ["msraprelu", {}]]:
    for s in [(5,)]:
        fans.append({"init": [name, kw], "shape": list(s), "error": run(mx.init.create(name, **kw), "w_weight", s).get("error")})
for kw in [{"rnd_type": "bogus"}, {"factor_type": "bogus"}]:
    fans.append({"init": ["xavier", kw], "shape": [4, 4], "error": run(mx.init.Xavier(**kw), "w_weight", (4, 4)).get("error")})
mx.random.uniform, mx.random.normal = _uniform, _normal
mx.initializer.random.uniform, mx.initializer.random.normal = _uniform, _normal
out["random_calls"] = fans

# ---------------------------------------------------------------- Module.init_params over a real graph
data = mx.sym.Variable("data")
x = mx.sym.Convolution(data, kernel=(3, 3), num_filter=4, name="conv0")
x = mx.sym.BatchNorm(x, name="bn0")
x = mx.sym.LeakyReLU(x, act_type="prelu", name="prelu")
x = mx.sym.Deconvolution(x, kernel=(4, 4), stride=(2, 2), num_filter=4, no_bias=True, name="upsampling0")
x = mx.sym.FullyConnected(x, num_hidden=5, name="fc1")
x = mx.sym.FullyConnected(x, num_hidden=3, name="fc2")
x = mx.sym.SoftmaxOutput(x, name="softmax")
mod = mx.mod.Module(x, data_names=["data"], label_names=["softmax_label"])
mod.bind(data_shapes=[("data", (2, 3, 6, 6))], label_shapes=[("softmax_label", (2,))])
arg_shapes = {k: [int(d) for d in v.shape] for k, v in mod._exec_group.execs[0].arg_dict.items() if k in mod._param_names}
aux_shapes = {k: [int(d) for d in v.shape] for k, v in mod._exec_group.execs[0].aux_dict.items()}
attrs = {k: v["__init__"] for k, v in x.attr_dict().items() if "__init__" in v}

rng = np.random.RandomState(0)
load_src = {
    "arg:fc1_weight": rng.randn(*arg_shapes["fc1_weight"]).astype(np.float32),
    "aux:bn0_moving_mean": rng.randn(*aux_shapes["bn0_moving_mean"]).astype(np.float32),
    "conv0_bias": rng.randn(*arg_shapes["conv0_bias"]).astype(np.float32),
}
np.savez(os.path.join(here, "load_source.npz"), **load_src)

module_cases = []


def module_case(label, init, spec):
    mod.init_params(init, force_init=True)
    a, x_ = mod.get_params()
    module_cases.append({"label": label, "init": spec,
                         "arg": {k: arr(v) for k, v in sorted(a.items())},
                         "aux": {k: arr(v) for k, v in sorted(x_.items())}})


module_case("constant", mx.init.Constant(0.5), ["constant", 0.5])
module_case("ones", mx.init.One(), ["ones"])
module_case("mixed", mx.init.Mixed(["fc1.*", "bias", ".*"], [mx.init.Constant(0.25), mx.init.Constant(9.0), mx.init.Constant(0.5)]),
            ["mixed", ["fc1.*", "bias", ".*"], [["constant", 0.25], ["constant", 9.0], ["constant", 0.5]]])
module_case("mixed_zero_all", mx.init.Mixed([".*"], [mx.init.Constant(3.0)]), ["mixed", [".*"], [["constant", 3.0]]])
module_case("load", mx.init.Load({k: mx.nd.array(v) for k, v in load_src.items()}, default_init=mx.init.Constant(0.5)),
            ["load", "load_source.npz", ["constant", 0.5]])
module_case("load_file", mx.init.Load({k: mx.nd.array(v) for k, v in np.load(os.path.join(here, "load_source.npz")).items()},
                                      default_init=mx.init.One()),
            ["load", "load_source.npz", ["ones"]])

errors = {}
try:
    mod.init_params(mx.init.Mixed(["fc.*"], [mx.init.One()]), force_init=True)
except Exception as e:  # noqa: BLE001
    errors["mixed_no_match"] = type(e).__name__
try:
    bad = dict(load_src)
    bad["arg:fc1_weight"] = np.zeros((2, 2), np.float32)
    mod.init_params(mx.init.Load({k: mx.nd.array(v) for k, v in bad.items()}), force_init=True)
except Exception as e:  # noqa: BLE001
    errors["load_shape"] = type(e).__name__
try:
    mod.init_params(mx.init.Load({}), force_init=True)
except Exception as e:  # noqa: BLE001
    errors["load_missing_no_default"] = type(e).__name__
out["module"] = {"arg_shapes": arg_shapes, "aux_shapes": aux_shapes, "symbol_init_attrs": attrs,
                 "cases": module_cases, "errors": errors}

# ---------------------------------------------------------------- Gluon initialize (bypasses name dispatch)
from mxnet import gluon  # noqa: E402

net = gluon.nn.HybridSequential(prefix="net_")
with net.name_scope():
    net.add(gluon.nn.Dense(3, in_units=4), gluon.nn.BatchNorm(in_channels=3))
extra = gluon.Parameter("foo_bias", shape=(3,))
net.initialize(mx.init.Constant(0.5))
extra.initialize(mx.init.Constant(0.5))
gparams = {k: arr(v.data()) for k, v in net.collect_params().items()}
gparams["foo_bias"] = arr(extra.data())
out["gluon"] = {"init": ["constant", 0.5], "params": gparams}

# ---------------------------------------------------------------- FusedRNN
from mxnet.rnn import rnn_cell  # noqa: E402

fused = []
for init_spec, global_spec, h, layers, mode, bidir, fb, num_input in [
    (["constant", 0.5], ["ones"], 3, 1, "lstm", False, 1.0, 2),
    (None, ["ones"], 2, 2, "gru", True, 1.0, 3),
    (["constant", 0.25], ["zeros"], 2, 2, "lstm", True, 2.0, 3),
    (["ones"], ["zeros"], 3, 1, "rnn_tanh", False, 1.0, 4),
    (["constant", -1.5], ["zeros"], 2, 3, "rnn_relu", True, 1.0, 1),
]:
    mk = lambda s: None if s is None else mx.init.create(s[0], *s[1:])  # noqa: E731
    cell = rnn_cell.FusedRNNCell(h, layers, mode, bidir, prefix="")
    b, m = (2 if bidir else 1), len(cell._gate_names)
    total = (num_input + h + 2) * h * m * b + (layers - 1) * m * h * (h + b * h + 2) * b
    a = mx.nd.full((total,), 7.0)
    mx.init.FusedRNN(mk(init_spec), h, layers, mode, bidir, fb)._init_weight(InitDesc("parameters", global_init=mk(global_spec)), a)
    layout = [[k, list(v.shape)] for k, v in cell.unpack_weights({"parameters": mx.nd.zeros((total,))}).items() if k != "parameters"]
    fused.append({"init": init_spec, "global_init": global_spec, "num_hidden": h, "num_layers": layers, "mode": mode,
                  "bidirectional": bidir, "forget_bias": fb, "num_input": num_input, "value": arr(a), "layout": layout})
out["fused_rnn"] = fused

with open(os.path.join(here, "mxnet_initializers.json"), "w") as f:
    json.dump(out, f, indent=0, sort_keys=True, default=lambda o: o.item() if hasattr(o, "item") else str(o))
print("wrote", os.path.join(here, "mxnet_initializers.json"))
