"""Goldens for the shim's optimizer layer from MXNet 1.9.1.

Every function takes the ``mx`` module it runs on: this script calls them with real
MXNet; ``tests/compat/test_optimizer_updates.py`` calls the same functions with
``optjax.compat.mxnet`` and compares.

Regenerate from the repository root, with a venv holding MXNet 1.9.1 that
``bash tools/mxnet-venv.sh ../mxnet-venv`` builds::

    ../mxnet-venv/bin/python tests/golden/compat/optimizer/gen_mxnet_updates.py

Writes ``mxnet_updates.json`` next to this file:

* ``ops``: each ``*_update`` operator called three times in MXNet's style
  (``out=weight``, state arrays mutated in place) on fixed inputs; the weight and
  every state array after each call;
* ``states``: ``create_state`` / ``create_state_multi_precision`` of every built-in
  optimizer: the structure (None, arrays, tuples) with each array's shape and dtype;
  then three ``update_multi_precision`` calls and the state arrays' values;
* ``lr``: ``Optimizer.learning_rate``, ``lr_scheduler(n)`` and ``trainer.learning_rate``
  as Python floats (``repr``), after MXNet's own arithmetic;
* ``resume_mp_sgd``: the weights after resuming from a ``.states`` file MXNet wrote.
"""

import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPE = (3, 4)


def inputs(step, shape=SHAPE, dtype="float32"):
    k = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    w = np.cos(0.7 * k + 0.3) * 0.8
    g = np.sin(1.3 * k + 0.5 * step) * 1.5
    return w.astype(dtype), g.astype(dtype)


# (name, state inputs, attrs, mp): every state starts at zero except where given.
OPS = [
    ("sgd_update", [], {"lr": 0.1, "wd": 0.05, "rescale_grad": 0.7, "clip_gradient": 0.9}),
    ("sgd_update", [], {"lr": 0.1, "wd": 0.05, "clip_gradient": 0.0}),
    ("sgd_mom_update", ["mom"], {"lr": 0.1, "momentum": 0.9, "wd": 0.05, "rescale_grad": 0.7,
                                 "clip_gradient": 0.9}),
    ("sgd_mom_update", ["mom"], {"lr": 0.1, "momentum": 0.0, "wd": 0.05}),
    ("mp_sgd_update", ["weight32"], {"lr": 0.1, "wd": 0.05}),
    ("mp_sgd_mom_update", ["mom", "weight32"], {"lr": 0.1, "momentum": 0.9, "wd": 0.05}),
    ("nag_mom_update", ["mom"], {"lr": 0.1, "momentum": 0.9, "wd": 0.05, "clip_gradient": 1.0}),
    ("mp_nag_mom_update", ["mom", "weight32"], {"lr": 0.1, "momentum": 0.9, "wd": 0.05}),
    ("adam_update", ["mean", "var"], {"lr": 0.01, "wd": 0.05, "rescale_grad": 0.7,
                                      "clip_gradient": 0.9}),
    ("adam_update", ["mean", "var"], {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-6}),
    ("rmsprop_update", ["n"], {"lr": 0.01, "gamma1": 0.9, "wd": 0.05, "clip_weights": 0.7}),
    ("rmspropalex_update", ["n", "g", "delta"], {"lr": 0.01, "gamma1": 0.9, "gamma2": 0.8,
                                                 "wd": 0.05}),
    ("ftrl_update", ["z", "n"], {"lr": 0.1, "lamda1": 0.01, "beta": 1.0, "wd": 0.05}),
    ("ftml_update", ["d", "v", "z"], {"lr": 0.01, "wd": 0.05, "t": "step"}),
    ("signsgd_update", [], {"lr": 0.01, "wd": 0.05}),
    ("signum_update", ["mom"], {"lr": 0.01, "momentum": 0.9, "wd": 0.05, "wd_lh": 0.01}),
    ("lamb_update_phase1", ["mean", "var"], {"wd": 0.05, "t": "step"}),
    ("lamb_update_phase1", ["mean", "var"], {"wd": 0.05, "t": "step", "bias_correction": False}),
    ("mp_lamb_update_phase1", ["mean", "var", "weight32"], {"wd": 0.05, "t": "step"}),
    ("contrib.adamw_update", ["mean", "var"], {"lr": 0.01, "eta": 0.5, "wd": 0.05,
                                               "rescale_grad": 0.7}),
    ("contrib.mp_adamw_update", ["mean", "var", "weight32"], {"lr": 0.01, "eta": 0.5, "wd": 0.05,
                                                             "rescale_grad": 0.7}),
]


def run_op(mx, name, states, attrs):
    """Three MXNet-style calls of operator ``name``: the weight and states after each."""
    fn = mx.nd.contrib if name.startswith("contrib.") else mx.nd
    fn = getattr(fn, name.split(".")[-1])
    mp = "weight32" in states
    w0, _ = inputs(0, dtype="float16" if mp else "float32")
    w = mx.nd.array(w0, dtype=w0.dtype)
    st = {s: (mx.nd.array(w0, dtype="float32") if s == "weight32" else
              mx.nd.zeros(SHAPE, dtype="float32")) for s in states}
    out = []
    for step in (1, 2, 3):
        _, g = inputs(step, dtype=w0.dtype)
        g = mx.nd.array(g, dtype=w0.dtype)
        kw = {k: (step if v == "step" else v) for k, v in attrs.items()}
        args = [w, g] + [st[s] for s in states]
        if name.endswith("adamw_update"):
            rs = kw.pop("rescale_grad")
            args.append(mx.nd.array([rs]))
        if name.endswith("lamb_update_phase1"):
            res = fn(*args, **kw)
            out.append({"out": res.asnumpy().tolist(),
                        **{s: st[s].asnumpy().tolist() for s in states}})
            continue
        fn(*args, out=w, **kw)
        out.append({"weight": w.asnumpy().astype(np.float64).tolist(),
                    **{s: st[s].asnumpy().tolist() for s in states}})
    return out


def lamb_phase2(mx):
    w0, g0 = inputs(1)
    w, g = mx.nd.array(w0), mx.nd.array(g0)
    res = {}
    for lb, ub in [(-1.0, -1.0), (2.0, -1.0), (-1.0, 0.5)]:
        ww = w.copy()
        mx.nd.lamb_update_phase2(ww, g, w.norm(), g.norm(), out=ww, lr=0.1, lower_bound=lb,
                                 upper_bound=ub)
        res[f"{lb},{ub}"] = ww.asnumpy().tolist()
    w16, w32 = mx.nd.array(w0, dtype="float16"), mx.nd.array(w0)
    mx.nd.mp_lamb_update_phase2(w16, g, w32.norm(), g.norm(), w32, out=w16, lr=0.1)
    res["mp"] = w16.asnumpy().astype(np.float64).tolist()
    res["mp_weight32"] = w32.asnumpy().tolist()
    return res


def multi_ops(mx, only=None):
    res = {}
    ws = [inputs(0, (3, 4))[0], inputs(0, (5,))[0]]
    for name, per in [("multi_sgd_update", 0), ("multi_sgd_mom_update", 1),
                      ("multi_mp_sgd_update", 1), ("multi_mp_sgd_mom_update", 2)]:
        if only is not None and name != only:
            continue
        mp = "mp" in name
        dt = "float16" if mp else "float32"
        wn = [mx.nd.array(w, dtype=dt) for w in ws]
        extra = []
        for w in ws:
            e = []
            if "mom" in name:
                e.append(mx.nd.zeros(w.shape))
            if mp:
                e.append(mx.nd.array(w, dtype="float32"))
            extra.append(e)
        kw = {"lrs": (0.1, 0.2), "wds": (0.01, 0.0), "rescale_grad": 0.5, "num_weights": 2}
        if "mom" in name:
            kw["momentum"] = 0.9
        steps = []
        for step in (1, 2):
            data = []
            for k, w in enumerate(ws):
                g = inputs(step, w.shape, dt)[1]
                data += [wn[k], mx.nd.array(g, dtype=dt)] + extra[k]
            getattr(mx.nd, name)(*data, out=wn, **kw)
            steps.append({"weights": [x.asnumpy().astype(np.float64).tolist() for x in wn],
                          "extra": [[e.asnumpy().tolist() for e in ex] for ex in extra]})
        res[name] = steps
    return res


STATE_CONFIGS = [
    ("sgd", {"momentum": 0.9}), ("sgd", {}), ("nag", {"momentum": 0.9}), ("adam", {}),
    ("rmsprop", {}), ("rmsprop", {"centered": True}), ("adagrad", {}), ("adadelta", {}),
    ("adamax", {}), ("nadam", {}), ("ftml", {}), ("ftrl", {}), ("lamb", {}),
    ("lars", {"momentum": 0.9}), ("signum", {}), ("signum", {"momentum": 0.0}),
    ("dcasgd", {}), ("sgld", {}), ("lbsgd", {"momentum": 0.9}), ("test", {}),
]


def describe(s):
    if s is None:
        return None
    if isinstance(s, (tuple, list)):
        return [describe(x) for x in s]
    return {"shape": list(s.shape), "dtype": np.dtype(s.dtype).name}


def values(s):
    if s is None:
        return None
    if isinstance(s, (tuple, list)):
        return [values(x) for x in s]
    return s.asnumpy().astype(np.float64).tolist()


def state_case(mx, name, kw, dtype, mp):
    """``create_state_multi_precision`` of one optimizer (structure), then three
    ``update_multi_precision`` calls (state values and weight)."""
    wd = 0.0 if name == "groupadagrad" else 0.01
    opt = mx.optimizer.create(name, learning_rate=0.01, wd=wd, multi_precision=mp, **kw)
    w0 = inputs(0, dtype=dtype)[0]
    w = mx.nd.array(w0, dtype=dtype)
    st = opt.create_state_multi_precision(0, w)
    entry = {"structure": describe(st)}
    if name == "sgld":
        return entry
    try:
        for step in (1, 2, 3):
            g = mx.nd.array(inputs(step, dtype=dtype)[1], dtype=dtype)
            opt.update_multi_precision(0, w, g, st)
    except mx.base.MXNetError:  # MXNet: float32 states with float16 weights
        entry["mxnet_error"] = True
        return entry
    entry["after"] = values(st)
    entry["weight"] = w.asnumpy().astype(np.float64).tolist()
    return entry


STATE_CASES = [(name, kw, dtype, mp) for name, kw in STATE_CONFIGS + [("groupadagrad", {})]
               for dtype, mp in [("float32", False), ("float16", True), ("float16", False)]
               if not (name == "sgld" and mp)]


def state_key(name, kw, dtype, mp):
    return f"{name}{kw}/{dtype}/mp={mp}"


def learning_rates(mx):
    res = {}
    opt = mx.optimizer.SGD(learning_rate=0.3)
    res["sgd_lr"] = repr(opt.learning_rate)
    sched = mx.lr_scheduler.FactorScheduler(step=2, factor=0.3, base_lr=0.7, stop_factor_lr=1e-3)
    res["factor"] = [repr(sched(n)) for n in range(0, 30, 3)]
    sched = mx.lr_scheduler.MultiFactorScheduler(step=[2, 5, 9], factor=0.7, base_lr=0.3)
    res["multifactor"] = [repr(sched(n)) for n in range(0, 12)]
    sched = mx.lr_scheduler.PolyScheduler(max_update=10, base_lr=0.3, pwr=2, final_lr=0.01,
                                          warmup_steps=3, warmup_begin_lr=0.1)
    res["poly"] = [repr(sched(n)) for n in range(0, 13)]
    sched = mx.lr_scheduler.CosineScheduler(max_update=10, base_lr=0.3, final_lr=0.01,
                                            warmup_steps=2, warmup_mode="constant",
                                            warmup_begin_lr=0.05)
    res["cosine"] = [repr(sched(n)) for n in range(0, 13)]
    sched = mx.lr_scheduler.FactorScheduler(step=1, factor=0.9, base_lr=0.1)
    opt = mx.optimizer.Adam(learning_rate=0.3, lr_scheduler=sched)
    opt.num_update = 5
    res["adam_sched_lr"] = repr(opt.learning_rate)
    params = mx.gluon.ParameterDict("dense_")
    params.get("weight", shape=(2, 3))
    params.initialize()
    trainer = mx.gluon.Trainer(params, "sgd", {"learning_rate": 0.3})
    res["trainer_lr"] = repr(trainer.learning_rate)
    trainer.set_learning_rate(0.7)
    res["trainer_lr_set"] = repr(trainer.learning_rate)
    return res


def resume_mp_sgd(mx):
    """``tests/golden/compat/formats/updater_sgd_multi_precision.states`` (written by MXNet)
    loaded into a fresh Updater after two steps of its own, then one more step."""
    opt = mx.optimizer.SGD(learning_rate=np.float32(0.1), momentum=0.9, multi_precision=True,
                           wd=1e-3)
    updater = mx.optimizer.get_updater(opt)
    rs = np.random.RandomState(8)
    weights = [mx.nd.array(rs.standard_normal(s), dtype="float16") for s in [(2, 3), (3,)]]

    def steps(n, rs):
        for _ in range(n):
            for i, w in enumerate(weights):
                updater(i, mx.nd.array(rs.standard_normal(w.shape), dtype="float16"), w)

    steps(2, rs)
    path = os.path.join(HERE, "..", "formats", "updater_sgd_multi_precision.states")
    with open(path, "rb") as f:
        updater.set_states(f.read())
    steps(1, np.random.RandomState(9))
    return [w.asnumpy().astype(np.float64).tolist() for w in weights]


def main():
    import mxnet as mx
    out = {"ops": {}, "lamb_phase2": lamb_phase2(mx), "multi": multi_ops(mx),
           "states": {state_key(*c): state_case(mx, *c) for c in STATE_CASES},
           "lr": learning_rates(mx), "resume_mp_sgd": resume_mp_sgd(mx)}
    for k, (name, st, attrs) in enumerate(OPS):
        out["ops"][f"{k}:{name}"] = {"name": name, "states": st, "attrs": attrs,
                                     "steps": run_op(mx, name, st, attrs)}
    path = os.path.join(HERE, "mxnet_updates.json")
    with open(path, "w") as f:
        json.dump(out, f)
    print("wrote", path, file=sys.stderr)


if __name__ == "__main__":
    main()
