"""Legacy MXNet 1.9.1 optimizer code, run unchanged under real MXNet and under the shim.

    python legacy_mxnet.py mxnet OUT.json     # in the MXNet venv: import mxnet as mx
    python legacy_mxnet.py optjax OUT.json    # import optjax.compat.mxnet as mx

Regenerate the committed numbers from the repository root with the MXNet venv that
``tools/mxnet-venv.sh`` builds::

    bash tools/mxnet-venv.sh ../mxnet-venv     # once: a venv with MXNet 1.9.1, numpy<1.24
    ../mxnet-venv/bin/python tests/golden/compat/legacy_mxnet.py mxnet tests/golden/compat/mxnet_1.9.1.json

The tests import this file and call ``run(mx)`` with the shim; the MXNet run's
output is committed as ``mxnet_1.9.1.json`` next to it. Only the gradient
source differs: MXNet's autograd backward vs. an in-place write into
``p.grad()`` (the documented migration pattern).
"""

import json
import os
import sys
import tempfile

import numpy as np

STEPS = 6

SHAPES = [("fc_weight", (3, 4)), ("fc_bias", (3, 4))]
SHAPES6 = [("fc_weight", (3, 4)), ("fc_bias", (3, 4)), ("out_weight", (2, 5)),
           ("out_bias", (5,)), ("proj_weight", (4, 3)), ("bn_gamma", (6,))]

# (label, registry name, constructor kwargs[, parameters]). Every config gets wd,
# clip_gradient, rescale_grad, a FactorScheduler and lr_mult by name, unless it says
# otherwise; parameters default to SHAPES.
CONFIGS = [
    ("sgd", "sgd", {}),
    ("sgd_mom", "sgd", {"momentum": 0.9}),
    ("ccsgd_mom", "ccsgd", {"momentum": 0.8}),
    ("nag", "nag", {}),
    ("nag_mom", "nag", {"momentum": 0.9}),
    ("rmsprop", "rmsprop", {"learning_rate": 0.01}),
    ("rmsprop_centered", "rmsprop", {"learning_rate": 0.01, "centered": True, "clip_weights": 1.5}),
    ("adam", "adam", {"learning_rate": 0.05}),
    ("adagrad", "adagrad", {}),
    ("adadelta", "adadelta", {}),
    ("adamax", "adamax", {"learning_rate": 0.02}),
    ("nadam", "nadam", {"learning_rate": 0.02}),
    ("dcasgd", "dcasgd", {}),
    ("signum", "signum", {"learning_rate": 0.01}),
    ("signum_nomom", "signum", {"learning_rate": 0.01, "momentum": 0.0}),
    ("ftml", "ftml", {}),
    ("lbsgd", "lbsgd", {"momentum": 0.9}),
    ("ftrl", "ftrl", {}),
    ("lamb", "lamb", {"learning_rate": 0.01}),
    ("lamb_nobc", "lamb", {"learning_rate": 0.01, "bias_correction": False, "upper_bound": 2.0}),
    ("lars", "lars", {"momentum": 0.9, "eta": 0.01, "momentum_correction": False}),
    ("groupadagrad", "groupadagrad", {"wd": 0.0}),
    # momentum_correction=True (MXNet's default): the scheduler's lr changes at steps 3
    # and 5, and the momentum of those steps is scaled by lr_t/lr_{t-1}.
    ("lars_mc", "lars", {"momentum": 0.9, "eta": 0.01}),
    # ... per _get_lrs call: with 6 parameters the Updater makes two calls (chunks of
    # MXNET_OPTIMIZER_AGGREGATION_SIZE = 4) and only the first sees the corrected momentum.
    ("lars_mc_chunks", "lars", {"momentum": 0.9, "eta": 0.01}, SHAPES6),
]


def grad_at(step, k, shape):
    n = int(np.prod(shape))
    return (np.sin(1.3 * step + 0.7 * k + np.arange(n)) * 2.0).reshape(shape).astype(np.float32)


def init_at(k, shape):
    n = int(np.prod(shape))
    return (np.cos(0.5 * k + np.arange(n)) * 0.5).reshape(shape).astype(np.float32)


def run_optimizer(mx, name, kwargs, shapes=SHAPES):
    kw = {"wd": 0.01, "clip_gradient": 0.8, "rescale_grad": 0.5,
          "param_idx2name": {i: n for i, (n, _) in enumerate(shapes)}}
    kw.update(kwargs)

    def make():
        sched = mx.lr_scheduler.FactorScheduler(step=2, factor=0.7, base_lr=0.1)
        opt = mx.optimizer.create(name, lr_scheduler=sched, **kw)
        opt.set_lr_mult({"fc_weight": 2.0})
        return opt

    updater = mx.optimizer.get_updater(make())
    weights = [mx.nd.array(init_at(k, s)) for k, (_, s) in enumerate(shapes)]
    out = []
    for step in range(1, STEPS + 1):
        grads = [mx.nd.array(grad_at(step, k, s)) for k, (_, s) in enumerate(shapes)]
        updater(list(range(len(shapes))), grads, weights)
        out.append([w.asnumpy().ravel().tolist() for w in weights])
        if step == STEPS // 2:  # save and restore half way, into a fresh updater
            blob = updater.get_states(dump_optimizer=True)
            updater = mx.optimizer.get_updater(make())
            updater.set_states(blob)
    return out


def run_single_index(mx):
    """The ``update(index, weight, grad, state)`` path, Nadam (shared m_schedule) and Adam."""
    res = {}
    for name in ("nadam", "adam", "sgd"):
        opt = mx.optimizer.create(name, learning_rate=0.01, momentum=0.9) if name == "sgd" \
            else mx.optimizer.create(name, learning_rate=0.01, begin_num_update=3)
        ws = [mx.nd.array(init_at(k, s)) for k, (_, s) in enumerate(SHAPES)]
        states = [opt.create_state(k, w) for k, w in enumerate(ws)]
        out = []
        for step in range(1, 5):
            for k, (w, st) in enumerate(zip(ws, states)):
                opt.update(k, w, mx.nd.array(grad_at(step, k, w.shape)), st)
            out.append([w.asnumpy().ravel().tolist() for w in ws])
        res[name] = out
    return res


def run_schedulers(mx):
    L = mx.lr_scheduler
    ns = list(range(0, 16)) + [3, 25, 5, 30]
    res = {}
    makers = {
        "factor": lambda: L.FactorScheduler(step=3, factor=0.5, base_lr=1.0),
        "factor_stop": lambda: L.FactorScheduler(step=2, factor=0.1, stop_factor_lr=1e-3, base_lr=1.0),
        "factor_warm": lambda: L.FactorScheduler(step=3, factor=0.5, base_lr=1.0, warmup_steps=4,
                                                 warmup_begin_lr=0.2),
        "multifactor": lambda: L.MultiFactorScheduler(step=[2, 5, 9], factor=0.3, base_lr=0.5),
        "multifactor_warm": lambda: L.MultiFactorScheduler(step=[4, 8], factor=0.5, base_lr=0.5,
                                                           warmup_steps=3, warmup_mode="constant",
                                                           warmup_begin_lr=0.1),
        "poly": lambda: L.PolyScheduler(max_update=12, base_lr=1.0, pwr=2, final_lr=0.1),
        "poly_warm": lambda: L.PolyScheduler(max_update=12, base_lr=1.0, pwr=1.5, warmup_steps=3),
        "cosine": lambda: L.CosineScheduler(max_update=10, base_lr=1.0, final_lr=0.05),
        "cosine_warm": lambda: L.CosineScheduler(max_update=14, base_lr=0.8, warmup_steps=4,
                                                 warmup_begin_lr=0.1),
    }
    for label, make in makers.items():
        s = make()
        res[label] = [float(s(n)) for n in ns]
    # an optimizer's learning_rate default overriding the scheduler's base_lr
    for name in ("adam", "sgd"):
        s = L.FactorScheduler(step=2, factor=0.5, base_lr=0.1)
        opt = mx.optimizer.create(name, lr_scheduler=s)
        res["override_" + name] = [float(s(n)) for n in ns]
    s = L.CosineScheduler(max_update=10, base_lr=1.0)
    mx.optimizer.create("sgd", learning_rate=0.5, lr_scheduler=s)
    res["override_cosine"] = [float(s(n)) for n in ns]
    return res


def run_initializers(mx):
    res = {}
    I = mx.init
    cases = [
        ("const_dispatch", I.Constant(0.5), ["fc_weight", "fc_bias", "bn_gamma", "bn_beta", "q_min",
                                             "q_max"], (2, 3)),
        ("one", I.One(), ["a_weight"], (2, 2)),
        ("zero", I.Zero(), ["a_weight"], (2, 2)),
        ("bilinear", I.Bilinear(), ["up_weight"], (1, 1, 4, 4)),
        ("lstmbias", I.LSTMBias(forget_bias=2.0), ["lstm_weight"], (8,)),
    ]
    for label, init, names, shape in cases:
        out = {}
        for n in names:
            arr = mx.nd.zeros(shape)
            init(I.InitDesc(n), arr)
            out[n] = arr.asnumpy().ravel().tolist()
        res[label] = out
    arr = mx.nd.zeros((2, 2))
    I.Uniform()(I.InitDesc("fc_bias", {"__init__": I.Constant(0.25).dumps()}), arr)
    res["attr_init"] = arr.asnumpy().ravel().tolist()
    mixed = I.Mixed(["fc_.*", ".*"], [I.Constant(3.0), I.One()])
    out = {}
    for n in ["fc_weight", "conv_weight"]:
        arr = mx.nd.zeros((2, 2))
        mixed(I.InitDesc(n), arr)
        out[n] = arr.asnumpy().ravel().tolist()
    res["mixed"] = out
    load = I.Load({"arg:fc_weight": mx.nd.array([[1, 2], [3, 4]])}, default_init=I.Constant(7.0))
    out = {}
    for n in ["fc_weight", "other_weight"]:
        arr = mx.nd.zeros((2, 2))
        load(I.InitDesc(n), arr)
        out[n] = arr.asnumpy().ravel().tolist()
    res["load"] = out
    # Xavier bounds (random: compare the bound, not the values)
    arr = mx.nd.zeros((20, 30))
    I.Xavier(magnitude=3)(I.InitDesc("x_weight"), arr)
    res["xavier_within"] = bool(np.abs(arr.asnumpy()).max() <= np.sqrt(3 / 25.0) + 1e-6)
    return res


def backward(mx, param, g):
    """MXNet: autograd backward of sum(w * g) (grad = g). Shim: write g into p.grad()."""
    if hasattr(mx, "autograd"):
        with mx.autograd.record():
            loss = (param.data() * mx.nd.array(g)).sum()
        loss.backward()
    elif param.grad_req == "add":
        param.grad()[:] += mx.nd.array(g)
    else:
        param.grad()[:] = mx.nd.array(g)


def run_trainer(mx):
    gluon = mx.gluon

    def make_params():
        params = gluon.ParameterDict("net_")
        w = params.get("weight", shape=(3, 4))
        b = params.get("bias", shape=(3, 4))
        params.initialize(mx.init.One())
        w.set_data(mx.nd.array(init_at(0, (3, 4))))
        b.set_data(mx.nd.array(init_at(1, (3, 4))))
        w.lr_mult = 2.0
        b.wd_mult = 0.0
        for p in params.values():
            p.grad_req = "add"
        return params, [w, b]

    params, plist = make_params()
    trainer = gluon.Trainer(params, "sgd", {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01})
    out = []
    tmp = os.path.join(tempfile.mkdtemp(), "trainer.states")
    batch_size = 4
    for step in range(1, 7):
        for micro in range(2):  # accumulate two micro-batches, then one step
            for k, p in enumerate(plist):
                backward(mx, p, grad_at(step + 0.5 * micro, k, p.shape))
        trainer.step(batch_size * 2)
        params.zero_grad()
        if step == 2:
            trainer.set_learning_rate(0.05)
        if step == 3:
            trainer.save_states(tmp)
            trainer = gluon.Trainer(params, "sgd", {"learning_rate": 0.5, "momentum": 0.9,
                                                    "wd": 0.01})
            trainer.load_states(tmp)
        out.append({"weights": [p.data().asnumpy().ravel().tolist() for p in plist],
                    "lr": float(trainer.learning_rate)})
    return out


def run(mx):
    return {
        "optimizers": {c[0]: run_optimizer(mx, *c[1:]) for c in CONFIGS},
        "single_index": run_single_index(mx),
        "schedulers": run_schedulers(mx),
        "initializers": run_initializers(mx),
        "trainer": run_trainer(mx),
    }


if __name__ == "__main__":
    which, path = sys.argv[1], sys.argv[2]
    if which == "mxnet":
        import mxnet as mx
    else:
        import optjax.compat.mxnet as mx
    with open(path, "w") as f:
        json.dump(run(mx), f)
