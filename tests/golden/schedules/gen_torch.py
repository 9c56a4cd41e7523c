"""Generate torch 2.13 lr_scheduler goldens: ``python tests/golden/schedules/gen_torch.py``.

Writes ``torch.json`` (one lr sequence per scheduler, epoch 0 = after
construction, then one value per ``scheduler.step()``) and ``plateau.json``
(ReduceLROnPlateau fed noisy metrics). Each case lists the exact constructor
arguments, so the tests build the same optjax call from them.
"""

import json
import os
import random
import sys

import torch
from torch.optim import lr_scheduler as L

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambdas import LAMBDAS  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
N = 80


def child(cls, **args):
    return {"cls": cls, "args": args}


CASES = [
    ("StepLR_3_05", 0.05, child("StepLR", step_size=3, gamma=0.5)),
    ("StepLR_7_09", 0.1, child("StepLR", step_size=7, gamma=0.9)),
    ("MultiStepLR_repeat", 0.05, child("MultiStepLR", milestones=[10, 25, 25, 40], gamma=0.3)),
    ("MultiStepLR_zero", 0.2, child("MultiStepLR", milestones=[0, 30], gamma=0.1)),
    ("ExponentialLR_095", 0.1, child("ExponentialLR", gamma=0.95)),
    ("ExponentialLR_05", 1.0, child("ExponentialLR", gamma=0.5)),
    ("LambdaLR_inv_t", 0.05, child("LambdaLR", lr_lambda="inv_t")),
    ("LambdaLR_pow", 0.1, child("LambdaLR", lr_lambda="pow097")),
    ("MultiplicativeLR_const", 0.1, child("MultiplicativeLR", lr_lambda="const095")),
    ("MultiplicativeLR_alt", 0.1, child("MultiplicativeLR", lr_lambda="alt")),
    ("CosineAnnealingLR_20", 0.05, child("CosineAnnealingLR", T_max=20, eta_min=0.001)),
    ("CosineAnnealingLR_10", 0.1, child("CosineAnnealingLR", T_max=10)),
    ("CosineAnnealingWarmRestarts_5_2", 0.05,
     child("CosineAnnealingWarmRestarts", T_0=5, T_mult=2, eta_min=0.001)),
    ("CosineAnnealingWarmRestarts_7_1", 0.1, child("CosineAnnealingWarmRestarts", T_0=7)),
    ("CosineAnnealingWarmRestarts_3_3", 0.1,
     child("CosineAnnealingWarmRestarts", T_0=3, T_mult=3)),
    ("CyclicLR_triangular", 0.5, child("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=5,
                                       step_size_down=3, cycle_momentum=False)),
    ("CyclicLR_triangular2", 0.5, child("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=4,
                                        mode="triangular2", cycle_momentum=False)),
    ("CyclicLR_exp_range", 0.5, child("CyclicLR", base_lr=0.001, max_lr=0.05, step_size_up=6,
                                      mode="exp_range", gamma=0.97, cycle_momentum=False)),
    ("OneCycleLR_cos", 0.5, child("OneCycleLR", max_lr=0.1, total_steps=N, cycle_momentum=False)),
    ("OneCycleLR_linear3", 0.5, child("OneCycleLR", max_lr=0.2, total_steps=N, pct_start=0.25,
                                      anneal_strategy="linear", three_phase=True,
                                      cycle_momentum=False)),
    ("OneCycleLR_epochs", 0.5, child("OneCycleLR", max_lr=1.0, epochs=8, steps_per_epoch=10,
                                     pct_start=0.4, div_factor=10.0, final_div_factor=100.0,
                                     cycle_momentum=False)),
    ("LinearLR_up", 0.05, child("LinearLR", start_factor=0.25, end_factor=1.0, total_iters=20)),
    ("LinearLR_down", 0.1, child("LinearLR", start_factor=1.0, end_factor=0.1, total_iters=30)),
    ("ConstantLR", 0.05, child("ConstantLR", factor=0.5, total_iters=10)),
    ("PolynomialLR_2", 0.1, child("PolynomialLR", total_iters=40, power=2.0)),
    ("PolynomialLR_05", 0.1, child("PolynomialLR", total_iters=60, power=0.5)),
    ("SequentialLR_2", 0.05, child("SequentialLR", milestones=[5], schedulers=[
        child("LinearLR", start_factor=0.1, end_factor=1.0, total_iters=5),
        child("ExponentialLR", gamma=0.9)])),
    ("SequentialLR_3", 0.1, child("SequentialLR", milestones=[10, 30], schedulers=[
        child("ConstantLR", factor=0.5, total_iters=100),
        child("CosineAnnealingLR", T_max=20),
        child("StepLR", step_size=5, gamma=0.5)])),
    ("ChainedScheduler_2", 0.05, child("ChainedScheduler", schedulers=[
        child("ConstantLR", factor=0.1, total_iters=3),
        child("ExponentialLR", gamma=0.9)])),
    ("ChainedScheduler_3", 0.1, child("ChainedScheduler", schedulers=[
        child("StepLR", step_size=10, gamma=0.5),
        child("ExponentialLR", gamma=0.98),
        child("LinearLR", start_factor=0.5, end_factor=1.0, total_iters=8)])),
]


def build(opt, spec):
    cls, args = spec["cls"], dict(spec["args"])
    if "lr_lambda" in args:
        args["lr_lambda"] = LAMBDAS[args["lr_lambda"]]
    if cls == "SequentialLR":
        args["schedulers"] = [build(opt, c) for c in args["schedulers"]]
        return L.SequentialLR(opt, **args)
    if cls == "ChainedScheduler":
        return L.ChainedScheduler([build(opt, c) for c in args["schedulers"]])
    return getattr(L, cls)(opt, **args)


def run_case(base_lr, spec, n):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base_lr, momentum=0.9)
    sched = build(opt, spec)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(n - 1):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    return [float(x) for x in lrs]


def metrics(seed, n, mode):
    rng = random.Random(seed)
    out = []
    for t in range(n):
        trend = 2.0 * 0.93 ** min(t, 30) + 0.3
        v = trend + rng.gauss(0.0, 0.03)
        out.append(v if mode == "min" else 1.0 - v / 3.0)
    return out


PLATEAU = [
    ("min_rel", [0.1], dict(mode="min", factor=0.5, patience=5, threshold=1e-2), 1),
    ("min_abs_cooldown_minlr", [0.1], dict(mode="min", factor=0.5, patience=2, threshold=0.05,
                                           threshold_mode="abs", cooldown=3, min_lr=0.002), 2),
    ("max_rel_cooldown", [0.05], dict(mode="max", factor=0.3, patience=3, threshold=1e-3,
                                      cooldown=2, min_lr=1e-4), 3),
    ("max_abs_eps", [0.01], dict(mode="max", factor=0.7, patience=0, threshold=0.01,
                                 threshold_mode="abs", eps=1e-3), 4),
    ("min_rel_groups", [0.1, 0.01], dict(mode="min", factor=0.5, patience=1, threshold=1e-3,
                                         min_lr=[0.02, 0.0005]), 5),
]


def run_plateau(lrs0, args, values):
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in lrs0]
    opt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs0)], lr=lrs0[0])
    sched = L.ReduceLROnPlateau(opt, **args)
    rows = []
    for v in values:
        opt.step()
        sched.step(v)
        rows.append({"lrs": [float(g["lr"]) for g in opt.param_groups],
                     "best": float(sched.best), "num_bad_epochs": sched.num_bad_epochs,
                     "cooldown_counter": sched.cooldown_counter})
    return rows


def main():
    cases = [{"name": name, "base_lr": b, "spec": spec, "lrs": run_case(b, spec, N)}
             for name, b, spec in CASES]
    with open(os.path.join(HERE, "torch.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f, indent=1)
    pcases = []
    for name, lrs0, args, seed in PLATEAU:
        values = metrics(seed, N, args["mode"])
        pcases.append({"name": name, "lrs0": lrs0, "args": args, "values": values,
                       "rows": run_plateau(lrs0, args, values)})
    with open(os.path.join(HERE, "plateau.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": pcases}, f, indent=1)


if __name__ == "__main__":
    main()
