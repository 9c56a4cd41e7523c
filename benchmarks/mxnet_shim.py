"""Step time of a legacy MXNet loop (Updater over a ResNet-50-like set of 161 parameters,
SGD momentum + wd, as Trainer/Module drive it) with the shim vs the real MXNet 1.9.1.

    bash tools/mxnet-venv.sh ../mxnet-venv        # once: a venv with the real MXNet 1.9.1
    python benchmarks/mxnet_shim.py [--steps 20] --mxnet-python ../mxnet-venv/bin/python

The MXNet side runs this same file in the MXNet venv (``--worker mxnet``) and
prints its mean step time; the ratio shim/MXNet is reported (goal: <= 1).
Without ``--mxnet-python`` only the shim's step time is printed.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np


def resnet50_shapes():
    """161 parameter shapes shaped like ResNet-50's (conv weights, BN gamma/beta, fc)."""
    shapes = [(64, 3, 7, 7), (64,), (64,)]
    cin = 64
    for width, blocks in ((64, 3), (128, 4), (256, 6), (512, 3)):
        for b in range(blocks):
            for k, (co, ci, ks) in enumerate(((width, cin, 1), (width, width, 3),
                                              (width * 4, width, 1))):
                shapes += [(co, ci, ks, ks), (co,), (co,)]
            if b == 0:
                shapes += [(width * 4, cin, 1, 1), (width * 4,), (width * 4,)]
            cin = width * 4
    shapes += [(1000, 2048), (1000,)]
    return shapes[:161]


def worker(mx, steps):
    shapes = resnet50_shapes()
    rng = np.random.RandomState(0)
    weights = [mx.nd.array(rng.uniform(-0.1, 0.1, s).astype(np.float32)) for s in shapes]
    grads = [mx.nd.array(rng.uniform(-0.1, 0.1, s).astype(np.float32)) for s in shapes]
    opt = mx.optimizer.create("sgd", learning_rate=0.1, momentum=0.9, wd=1e-4,
                              rescale_grad=1.0 / 32)
    updater = mx.optimizer.get_updater(opt)
    idx = list(range(len(shapes)))

    def step():
        updater(idx, grads, weights)
        weights[-1].wait_to_read()
        if hasattr(mx.nd, "waitall"):
            mx.nd.waitall()

    for _ in range(3):
        step()
    times = []
    for i in range(steps):
        opt.set_learning_rate(0.1 / (1 + i))  # a changing lr must not recompile
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--mxnet-python", default=None, help="python of a venv made by tools/mxnet-venv.sh")
    ap.add_argument("--worker", choices=["mxnet", "shim"])
    a = ap.parse_args()
    if a.worker == "mxnet":
        import mxnet as mx
        print(json.dumps({"step_s": worker(mx, a.steps)}))
        return
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import optjax.compat.mxnet as mx
    shim = worker(mx, a.steps)
    out = {"params": len(resnet50_shapes()),
           "elements": int(sum(np.prod(s) for s in resnet50_shapes())), "shim_step_s": shim}
    if a.mxnet_python:
        r = subprocess.run([a.mxnet_python, os.path.abspath(__file__), "--worker", "mxnet",
                            "--steps", str(a.steps)], capture_output=True, text=True)
        if r.returncode == 0:
            out["mxnet_step_s"] = json.loads(r.stdout.strip().splitlines()[-1])["step_s"]
            out["ratio_shim_over_mxnet"] = shim / out["mxnet_step_s"]
        else:
            out["mxnet_error"] = r.stderr[-500:]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
