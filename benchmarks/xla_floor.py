"""The XLA:CPU floor: real MXNet 1.9.1's training steps vs the same steps in plain JAX, one run.

    python benchmarks/xla_floor.py --mxnet-python DIR/bin/python [--rounds 3] [--json FILE]

``DIR`` is a virtual environment from ``tools/mxnet-venv.sh DIR`` (or set ``MXNET_PYTHON``);
run the command with the project's JAX environment. The file is its own worker
(``--worker mxnet|jax``), each side in its own process, alternating over ``--rounds``
(MXNet first in even rounds, JAX first in odd ones), so both see similar machine load.

What it measures (no optjax code on the JAX side but the one LeNet variant named below):

1. Training steps. MXNet: exactly the workers of ``benchmarks/gluon_vs_mxnet.py`` (the
   hybridized step: ``autograd.record`` forward + ``SoftmaxCrossEntropyLoss``, ``backward``,
   ``trainer.step(64)``, waiting for everything; median of ``--steps`` after 5 warm-up steps;
   MLP 784-256-256-10 and LeNet-5 with BatchNorm, batch 64) and of
   ``benchmarks/module_vs_mxnet.py`` (``Module.fit`` seconds per batch over ``--epochs``
   epochs after one warm-up epoch; softmax 20-10, MLP 784-128-64-10, LeNet conv20/conv50/
   fc500 with tanh and max-pooling, batch 128; SGD momentum 0.9, wd 1e-4). JAX, the *floor*:
   the same network written directly in ``jax.numpy``/``lax`` (MXNet's NCHW data and OIHW
   weights; BatchNorm with batch statistics, its moving averages as donated state), forward
   + loss + gradient + MXNet's SGD momentum update (``mom = momentum * mom - lr * (rescale *
   grad + wd * w); w += mom``; wd on every parameter for gluon's ``Trainer``, on
   ``*_weight`` only for Module, as MXNet) as ONE ``jax.jit`` with parameters and states
   donated. Same shapes, batch sizes, float32, Xavier-like random weights (the floor is
   about time, not numbers). The two LeNets are timed in five formulations and the fastest
   is the floor: convolutions as given (NCHW/OIHW) or channel-last inside the step (data
   and weights transposed after entry, flattened back as NCHW), times 2x2 max-pooling as
   reshape + ``jnp.max`` (gradient shared among tied maxima) or reshape + first-argmax
   select (the gradient to the first maximum, as MXNet's and the shim's); all four are
   reported, with a fifth: NCHW, first-maximum pooling and the convolutions' weight
   gradients as matrix products where the shim computes them so
   (``optjax/compat/mxnet/ops/conv_grad.py``, the one piece of optjax on the JAX side:
   a formulation of the same sum that XLA:CPU runs faster). The gluon rows' floor step is blocked each step (median of ``--steps`` after
   warm-up), as the gluon benchmark waits each step; the Module rows' is pipelined (``fit``
   does not wait per batch): ``epochs * batches`` steps dispatched back to back over
   distinct device-resident batches, one block at the end, time / steps (median of 3 such
   runs). The floor step returns the loss (gluon) or the softmax output (Module) but
   computes no metric and reads no data iterator: it is what any design of the shim could
   at best compile.
2. Per kernel: LeNet's convolutions (5x5, no bias; 1->20 on 28x28 and 20->50 on 12x12 at
   batch 128, gluon LeNet's 1->6 and 6->16 at batch 64): ``mx.nd.Convolution`` forward and
   forward + backward (under ``autograd.record`` with ``attach_grad`` on data and weight, head
   gradient of ones, then ``waitall``) vs ``lax.conv_general_dilated`` jitted, forward and
   forward + both gradients (``jax.vjp`` with a ones cotangent, one jit), NCHW/OIHW as MXNet's
   and (last column) channel-last. Min and median of ``--reps`` calls after warm-up.

How to read it: ``floor / MXNet`` is the plain-JAX step's time over MXNet's. Issues 12 and 13
ask the shim for <= 0.7x MXNet (gluon hybridized step; ``Module.fit`` per batch). A floor ratio
above 0.7 means no shim design on XLA:CPU can reach the goal on this machine (the shim adds
Python and dispatch on top of the floor); a floor ratio well below 0.7 means the gap is the
shim's. The kernel table says where a network's floor goes (XLA's convolution vs MKL-DNN's).
The header records the processor, ``os.cpu_count()`` and the load average at start and end:
MXNet's multi-threaded kernels slow down more than XLA under contention, so judge on an idle
machine.
"""

import argparse
import contextlib
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

GLUON_NETS = ("mlp", "lenet_bn")
GLUON_BATCH = 64  # benchmarks/gluon_vs_mxnet.py's BATCH
MODULE_BATCH = 128
# benchmarks/module_vs_mxnet.py's NETS: input shape and batches per epoch
MODULE_NETS = {"softmax 20-10": ((20,), 40), "mlp 784-128-64-10": ((784,), 40),
               "lenet": ((1, 28, 28), 10)}
# name, batch, in channels, filters, input side (5x5 kernels)
CONVS = (("conv1 1->20 28x28 b128", 128, 1, 20, 28), ("conv2 20->50 12x12 b128", 128, 20, 50, 12),
         ("gluon conv1 1->6 28x28 b64", 64, 1, 6, 28), ("gluon conv2 6->16 12x12 b64", 64, 6, 16, 12))
# the floor's convolution layouts: MXNet's NCHW/OIHW as given to XLA, and channel-last inside the
# step (data transposed after entry, weights kept OIHW and transposed inside, flattened as NCHW)
LAYOUTS = ("NCHW", "NHWC")
# the convolutional networks' floor: the fastest of these (layout, max-pooling's gradient)
VARIANTS = ("NCHW max", "NCHW first", "NHWC max", "NHWC first", "NCHW first gemm-dW")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LR_GLUON, LR_MODULE, MOMENTUM, WD = 0.05, 0.01, 0.9, 1e-4


def min_median(fn, reps, warmup=2):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return [min(ts), float(np.median(ts))]


# ----------------------------------------------------------------------------- MXNet worker

def mxnet_convs(mx, reps):
    out = {}
    for name, n, c, f, hw in CONVS:
        rng = np.random.RandomState(0)
        x = mx.nd.array(rng.standard_normal((n, c, hw, hw)).astype(np.float32))
        w = mx.nd.array((rng.standard_normal((f, c, 5, 5)) * 0.1).astype(np.float32))
        x.attach_grad()
        w.attach_grad()

        def fwd():
            mx.nd.Convolution(x, w, kernel=(5, 5), num_filter=f, no_bias=True).wait_to_read()

        def fwd_bwd():
            with mx.autograd.record():
                y = mx.nd.Convolution(x, w, kernel=(5, 5), num_filter=f, no_bias=True)
            y.backward()
            mx.nd.waitall()

        out[name] = {"fwd": min_median(fwd, reps), "fwd_bwd": min_median(fwd_bwd, reps)}
    return out


def mxnet_worker(steps, epochs, reps):
    import mxnet as mx
    import gluon_vs_mxnet
    import module_vs_mxnet
    out = {"step": {}}
    for name in GLUON_NETS:
        out["step"][f"gluon {name}"] = gluon_vs_mxnet.time_config(mx, name, True, steps)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        module_vs_mxnet.worker("mxnet", epochs)
    for name, sec in json.loads(buf.getvalue().strip().splitlines()[-1]).items():
        out["step"][f"module {name}"] = sec
    out["conv"] = mxnet_convs(mx, reps)
    return out


# ----------------------------------------------------------------------------- JAX worker

def jax_worker(steps, epochs, reps):
    import jax
    import jax.numpy as jnp
    from jax import lax

    # ``lay``: a layout (``"NCHW"``/``"NHWC"``), or a floor variant (layout and pooling)
    def conv(x, w, b, lay):
        """``x`` in ``lay``; ``w`` is MXNet's OIHW (laid out as HWIO inside the step for NHWC).
        ``... gemm-dW``: the weight gradient as matrix products where the shim's rule picks
        them (``optjax/compat/mxnet/ops/conv_grad.py``), the forward XLA's as in NCHW."""
        if lay.endswith("gemm-dW"):
            sys.path.insert(0, ROOT)
            from optjax.compat.mxnet.ops.conv_grad import conv2d, weight_grad_plan
            pad = ((0, 0), (0, 0))
            plan = weight_grad_plan(x.shape, w.shape, stride=(1, 1), dilate=(1, 1), padding=pad,
                                    num_group=1, layout="NCHW", dtype=x.dtype)
            if plan is not None:
                dn = lax.conv_dimension_numbers(x.shape, w.shape, ("NCHW", "OIHW", "NCHW"))
                y = conv2d(x, w, pad, (1, 1), dn, "NCHW", plan)
                return y if b is None else y + b[:, None, None]
        if lay.startswith("NHWC"):
            y = lax.conv_general_dilated(x, jnp.transpose(w, (2, 3, 1, 0)), (1, 1),
                                         [(0, 0), (0, 0)],
                                         dimension_numbers=("NHWC", "HWIO", "NHWC"))
            return y if b is None else y + b
        y = lax.conv_general_dilated(x, w, (1, 1), [(0, 0), (0, 0)],
                                     dimension_numbers=("NCHW", "OIHW", "NCHW"))
        return y if b is None else y + b[:, None, None]

    def to_layout(x, lay):  # the data arrive as NCHW, as MXNet's
        return jnp.transpose(x, (0, 2, 3, 1)) if lay.startswith("NHWC") else x

    def flatten(x, lay):  # MXNet's Flatten (of NCHW)
        x = jnp.transpose(x, (0, 3, 1, 2)) if lay.startswith("NHWC") else x
        return x.reshape(x.shape[0], -1)

    def pool(x, lay):
        """2x2 max-pooling, stride 2 (windows tile the input): a reshape and a reduction.
        ``max``: ``jnp.max``, whose gradient is shared among tied maxima; ``first``: the
        gradient to the first maximum, as MXNet's (the shim's formulation)."""
        n = x.shape[0]
        if lay.startswith("NHWC"):
            _, h, w, c = x.shape
            x = jnp.transpose(x.reshape(n, h // 2, 2, w // 2, 2, c), (0, 1, 3, 5, 2, 4))
        else:
            _, c, h, w = x.shape
            x = jnp.transpose(x.reshape(n, c, h // 2, 2, w // 2, 2), (0, 1, 2, 4, 3, 5))
        x = x.reshape(x.shape[:4] + (4,))
        if lay.endswith("max"):
            return jnp.max(x, axis=-1)
        first = jax.nn.one_hot(jnp.argmax(x, axis=-1), 4, dtype=jnp.bool_)
        return jnp.sum(jnp.where(first, x, jnp.zeros((), x.dtype)), axis=-1)

    def dense(p, name, x):
        return x @ p[name + "_weight"].T + p[name + "_bias"]

    def batchnorm(p, aux, name, x, new_aux, lay):
        ch = x.ndim - 1 if lay.startswith("NHWC") else 1
        axes = tuple(i for i in range(x.ndim) if i != ch)
        shape = [1] * x.ndim
        shape[ch] = -1
        mean, var = jnp.mean(x, axes), jnp.var(x, axes)
        new_aux[name + "_running_mean"] = 0.9 * aux[name + "_running_mean"] + 0.1 * mean
        new_aux[name + "_running_var"] = 0.9 * aux[name + "_running_var"] + 0.1 * var
        xhat = (x - mean.reshape(shape)) * lax.rsqrt(var.reshape(shape) + 1e-5)
        return xhat * p[name + "_gamma"].reshape(shape) + p[name + "_beta"].reshape(shape)

    def ce(logits, y):  # per-sample softmax cross-entropy (gluon's loss, SoftmaxOutput's grad)
        return -jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], 1)[:, 0]

    def init(shapes, seed=0):
        rng = np.random.RandomState(seed)
        p = {}
        for k, s in shapes.items():
            if k.endswith("_weight"):
                fan_out, fan_in = s[0] * int(np.prod(s[2:])), int(np.prod(s[1:]))
                v = rng.standard_normal(s) * np.sqrt(2.0 / (fan_in + fan_out))
            else:
                v = np.ones(s) if k.endswith(("_gamma", "_running_var")) else np.zeros(s)
            p[k] = jnp.asarray(v, jnp.float32)
        return p

    def sgd(params, mom, grads, lr, rescale, wd):
        new_p, new_m = {}, {}
        for k in params:
            m = MOMENTUM * mom[k] - lr * (rescale * grads[k] + wd[k] * params[k])
            new_p[k], new_m[k] = params[k] + m, m
        return new_p, new_m

    # ---- gluon networks (batch 64, hybridized step, blocked per step)
    def gluon_mlp(p, aux, x, lay):
        h = jax.nn.relu(dense(p, "d0", x))
        h = jax.nn.relu(dense(p, "d1", h))
        return dense(p, "d2", h), {}

    def gluon_lenet(p, aux, x, lay):
        new = {}
        h = to_layout(x, lay)
        for i in (0, 1):
            h = batchnorm(p, aux, f"bn{i}", conv(h, p[f"c{i}_weight"], p[f"c{i}_bias"], lay),
                          new, lay)
            h = pool(jax.nn.relu(h), lay)
        h = jax.nn.relu(batchnorm(p, aux, "bn2", dense(p, "d0", flatten(h, lay)), new, lay))
        h = jax.nn.relu(dense(p, "d1", h))
        return dense(p, "d2", h), new

    def dense_shapes(name, units, inp):
        return {name + "_weight": (units, inp), name + "_bias": (units,)}

    mlp_p = {**dense_shapes("d0", 256, 784), **dense_shapes("d1", 256, 256),
             **dense_shapes("d2", 10, 256)}
    lenet_p = {"c0_weight": (6, 1, 5, 5), "c0_bias": (6,), "c1_weight": (16, 6, 5, 5),
               "c1_bias": (16,), **dense_shapes("d0", 120, 256), **dense_shapes("d1", 84, 120),
               **dense_shapes("d2", 10, 84)}
    lenet_aux = {}
    for name, c in (("bn0", 6), ("bn1", 16), ("bn2", 120)):
        lenet_p.update({name + "_gamma": (c,), name + "_beta": (c,)})
        lenet_aux.update({name + "_running_mean": (c,), name + "_running_var": (c,)})
    gluon = {"mlp": (gluon_mlp, mlp_p, {}, (784,)),
             "lenet_bn": (gluon_lenet, lenet_p, lenet_aux, (1, 28, 28))}

    def gluon_floor(name, lay):
        net, pshapes, ashapes, shape = gluon[name]

        def loss_fn(p, aux, x, y):
            logits, new_aux = net(p, aux, x, lay)
            losses = ce(logits, y)
            return jnp.sum(losses), (losses, new_aux)  # backward: head gradient of ones

        wd = {k: WD for k in pshapes}  # gluon's Trainer: wd_mult 1 on every parameter

        def step(p, mom, aux, x, y):
            g, (losses, new_aux) = jax.grad(loss_fn, has_aux=True)(p, aux, x, y)
            p, mom = sgd(p, mom, g, LR_GLUON, 1.0 / GLUON_BATCH, wd)
            return p, mom, {**aux, **new_aux}, losses

        step = jax.jit(step, donate_argnums=(0, 1, 2))
        rng = np.random.RandomState(0)
        xs = [jnp.asarray(rng.standard_normal((GLUON_BATCH,) + shape), jnp.float32)
              for _ in range(4)]
        ys = [jnp.asarray(rng.randint(0, 10, GLUON_BATCH), jnp.int32) for _ in range(4)]
        state = [init(pshapes), {k: jnp.zeros(s, jnp.float32) for k, s in pshapes.items()},
                 init(ashapes)]
        times = []
        for i in range(5 + steps):
            t = time.perf_counter()
            *state, losses = step(*state, xs[i % 4], ys[i % 4])
            jax.block_until_ready((state, losses))
            times.append(time.perf_counter() - t)
        return float(np.median(times[5:]))

    # ---- Module networks (batch 128, fit: pipelined)
    def module_net(name):
        if name == "softmax 20-10":
            return (lambda p, x, lay: dense(p, "fc", x)), dense_shapes("fc", 10, 20)
        if name == "mlp 784-128-64-10":
            def mlp(p, x, lay):
                h = jax.nn.relu(dense(p, "fc1", x))
                return dense(p, "fc3", jax.nn.relu(dense(p, "fc2", h)))
            return mlp, {**dense_shapes("fc1", 128, 784), **dense_shapes("fc2", 64, 128),
                         **dense_shapes("fc3", 10, 64)}

        def lenet(p, x, lay):
            h = pool(jnp.tanh(conv(to_layout(x, lay), p["c1_weight"], p["c1_bias"], lay)), lay)
            h = pool(jnp.tanh(conv(h, p["c2_weight"], p["c2_bias"], lay)), lay)
            return dense(p, "f2", jnp.tanh(dense(p, "f1", flatten(h, lay))))
        return lenet, {"c1_weight": (20, 1, 5, 5), "c1_bias": (20,), "c2_weight": (50, 20, 5, 5),
                       "c2_bias": (50,), **dense_shapes("f1", 500, 800),
                       **dense_shapes("f2", 10, 500)}

    def module_floor(name, lay):
        net, pshapes = module_net(name)
        shape, nbatch = MODULE_NETS[name]
        wd = {k: WD if k.endswith("_weight") else 0.0 for k in pshapes}  # MXNet's Module rule

        def loss_fn(p, x, y):  # SoftmaxOutput's gradient: softmax - onehot per sample
            logits = net(p, x, lay)
            return jnp.sum(ce(logits, y)), jax.nn.softmax(logits)

        def step(p, mom, x, y):
            g, out = jax.grad(loss_fn, has_aux=True)(p, x, y)
            p, mom = sgd(p, mom, g, LR_MODULE, 1.0 / MODULE_BATCH, wd)
            return p, mom, out

        step = jax.jit(step, donate_argnums=(0, 1))
        rng = np.random.RandomState(0)
        xs = [jnp.asarray(rng.standard_normal((MODULE_BATCH,) + shape), jnp.float32)
              for _ in range(nbatch)]
        ys = [jnp.asarray(rng.randint(0, 10, MODULE_BATCH), jnp.int32) for _ in range(nbatch)]
        p, mom = init(pshapes), {k: jnp.zeros(s, jnp.float32) for k, s in pshapes.items()}
        for i in range(nbatch):  # warm-up epoch (compiles)
            p, mom, out = step(p, mom, xs[i], ys[i])
        jax.block_until_ready((p, mom, out))
        runs = []
        for _ in range(3):
            t = time.perf_counter()
            for i in range(epochs * nbatch):
                p, mom, out = step(p, mom, xs[i % nbatch], ys[i % nbatch])
            jax.block_until_ready((p, mom, out))
            runs.append((time.perf_counter() - t) / (epochs * nbatch))
        return float(np.median(runs))

    def convs():
        out = {}
        for name, n, c, f, hw in CONVS:
            rng = np.random.RandomState(0)
            x = jnp.asarray(rng.standard_normal((n, c, hw, hw)), jnp.float32)
            w = jnp.asarray(rng.standard_normal((f, c, 5, 5)) * 0.1, jnp.float32)
            out[name] = {}
            for lay in LAYOUTS:
                xl = to_layout(x, lay)

                def fwd_bwd(x, w, lay=lay):
                    y, pull = jax.vjp(lambda x, w: conv(x, w, None, lay), x, w)
                    return (y,) + pull(jnp.ones_like(y))

                fwd, fb = jax.jit(conv, static_argnums=3), jax.jit(fwd_bwd)
                sfx = "" if lay == "NCHW" else " " + lay
                out[name]["fwd" + sfx] = min_median(
                    lambda: fwd(xl, w, None, lay).block_until_ready(), reps)
                out[name]["fwd_bwd" + sfx] = min_median(
                    lambda: jax.block_until_ready(fb(xl, w)), reps)
        return out

    res = {"step": {}, "variants": {}}
    for kind, names, floor in (("gluon", GLUON_NETS, gluon_floor),
                               ("module", MODULE_NETS, module_floor)):
        for name in names:
            key = f"{kind} {name}"
            lays = VARIANTS if "lenet" in name else ("-",)
            res["variants"][key] = {lay: floor(name, lay) for lay in lays}
            res["step"][key] = min(res["variants"][key].values())
    res["conv"] = convs()
    return res


# ----------------------------------------------------------------------------- driver

def run_worker(python, kind, args):
    env = dict(os.environ, MXNET_STORAGE_FALLBACK_LOG_VERBOSE="0")
    cmd = [python, os.path.abspath(__file__), "--worker", kind, "--steps", str(args.steps),
           "--epochs", str(args.epochs), "--reps", str(args.reps)]
    # from /: nothing in the current directory shadows mxnet or jax
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd="/")
    if res.returncode != 0:
        raise SystemExit(f"{kind} worker failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            return next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        return "unknown model"


def fmt(xs, spec=".2f"):
    return ", ".join(format(x, spec) for x in xs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", choices=("mxnet", "jax"))
    ap.add_argument("--mxnet-python", default=os.environ.get("MXNET_PYTHON"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=30, help="gluon steps timed (median)")
    ap.add_argument("--epochs", type=int, default=3, help="Module epochs timed")
    ap.add_argument("--reps", type=int, default=7, help="calls per convolution kernel")
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.worker:
        fn = mxnet_worker if args.worker == "mxnet" else jax_worker
        print(json.dumps(fn(args.steps, args.epochs, args.reps)))
        return
    if not args.mxnet_python:
        raise SystemExit("give --mxnet-python DIR/bin/python (a venv from tools/mxnet-venv.sh)")
    machine = {"processor": platform.processor() or platform.machine(), "model": cpu_model(),
               "cpu_count": os.cpu_count(), "loadavg_start": list(os.getloadavg())}
    rounds = []
    for r in range(args.rounds):
        order = ("mxnet", "jax") if r % 2 == 0 else ("jax", "mxnet")
        rounds.append({k: run_worker(args.mxnet_python if k == "mxnet" else sys.executable, k,
                                     args) for k in order})
    machine["loadavg_end"] = list(os.getloadavg())
    print(f"machine: {machine['processor']} ({machine['model']}), os.cpu_count() = {machine['cpu_count']}; load "
          f"average (1/5/15 min) at start {fmt(machine['loadavg_start'])}, at end "
          f"{fmt(machine['loadavg_end'])}; {args.rounds} rounds alternating MXNet and JAX; "
          "times: median over rounds; ratio: median of the rounds' ratios\n")
    print("| step | MXNet 1.9.1 ms | plain-JAX floor ms | floor / MXNet | ratios per round "
          "| floor variants | goal 0.7 reachable? |")
    print("|---|---|---|---|---|---|---|")
    rows = {"machine": machine, "args": vars(args), "step": {}, "conv": {}}
    for key in rounds[0]["mxnet"]["step"]:
        m = [r["mxnet"]["step"][key] * 1e3 for r in rounds]
        fl = [r["jax"]["step"][key] * 1e3 for r in rounds]
        variants = [r["jax"]["variants"][key] for r in rounds]
        best = [min(v, key=v.get) for v in variants]
        ratios = [b / a for a, b in zip(m, fl)]
        ratio = statistics.median(ratios)
        what = "hybridized step, blocked" if key.startswith("gluon") else "fit per batch, pipelined"
        verdict = "**no** (floor > 0.7)" if ratio > 0.7 else "only if the shim adds < " \
            f"{(0.7 - ratio) * statistics.median(m):.3f} ms to the floor"
        lays = "; ".join(f"{lay} {statistics.median(v[lay] for v in variants) * 1e3:.3f} ms"
                         for lay in variants[0]) if len(variants[0]) > 1 else "-"
        print(f"| {key} ({what}) | {statistics.median(m):.3f} | {statistics.median(fl):.3f} | "
              f"{ratio:.2f} | {fmt(ratios)} | {lays} | {verdict} |")
        rows["step"][key] = {"mxnet_ms": m, "floor_ms": fl, "ratios": ratios,
                             "floor_variants_s": variants, "best_variant": best}
    print("\n| convolution (5x5, no bias) | MXNet fwd ms min / med | XLA fwd ms min / med "
          "| XLA / MXNet fwd (min) | MXNet fwd+bwd ms min / med | XLA fwd+grads ms min / med "
          "| XLA / MXNet fwd+bwd (min) | XLA NHWC fwd, fwd+grads ms min |")
    print("|---|---|---|---|---|---|---|---|")
    for key in rounds[0]["mxnet"]["conv"]:
        cells, row = [], {}
        for part in ("fwd", "fwd_bwd"):
            m = [r["mxnet"]["conv"][key][part] for r in rounds]  # [min, median] per round
            x = [r["jax"]["conv"][key][part] for r in rounds]
            mmin, mmed = min(v[0] for v in m) * 1e3, statistics.median(v[1] for v in m) * 1e3
            xmin, xmed = min(v[0] for v in x) * 1e3, statistics.median(v[1] for v in x) * 1e3
            cells += [f"{mmin:.2f} / {mmed:.2f}", f"{xmin:.2f} / {xmed:.2f}", f"{xmin / mmin:.2f}"]
            row[part] = {"mxnet_min_med_s": m, "xla_min_med_s": x}
        nhwc = [min(r["jax"]["conv"][key][part + " NHWC"][0] for r in rounds) * 1e3
                for part in ("fwd", "fwd_bwd")]
        row["xla_nhwc_min_s"] = [v / 1e3 for v in nhwc]
        print(f"| {key} | " + " | ".join(cells) + f" | {nhwc[0]:.2f}, {nhwc[1]:.2f} |")
        rows["conv"][key] = row
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
