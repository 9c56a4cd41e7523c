"""``Module.fit`` time per batch: real MXNet 1.9.1 (CPU) vs the shim, same data, same run.

    PYTHONPATH=. python benchmarks/module_vs_mxnet.py --mxnet-python DIR/bin/python [--rounds 3]

``DIR`` is a virtual environment built by ``tools/mxnet-venv.sh DIR`` (or set
``MXNET_PYTHON``). The shim runs once per ``--xla-threads`` value (default ``0 1``):
``0`` is JAX's default CPU thread pool (one thread per core), ``N`` sets the pool to
``N`` threads (``PJRT_NPROC=N``, read when JAX starts its CPU client). Each side runs this file as a worker in its own process
(``--worker mxnet`` / ``--worker shim``), alternating for ``--rounds`` rounds; a
worker builds each network with ``mx.sym``, binds a ``mx.mod.Module``, runs one
warm-up epoch (the shim compiles there), then times ``fit`` over further epochs
(SGD momentum, ``eval_metric='acc'``) and reports seconds per batch. Networks: the
MXNet notes' 20-10 softmax network and a 784-128-64-10 MLP at batch 128, and a
LeNet (conv 5x5x20, tanh, max-pool, conv 5x5x50, tanh, max-pool, fc 500, fc 10)
on 1x28x28 at batch 128. The ratio is shim / MXNet of the medians (goal <= 0.7).

Both sides read the data with ``mx.io.NDArrayIter`` and score with ``mx.metric.Accuracy``.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

NETS = ("softmax 20-10", "mlp 784-128-64-10", "lenet")


def build(mx, name):
    data = mx.sym.Variable("data")
    if name == "softmax 20-10":
        out = mx.sym.FullyConnected(data, name="fc", num_hidden=10)
        return mx.sym.SoftmaxOutput(out, name="softmax"), (20,), 40
    if name == "mlp 784-128-64-10":
        h = mx.sym.Activation(mx.sym.FullyConnected(data, name="fc1", num_hidden=128), act_type="relu")
        h = mx.sym.Activation(mx.sym.FullyConnected(h, name="fc2", num_hidden=64), act_type="relu")
        h = mx.sym.FullyConnected(h, name="fc3", num_hidden=10)
        return mx.sym.SoftmaxOutput(h, name="softmax"), (784,), 40
    c1 = mx.sym.Convolution(data, kernel=(5, 5), num_filter=20)
    p1 = mx.sym.Pooling(mx.sym.Activation(c1, act_type="tanh"), pool_type="max", kernel=(2, 2),
                        stride=(2, 2))
    c2 = mx.sym.Convolution(p1, kernel=(5, 5), num_filter=50)
    p2 = mx.sym.Pooling(mx.sym.Activation(c2, act_type="tanh"), pool_type="max", kernel=(2, 2),
                        stride=(2, 2))
    f = mx.sym.Activation(mx.sym.FullyConnected(mx.sym.Flatten(p2), num_hidden=500),
                          act_type="tanh")
    return mx.sym.SoftmaxOutput(mx.sym.FullyConnected(f, num_hidden=10), name="softmax"), \
        (1, 28, 28), 10


def worker(kind, epochs):
    import logging
    import warnings
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    if kind == "mxnet":
        import mxnet as mx
    else:
        import optjax.compat.mxnet as mx
    out = {}
    for name in NETS:
        sym, shape, nbatch = build(mx, name)
        rng = np.random.RandomState(0)
        X = rng.randn(nbatch * 128, *shape).astype(np.float32)
        Y = rng.randint(0, 10, nbatch * 128).astype(np.float32)
        it = mx.io.NDArrayIter(X, Y, batch_size=128)
        metric = mx.metric.Accuracy()
        mod = mx.mod.Module(sym)
        opt = {"learning_rate": 0.01, "momentum": 0.9, "wd": 1e-4}
        mod.fit(it, num_epoch=1, optimizer="sgd", optimizer_params=opt, eval_metric=metric,
                initializer=mx.init.Xavier())
        mx.nd.waitall()
        t0 = time.perf_counter()
        mod.fit(it, num_epoch=epochs, optimizer="sgd", optimizer_params=opt, eval_metric=metric)
        mod.get_params()[0][sym.list_arguments()[1]].asnumpy()
        mx.nd.waitall()
        out[name] = (time.perf_counter() - t0) / (epochs * nbatch)
    print(json.dumps(out))


def run_worker(python, kind, epochs, xla_threads=0):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.getcwd() + os.pathsep + env.get("PYTHONPATH", "")
    if xla_threads:  # the size of XLA:CPU's thread pool (read when JAX starts its CPU client)
        env["PJRT_NPROC"] = str(xla_threads)
    res = subprocess.run([python, os.path.abspath(__file__), "--worker", kind,
                          "--epochs", str(epochs)], capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise SystemExit(f"{kind} worker failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", choices=("mxnet", "shim"))
    ap.add_argument("--mxnet-python", default=os.environ.get("MXNET_PYTHON"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--xla-threads", type=int, nargs="*", default=[0, 1],
                    help="shim runs, one per XLA:CPU thread-pool size (PJRT_NPROC); "
                         "0 = JAX's default (one thread per core)")
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.worker:
        return worker(args.worker, args.epochs)
    if not args.mxnet_python:
        raise SystemExit("give --mxnet-python DIR/bin/python (a venv from tools/mxnet-venv.sh)")
    shims = [f"shim, {t} XLA thread{'s' if t > 1 else ''}" if t else "shim"
             for t in args.xla_threads]
    times = {k: {n: [] for n in NETS} for k in ["mxnet"] + shims}
    for r in range(args.rounds):
        runs = [("mxnet", args.mxnet_python, 0)] + [
            (k, sys.executable, t) for k, t in zip(shims, args.xla_threads)]
        for kind, python, threads in (runs if r % 2 == 0 else runs[::-1]):
            res = run_worker(python, "mxnet" if kind == "mxnet" else "shim", args.epochs,
                             threads)
            for n in NETS:
                times[kind][n].append(res[n])
    print(f"load average at the end: {os.getloadavg()[0]:.2f}; {os.cpu_count()} cores")
    print(f"{'network':22s} {'run':22s} {'MXNet ms/batch':>15s} {'shim ms/batch':>14s} "
          f"{'ratio':>6s}  (min..max)")
    rows = {}
    for n in NETS:
        m = statistics.median(times["mxnet"][n])
        for k in shims:
            s = statistics.median(times[k][n])
            rs = [b / a for a, b in zip(times["mxnet"][n], times[k][n])]
            rows[n if k == "shim" else f"{n} / {k}"] = {
                "mxnet_ms": m * 1e3, "shim_ms": s * 1e3, "ratio": s / m,
                "ratio_min": min(rs), "ratio_max": max(rs)}
            print(f"{n:22s} {k:22s} {m * 1e3:15.3f} {s * 1e3:14.3f} {s / m:6.2f}  "
                  f"({min(rs):.2f}..{max(rs):.2f})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "raw": times}, f, indent=1)


if __name__ == "__main__":
    main()
