"""Generate golden optimizer trajectories with real torch (2.13, CPU, float32).

Run from the repository root:  python tests/golden/optimizers/gen_torch.py
Writes tests/golden/optimizers/torch_golden.json.

Each case records the torch class, the constructor kwargs as given, the
resolved defaults torch used (``opt.defaults``), the parameter groups, the
gradient pipeline (``grad *= rescale``; ``clip_grad_norm_(max_norm)``), lr
changes (``group['lr'] = x`` before a step), the initial params, the *raw*
gradients fed at every step (deterministic functions of the step and the
current params, stored so the test feeds the same numbers), and the params
after every step. tests/optimizers/test_torch_golden.py rebuilds each case
with optjax (see tests/optimizers/torch_mapping.py).
"""

from __future__ import annotations

import json
import math
import os
import sys

import numpy as np
import torch

STEPS = 12
SHAPES = {"w": (3, 4), "b": (4,), "t": (2, 3, 2)}
MATRIX_SHAPES = {"w": (3, 4), "v": (5, 3)}  # Muon takes 2-D params only


def init_params(shapes):
    out = {}
    for i, (name, shape) in enumerate(sorted(shapes.items())):
        n = int(np.prod(shape))
        x = np.sin(np.arange(n, dtype=np.float64) * 0.7 + i) * 0.8 + 0.1 * (i + 1)
        out[name] = x.reshape(shape).astype(np.float32)
    return out


def grad_fn(step, name_index, p):
    """A deterministic gradient: depends on the step, the leaf and the current params."""
    return torch.sin(1.7 * p + 0.3 * step + 0.5 * name_index) + 0.2 * p


# (name, torch class, kwargs, options)
CASES = [
    ("sgd", "SGD", {"lr": 0.1}, {}),
    ("sgd_momentum", "SGD", {"lr": 0.05, "momentum": 0.9}, {}),
    ("sgd_dampening_wd", "SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}, {}),
    ("sgd_nesterov_wd", "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}, {}),
    ("sgd_maximize", "SGD", {"lr": 0.05, "momentum": 0.5, "maximize": True}, {}),
    ("sgd_groups_clip", "SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 1e-3},
     {"groups": [{"params": ["b", "w"]}, {"params": ["t"], "lr": 0.01}], "clip": 1.0, "rescale": 0.5}),
    ("sgd_lr_change", "SGD", {"lr": 0.1, "momentum": 0.9}, {"lr_changes": {"5": 0.01}}),
    ("adam", "Adam", {"lr": 0.01}, {}),
    ("adam_amsgrad_wd", "Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}, {}),
    ("adam_decoupled", "Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}, {}),
    ("adam_groups_clip", "Adam", {"lr": 0.01, "betas": (0.8, 0.99)},
     {"groups": [{"params": ["b", "w"]}, {"params": ["t"], "lr": 0.002}], "clip": 0.5, "rescale": 2.0}),
    ("adamw", "AdamW", {"lr": 0.01}, {}),
    ("adamw_amsgrad", "AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}, {"clip": 1.0}),
    ("rmsprop", "RMSprop", {"lr": 0.01}, {}),
    ("rmsprop_centered_momentum_wd", "RMSprop",
     {"lr": 0.01, "centered": True, "momentum": 0.9, "weight_decay": 0.01}, {}),
    ("rmsprop_momentum_lr_change", "RMSprop", {"lr": 0.01, "momentum": 0.9, "alpha": 0.9},
     {"lr_changes": {"5": 0.001}}),
    ("adagrad", "Adagrad", {"lr": 0.1}, {}),
    ("adagrad_lr_decay_init_wd", "Adagrad",
     {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1, "weight_decay": 0.01}, {}),
    ("adadelta", "Adadelta", {"lr": 1.0}, {}),
    ("adadelta_wd", "Adadelta", {"lr": 0.5, "rho": 0.95, "eps": 1e-5, "weight_decay": 0.01}, {}),
    ("adamax", "Adamax", {"lr": 0.02}, {}),
    ("adamax_wd", "Adamax", {"lr": 0.02, "weight_decay": 0.01, "betas": (0.8, 0.99)}, {}),
    ("nadam", "NAdam", {"lr": 0.01}, {}),
    ("nadam_decoupled", "NAdam",
     {"lr": 0.01, "momentum_decay": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}, {}),
    ("nadam_coupled_groups", "NAdam", {"lr": 0.01, "weight_decay": 0.05},
     {"groups": [{"params": ["b", "w"]}, {"params": ["t"], "lr": 0.003}], "clip": 1.0, "rescale": 0.7}),
    ("radam", "RAdam", {"lr": 0.01}, {}),
    ("radam_decoupled", "RAdam",
     {"lr": 0.01, "betas": (0.9, 0.99), "weight_decay": 0.1, "decoupled_weight_decay": True}, {}),
    ("asgd", "ASGD", {"lr": 0.05, "lambd": 0.01, "t0": 3.0}, {}),
    ("asgd_wd", "ASGD", {"lr": 0.05, "weight_decay": 0.01}, {}),
    ("rprop", "Rprop", {"lr": 0.01}, {}),
    ("rprop_custom", "Rprop", {"lr": 0.02, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.05)}, {}),
    ("adafactor", "Adafactor", {"lr": 0.01}, {}),
    ("adafactor_wd", "Adafactor", {"lr": 0.05, "weight_decay": 0.1, "d": 2.0}, {"clip": 1.0}),
    ("muon", "Muon", {"lr": 0.02}, {"shapes": "matrix"}),
    ("muon_plain_rms", "Muon",
     {"lr": 0.02, "nesterov": False, "adjust_lr_fn": "match_rms_adamw", "weight_decay": 0.0},
     {"shapes": "matrix"}),
]


def jsonable(v):
    if isinstance(v, (bool, int, str)) or v is None:
        return v
    if isinstance(v, float):
        return v
    if isinstance(v, (tuple, list)):
        return [jsonable(x) for x in v]
    if isinstance(v, torch.Tensor):
        return v.tolist()
    return repr(v)


def run_case(name, cls_name, kwargs, opts):
    shapes = MATRIX_SHAPES if opts.get("shapes") == "matrix" else SHAPES
    p0 = init_params(shapes)
    names = sorted(p0)
    params = {n: torch.nn.Parameter(torch.tensor(p0[n])) for n in names}
    if "groups" in opts:
        groups = [{**{k: v for k, v in g.items() if k != "params"},
                   "params": [params[n] for n in g["params"]]} for g in opts["groups"]]
    else:
        groups = [params[n] for n in names]
    cls = getattr(torch.optim, cls_name)
    opt = cls(groups, **kwargs)
    grads, traj = [], []
    for k in range(STEPS):
        if str(k) in opts.get("lr_changes", {}):
            for g in opt.param_groups:
                g["lr"] = opts["lr_changes"][str(k)]
        gk = {}
        with torch.no_grad():
            for i, n in enumerate(names):
                g = grad_fn(k, i, params[n].detach())
                gk[n] = g.numpy().copy()
                params[n].grad = g.clone()
        if "rescale" in opts:
            for n in names:
                params[n].grad.mul_(opts["rescale"])
        if "clip" in opts:
            torch.nn.utils.clip_grad_norm_([params[n] for n in names], opts["clip"])
        opt.step()
        grads.append({n: gk[n].tolist() for n in names})
        traj.append({n: params[n].detach().numpy().tolist() for n in names})
    final_state = {}
    for n in names:
        st = opt.state[params[n]]
        for key in ("ax", "mu_product", "step_size", "momentum_buffer"):
            if key in st:
                final_state.setdefault(key, {})[n] = st[key].detach().numpy().tolist()
    defaults = {k: jsonable(v) for k, v in opt.defaults.items()
                if k not in ("foreach", "fused", "capturable", "differentiable")}
    return {
        "name": name, "torch_class": cls_name, "kwargs": jsonable(kwargs), "defaults": defaults,
        "groups": opts.get("groups"), "clip": opts.get("clip"), "rescale": opts.get("rescale"),
        "lr_changes": opts.get("lr_changes"),
        "init": {n: p0[n].tolist() for n in names}, "grads": grads, "params": traj,
        "final_state": final_state,
    }


def main():
    torch.manual_seed(0)
    torch.set_default_dtype(torch.float32)
    out = {
        "torch_version": torch.__version__, "steps": STEPS, "dtype": "float32",
        "generator": "tests/golden/optimizers/gen_torch.py",
        "cases": [run_case(*c) for c in CASES],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_golden.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print(f"wrote {len(out['cases'])} cases to {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
