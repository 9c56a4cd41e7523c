"""Gluon training-step time: real MXNet 1.9.1 (CPU) vs the optjax shim, in one run.

    python benchmarks/gluon_vs_mxnet.py --mxnet-python DIR/bin/python [--steps 30] [--rounds 3]

``DIR`` is a venv made by ``tools/mxnet-venv.sh DIR``. The same worker code (this
file, ``--worker mxnet|shim``) builds an MLP and a LeNet with BatchNorm, and times
one training step (``autograd.record`` forward + loss, ``backward``,
``trainer.step``, then waiting for the result) imperative and hybridized, same
batch sizes. Median over ``--steps`` after warm-up (the shim's first steps
compile). ``--rounds`` alternates MXNet and shim processes so that both see similar
machine load. Prints a table of ms/step and the ratio shim / MXNet; ``--json`` writes it.
The shim runs once per ``--xla-threads`` value (default ``0 1``): ``0`` is JAX's default
CPU thread pool (one thread per core), ``N`` sets it to ``N`` threads (``PJRT_NPROC=N``).
Goals (issue 12): hybridized <= 0.7x MXNet's hybridized step, imperative <= 1.5x.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

CONFIGS = [("mlp", False), ("mlp", True), ("lenet_bn", False), ("lenet_bn", True)]
BATCH = 64


def build(mx, name):
    nn = mx.gluon.nn
    net = nn.HybridSequential()
    with net.name_scope():
        if name == "mlp":
            net.add(nn.Dense(256, activation="relu"), nn.Dense(256, activation="relu"),
                    nn.Dense(10))
        else:
            net.add(nn.Conv2D(6, 5), nn.BatchNorm(), nn.Activation("relu"), nn.MaxPool2D(2, 2),
                    nn.Conv2D(16, 5), nn.BatchNorm(), nn.Activation("relu"), nn.MaxPool2D(2, 2),
                    nn.Dense(120), nn.BatchNorm(), nn.Activation("relu"),
                    nn.Dense(84), nn.Activation("relu"), nn.Dense(10))
    return net


def time_config(mx, name, hybridize, steps):
    rng = np.random.RandomState(0)
    shape = (BATCH, 784) if name == "mlp" else (BATCH, 1, 28, 28)
    xs = [mx.nd.array(rng.standard_normal(shape).astype(np.float32)) for _ in range(4)]
    ys = [mx.nd.array(rng.randint(0, 10, BATCH).astype(np.float32)) for _ in range(4)]
    net = build(mx, name)
    net.initialize(mx.init.Xavier())
    if hybridize:
        net.hybridize()
    loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd",
                               {"learning_rate": 0.05, "momentum": 0.9, "wd": 1e-4})

    def step(i):
        x, y = xs[i % 4], ys[i % 4]
        with mx.autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(BATCH)
        loss.wait_to_read()
        mx.nd.waitall()

    for i in range(5):
        step(i)
    times = []
    for i in range(steps):
        t = time.perf_counter()
        step(i)
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def worker(kind, steps):
    if kind == "mxnet":
        import mxnet as mx
    else:
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        import optjax.compat.mxnet as mx
    return {f"{n}/{'hybrid' if h else 'imperative'}": time_config(mx, n, h, steps)
            for n, h in CONFIGS}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--mxnet-python", default=os.environ.get("MXNET_PYTHON", "python"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--worker", choices=["mxnet", "shim"])
    ap.add_argument("--xla-threads", type=int, nargs="*", default=[0, 1],
                    help="shim runs, one per XLA:CPU thread-pool size (PJRT_NPROC); "
                         "0 = JAX's default (one thread per core)")
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.steps)))
        return
    here = os.path.abspath(__file__)
    env = dict(os.environ, MXNET_STORAGE_FALLBACK_LOG_VERBOSE="0")
    shims = [f"shim, {t} XLA thread{'s' if t > 1 else ''}" if t else "shim"
             for t in args.xla_threads]
    rounds = []  # each round runs MXNet then the shim(s), so all see similar machine load
    for _ in range(args.rounds):
        runs = {}
        for kind, py, threads in [("mxnet", args.mxnet_python, 0)] + [
                (k, sys.executable, t) for k, t in zip(shims, args.xla_threads)]:
            run_env = dict(env, PJRT_NPROC=str(threads)) if threads else env
            out = subprocess.run([py, here, "--worker", "mxnet" if kind == "mxnet" else "shim",
                                  "--steps", str(args.steps)],
                                 capture_output=True, text=True, env=run_env, check=True, cwd="/")
            runs[kind] = json.loads(out.stdout.strip().splitlines()[-1])
        rounds.append(runs)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"load average at the end {os.getloadavg()[0]:.2f}; "
          f"batch {BATCH}; median of {args.steps} steps per run; {args.rounds} rounds "
          "(MXNet then shim in each); times: median over rounds; ratio: median of the "
          "rounds' ratios; 'N XLA threads': PJRT_NPROC=N")
    print("| model | mode | run | MXNet 1.9.1 ms/step | shim ms/step | shim / MXNet | "
          "ratios per round | goal |")
    print("|---|---|---|---|---|---|---|---|")
    rows = []
    for key in rounds[0]["mxnet"]:
        m = [r["mxnet"][key] * 1e3 for r in rounds]
        model, mode = key.split("/")
        goal = "<= 0.7 (vs hybridized)" if mode == "hybrid" else "<= 1.5"
        for k in shims:
            sh = [r[k][key] * 1e3 for r in rounds]
            ratios = [b / a for a, b in zip(m, sh)]
            print(f"| {model} | {mode} | {k} | {np.median(m):.2f} | {np.median(sh):.2f} | "
                  f"{np.median(ratios):.2f} | {', '.join(f'{r:.2f}' for r in ratios)} | {goal} |")
            rows.append({"model": model, "mode": mode, "run": k, "mxnet_ms": m, "shim_ms": sh})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
