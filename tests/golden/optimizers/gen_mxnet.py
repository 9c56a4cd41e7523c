"""Generate golden trajectories from the real MXNet 1.9.1 optimizers.

Run from the repository root with the MXNet venv that ``tools/mxnet-venv.sh`` builds::

    bash tools/mxnet-venv.sh ../mxnet-venv     # once: a venv with MXNet 1.9.1, numpy<1.24
    ../mxnet-venv/bin/python tests/golden/optimizers/gen_mxnet.py

Writes ``mxnet_golden.json`` beside this file. For every case it records the
exact constructor kwargs, the per-index effective wd (``wd * wd_mult``), lr
and name, the initial weights, every step's gradients (deterministic, from a
seeded numpy RandomState) and the weights after each step. Weights are float32;
numbers are written with 9 significant digits (exact round trip for float32).
"""

import json
import os
import sys

import mxnet as mx
import numpy as np

STEPS = 12
SHAPES = [(3, 4), (4,), (2, 3, 2)]
SHAPES_2D = [(3, 4), (5, 2), (2, 3)]
NAMES = ["fc1_weight", "fc1_bias", "conv_weight"]
CUSTOM = dict(wd=0.1, rescale_grad=0.5, clip_gradient=0.6)


def case(name, opt, kwargs, *, mode="update", shapes=SHAPES, idx2name=True, grad_scale=1.5, lr_sched=None):
    return dict(case=name, optimizer=opt, kwargs=kwargs, mode=mode, shapes=[list(s) for s in shapes],
                idx2name=idx2name, grad_scale=grad_scale)


CASES = [
    # SGD / ccSGD (C++ multi_sgd kernels)
    case("sgd_defaults", "sgd", {}),
    case("sgd_custom", "sgd", dict(learning_rate=0.1, **CUSTOM)),
    case("sgd_mom_custom", "sgd", dict(learning_rate=0.1, momentum=0.9, **CUSTOM)),
    case("sgd_mom_clip0", "sgd", dict(learning_rate=0.1, momentum=0.9, wd=0.1, rescale_grad=0.5, clip_gradient=0.0)),
    case("sgd_mom_clipneg", "sgd", dict(learning_rate=0.1, momentum=0.9, clip_gradient=-1.0)),
    case("ccsgd_mom_custom", "ccsgd", dict(learning_rate=0.1, momentum=0.9, **CUSTOM)),
    # NAG
    case("nag_defaults", "nag", {}),
    case("nag_custom", "nag", dict(learning_rate=0.1, **CUSTOM)),
    case("nag_mom_custom", "nag", dict(learning_rate=0.1, momentum=0.9, **CUSTOM)),
    # RMSProp
    case("rmsprop_defaults", "rmsprop", {}),
    case("rmsprop_custom", "rmsprop", dict(learning_rate=0.01, gamma1=0.8, **CUSTOM)),
    case("rmsprop_centered_custom", "rmsprop",
         dict(learning_rate=0.01, gamma1=0.8, gamma2=0.7, centered=True, clip_weights=0.9, **CUSTOM)),
    # Adam
    case("adam_defaults", "adam", {}),
    case("adam_custom", "adam", dict(learning_rate=0.01, beta1=0.8, beta2=0.99, epsilon=1e-6, **CUSTOM)),
    # AdaGrad (dense: python)
    case("adagrad_defaults", "adagrad", {}),
    case("adagrad_custom", "adagrad", dict(learning_rate=0.1, eps=1e-6, **CUSTOM)),
    case("adagrad_clip0", "adagrad", dict(learning_rate=0.1, clip_gradient=0.0)),
    # AdaDelta (python)
    case("adadelta_defaults", "adadelta", {}),
    case("adadelta_custom", "adadelta", dict(rho=0.8, epsilon=1e-4, **CUSTOM)),
    # Adamax (python)
    case("adamax_defaults", "adamax", {}),
    case("adamax_custom", "adamax", dict(learning_rate=0.01, beta1=0.8, beta2=0.99, **CUSTOM)),
    # Nadam (python; m_schedule shared by all indices)
    case("nadam_defaults", "nadam", {}),
    case("nadam_custom", "nadam", dict(learning_rate=0.01, beta1=0.8, beta2=0.99, schedule_decay=0.01, **CUSTOM)),
    # DCASGD (python; momentum must be 0)
    case("dcasgd_defaults", "dcasgd", {}),
    case("dcasgd_custom", "dcasgd", dict(learning_rate=0.1, lamda=0.5, **CUSTOM)),
    case("dcasgd_clip0", "dcasgd", dict(learning_rate=0.1, lamda=0.5, clip_gradient=0.0)),
    # Signum
    case("signum_defaults", "signum", {}),
    case("signum_custom", "signum", dict(learning_rate=0.01, momentum=0.8, wd_lh=0.05, **CUSTOM)),
    case("signsgd_custom", "signum", dict(learning_rate=0.01, momentum=0.0, **CUSTOM)),
    # FTML
    case("ftml_defaults", "ftml", {}),
    case("ftml_custom", "ftml", dict(learning_rate=0.01, beta1=0.7, beta2=0.99, epsilon=1e-6, **CUSTOM)),
    # LBSGD
    case("lbsgd_defaults", "lbsgd", {}),
    case("lbsgd_linear", "lbsgd", dict(learning_rate=0.05, momentum=0.9, batch_scale=2, warmup_epochs=2,
                                       updates_per_epoch=3, warmup_strategy="linear", **CUSTOM)),
    case("lbsgd_power2", "lbsgd", dict(learning_rate=0.05, batch_scale=3, warmup_epochs=2,
                                       updates_per_epoch=4, begin_epoch=1, warmup_strategy="power2", **CUSTOM)),
    case("lbsgd_sqrt", "lbsgd", dict(learning_rate=0.05, momentum=0.5, batch_scale=2, warmup_epochs=3,
                                     updates_per_epoch=2, warmup_strategy="sqrt", **CUSTOM)),
    case("lbsgd_lars", "lbsgd", dict(learning_rate=0.05, momentum=0.9, batch_scale=2,
                                     warmup_strategy="lars", **CUSTOM)),
    # Ftrl
    case("ftrl_defaults", "ftrl", {}),
    case("ftrl_custom", "ftrl", dict(learning_rate=0.2, lamda1=0.05, beta=0.5, **CUSTOM)),
    # LAMB
    case("lamb_defaults", "lamb", {}),
    case("lamb_custom", "lamb", dict(learning_rate=0.01, beta1=0.8, beta2=0.99, epsilon=1e-5, **CUSTOM)),
    case("lamb_bounds_nobc", "lamb", dict(learning_rate=0.01, lower_bound=1.5, upper_bound=1.9,
                                          bias_correction=False, **CUSTOM)),
    case("lamb_custom_updater", "lamb", dict(learning_rate=0.01, beta1=0.8, beta2=0.99, **CUSTOM),
         mode="updater"),
    # LARS (names: fc1_bias gets the plain lr and, via set_wd_mult, wd 0)
    case("lars_defaults", "lars", {}),
    case("lars_custom", "lars", dict(learning_rate=0.1, momentum=0.9, eta=0.01, eps=1e-6, **CUSTOM)),
    case("lars_custom_updater", "lars", dict(learning_rate=0.1, momentum=0.9, eta=0.01, **CUSTOM),
         mode="updater"),
    case("lars_noname", "lars", dict(learning_rate=0.1, eta=0.01, **CUSTOM), idx2name=False),
    # GroupAdaGrad (2-D weights, wd must be 0)
    case("groupadagrad_defaults", "groupadagrad", {}, shapes=SHAPES_2D),
    case("groupadagrad_custom", "groupadagrad",
         dict(learning_rate=0.1, eps=1e-6, rescale_grad=0.5, clip_gradient=0.6), shapes=SHAPES_2D),
]


def f32list(a):
    return [float("%.9g" % x) for x in np.asarray(a, np.float32).ravel()]


def run(c, seed):
    rs = np.random.RandomState(seed)
    shapes = [tuple(s) for s in c["shapes"]]
    kw = dict(c["kwargs"])
    if c["idx2name"]:
        kw["param_idx2name"] = {i: NAMES[i] for i in range(len(shapes))}
    opt = mx.optimizer.create(c["optimizer"], **kw)
    w0 = [rs.uniform(-1, 1, s).astype(np.float32) for s in shapes]
    weights = [mx.nd.array(w, dtype="float32") for w in w0]
    n = len(shapes)
    eff_wd = [float(opt._get_wd(i)) for i in range(n)]
    eff_lr = [float(opt._get_lr(i)) for i in range(n)]  # no scheduler: lr * lr_mult, side-effect free
    names = [opt.idx2name.get(i, str(i)) for i in range(n)]
    if c["mode"] == "updater":
        updater = mx.optimizer.get_updater(opt)
    else:
        states = [opt.create_state_multi_precision(i, weights[i]) for i in range(n)]
    grads_out, traj = [], []
    for _ in range(STEPS):
        gs = [(rs.randn(*s) * c["grad_scale"]).astype(np.float32) for s in shapes]
        grads = [mx.nd.array(g, dtype="float32") for g in gs]  # fresh arrays: no aliasing
        if c["mode"] == "updater":
            updater(list(range(n)), grads, weights)
        else:
            for i in range(n):
                opt.update(i, weights[i], grads[i], states[i])
        grads_out.append([f32list(g) for g in gs])
        traj.append([f32list(w.asnumpy()) for w in weights])
    out = dict(c)
    out.update(seed=seed, steps=STEPS, names=names, effective_wd=eff_wd, effective_lr=eff_lr, init=[f32list(w) for w in w0],
               grads=grads_out, weights=traj, mxnet_version=mx.__version__)
    if c["optimizer"] == "nadam":
        out["final_m_schedule"] = float(opt.m_schedule)
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    results = [run(c, 1000 + k) for k, c in enumerate(CASES)]
    path = os.path.join(here, "mxnet_golden.json")
    with open(path, "w") as f:
        json.dump({"generator": "gen_mxnet.py", "mxnet": mx.__version__, "numpy": np.__version__,
                   "cases": results}, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", path, len(results), "cases", file=sys.stderr)


if __name__ == "__main__":
    main()
