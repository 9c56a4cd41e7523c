"""Scale and memory benchmark (issue 16): optimizer state per parameter and per
device, 8-bit against float32 state step time, and convergence curves.

One command (from the repository root)::

    PYTHONPATH=. python benchmarks/scale.py [--quick] [--json benchmarks/scale_results.json]
        [--plot benchmarks/scale_convergence.png] [--markdown]

It runs on 8 simulated CPU devices (``--xla_force_host_platform_device_count=8``,
set here before jax starts) and measures:

* **memory**: for each optimizer and mode (float32 state; 8-bit state,
  ``quantized_state``; state partitioned over the 8 devices, ``partition_state``;
  both) on the "mix" tree with replicated params, the state bytes per device
  from the compiled memory analysis of ``jax.jit(tx.init)`` (its output size,
  less XLA's 8-byte table entry per output buffer), checked against the bytes
  the output shardings give; per parameter = per device / parameters; and the
  peak of a donated data-parallel step per device (arguments + temporaries of
  its compiled memory analysis; params, gradients and state are its arguments),
  also compiled with ``XLA_FLAGS=--xla_cpu_enable_concurrency_optimized_scheduler=false``
  (in a second process): XLA CPU's default scheduler runs the leaves' fusions
  concurrently and keeps every leaf's temporaries live at once. Nothing is
  allocated: the programs are compiled from shapes only.
* **step time**: the donated step ``update_and_apply`` on one device with
  float32 against 8-bit state (``min_ndim=1``, so the 1-D leaves of the
  many-leaves tree are quantized too), on run.py's three trees, in interleaved
  blocks in the same process; the ratio is the median of per-block paired
  ratios (min..max over the blocks), of wall and of CPU time. When bitsandbytes
  and torch are importable, the peer's CPU ``Adam8bit`` against torch's fused
  ``Adam`` on the single-leaf tree's parameter count, the same way.
* **convergence**: Adam with float32, 8-bit (stochastic rounding, the default)
  and 8-bit rounded to nearest state on the demo regression, the demo classifier
  and an MLP on scikit-learn's digits (the problems of the tests), final loss of
  each and the curves; and bfloat16 params (plain, stochastic rounding, Kahan)
  against float32 params on the regression with SGD at lr 1e-3.

Timings on a shared 2-core machine are noisy: only compare numbers from the same run.
"""

from __future__ import annotations

import os

import sys  # noqa: E402

SEQUENTIAL_FLAG = "--xla_cpu_enable_concurrency_optimized_scheduler=false"
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"
                           + (" " + SEQUENTIAL_FLAG if "--xla-sequential" in sys.argv else ""))
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P  # noqa: E402

import optjax  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "transforms"))
import convergence_problems as cp  # noqa: E402
from run import Runner, machine_info, make_fused_step, make_trees, materialize, n_params  # noqa: E402

MEMORY_OPTIMIZERS = {
    "adam": lambda: optjax.adam(1e-3),
    "adamw": lambda: optjax.adamw(1e-3, weight_decay=1e-4),
    "sgd momentum": lambda: optjax.sgd(1e-3, momentum=0.9),
    "lion": lambda: optjax.lion(1e-4),
    "rmsprop": lambda: optjax.rmsprop(1e-3),
    "adafactor": lambda: optjax.adafactor(1e-3),
    "muon": lambda: optjax.muon(1e-3),
}
TIME_OPTIMIZERS = ("adam", "sgd momentum", "lion")


def modes(mesh):
    return {
        "float32": lambda tx: tx,
        "8-bit": lambda tx: optjax.quantized_state(tx),
        "partitioned x8": lambda tx: optjax.partition_state(tx, mesh, "data"),
        "8-bit + partitioned x8": lambda tx: optjax.partition_state(optjax.quantized_state(tx), mesh, "data"),
    }


# -------------------------------------------------------------------------- memory


def _abstract(shapes: dict, sharding) -> dict:
    return {k: jax.ShapeDtypeStruct(s, jnp.float32, sharding=sharding) for k, s in shapes.items()}


def _bytes_from_shardings(avals, shardings) -> int:
    total = 0
    for a, s in zip(jax.tree.leaves(avals), jax.tree.leaves(shardings)):
        shard = s.shard_shape(a.shape)
        total += int(np.prod(shard)) * jnp.dtype(a.dtype).itemsize
    return total


def memory_rows(shapes: dict, mesh) -> list:
    rep = NamedSharding(mesh, P())
    batch_like = _abstract(shapes, rep)
    n = n_params(shapes)
    rows = []
    for opt, make in MEMORY_OPTIMIZERS.items():
        for mode, wrap in modes(mesh).items():
            tx = wrap(make())
            init = jax.jit(tx.init).lower(batch_like).compile()
            ma = init.memory_analysis()
            avals = jax.eval_shape(tx.init, batch_like)
            leaves = len(jax.tree.leaves(avals))
            compiled = ma.output_size_in_bytes - (8 * leaves if leaves > 1 else 0)
            from_shardings = _bytes_from_shardings(avals, init.output_shardings)

            def step(p, s, g, tx=tx):
                return optjax.update_and_apply(tx, g, s, p)

            state_abs = jax.tree.map(lambda a, s: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=s),
                                     avals, init.output_shardings)
            st = jax.jit(step, donate_argnums=(0, 1), out_shardings=(rep, init.output_shardings)).lower(
                batch_like, state_abs, batch_like).compile().memory_analysis()
            rows.append(dict(optimizer=opt, mode=mode, n_params=n, state_bytes_per_device=compiled,
                             state_bytes_from_shardings=from_shardings,
                             state_bytes_per_param=compiled / n,
                             step_peak_bytes_per_device=st.argument_size_in_bytes + st.temp_size_in_bytes,
                             step_temp_bytes_per_device=st.temp_size_in_bytes))
            print(f"  memory {opt:12s} {mode:24s} {compiled / n:6.3f} B/param  "
                  f"({compiled / 2**20:8.1f} MiB/device, shardings say {from_shardings / 2**20:8.1f})", flush=True)
    return rows


# ---------------------------------------------------------------------------- time


def _timed(runner, k: int) -> tuple[float, float]:
    """(wall, CPU) seconds per step over ``k`` steps (CPU time sums XLA's threads; it
    is steadier than wall time on a machine shared with other jobs)."""
    c0 = time.process_time()
    wall = runner.run(k)
    return wall, (time.process_time() - c0) / k


def bnb_row(n: int, reps: int):
    """bitsandbytes' Adam8bit against torch's fused Adam on CPU, same parameter count
    (only when both are importable; ``pip install bitsandbytes``)."""
    try:
        import bitsandbytes as bnb
        import torch
    except ImportError:
        return None
    side = int(round(n ** 0.5))
    out = {}
    for name, make in (("torch Adam fused", lambda ps: torch.optim.Adam(ps, lr=1e-3, fused=True)),
                       ("bitsandbytes Adam8bit", lambda ps: bnb.optim.Adam8bit(ps, lr=1e-3))):
        p = torch.nn.Parameter(torch.randn(side, side))
        p.grad = torch.randn(side, side) * 1e-2
        opt = make([p])
        opt.step()
        ts = []
        for _ in range(reps):
            c0 = time.process_time()
            opt.step()
            ts.append(time.process_time() - c0)
        out[name] = statistics.median(ts)
    t_ms, b_ms = 1e3 * out["torch Adam fused"], 1e3 * out["bitsandbytes Adam8bit"]
    return {"n_params": side * side, "torch_ms": t_ms, "bnb_ms": b_ms, "ratio": b_ms / t_ms,
            "bitsandbytes": bnb.__version__}


def time_rows(trees: dict, reps: int, target_s: float) -> list:
    rows = []
    for tree_name, shapes in trees.items():
        params0 = materialize(shapes, 0)
        grads = materialize(shapes, 1, 1e-2)
        for opt in TIME_OPTIMIZERS:
            f32 = Runner(MEMORY_OPTIMIZERS[opt](), params0, grads, make_fused_step)
            # min_ndim=1: the 1-D leaves of the many-leaves tree are quantized too
            q8 = Runner(optjax.quantized_state(MEMORY_OPTIMIZERS[opt](), min_ndim=1), params0, grads, make_fused_step)
            k = max(1, int(target_s / max(f32.run(1), q8.run(1), 1e-5)))
            a, b, ratios, cpu_ratios = [], [], [], []
            for r in range(reps):
                if r % 2 == 0:
                    ta = _timed(f32, k); tb = _timed(q8, k)
                else:
                    tb = _timed(q8, k); ta = _timed(f32, k)
                a.append(ta); b.append(tb)
                ratios.append(tb[0] / ta[0]); cpu_ratios.append(tb[1] / ta[1])
            rows.append(dict(tree=tree_name, optimizer=opt,
                             float32_ms=1e3 * statistics.median(t[0] for t in a),
                             q8_ms=1e3 * statistics.median(t[0] for t in b),
                             ratio=statistics.median(ratios), ratio_min=min(ratios), ratio_max=max(ratios),
                             cpu_ratio=statistics.median(cpu_ratios), cpu_ratio_min=min(cpu_ratios),
                             cpu_ratio_max=max(cpu_ratios),
                             q8_first_s=q8.first_call, float32_first_s=f32.first_call,
                             q8_temp_bytes=q8.temp_bytes, float32_temp_bytes=f32.temp_bytes))
            r = rows[-1]
            print(f"  time {tree_name:28s} {opt:12s} 8-bit/float32 wall {r['ratio']:.2f} "
                  f"({r['ratio_min']:.2f}..{r['ratio_max']:.2f}), CPU {r['cpu_ratio']:.2f} "
                  f"({r['cpu_ratio_min']:.2f}..{r['cpu_ratio_max']:.2f})", flush=True)
            del f32, q8
    return rows


# --------------------------------------------------------------------- convergence


def _wc(lr, steps):
    return optjax.warmup_cosine_decay_schedule(0.0, lr, max(1, steps // 10), steps)


CONVERGENCE = [  # (problem, steps, optimizer name, factory(schedule steps))
    ("regression", 600, "adam", lambda s: optjax.adam(_wc(0.05, s))),
    ("classifier", 600, "adam", lambda s: optjax.adam(_wc(0.05, s))),
    ("digits", 500, "adam", lambda s: optjax.adam(_wc(3e-3, s))),
    ("digits", 500, "lion", lambda s: optjax.lion(_wc(1e-3, s), weight_decay=0.0)),
    ("classifier", 600, "lion", lambda s: optjax.lion(_wc(0.05 / 3, s), weight_decay=0.0)),
]


def convergence() -> dict:
    out = {"runs": [], "bf16": {}}
    for problem, steps, opt, make in CONVERGENCE:
        prob = getattr(cp, problem)(steps)
        run = {"problem": problem, "optimizer": opt, "steps": steps}
        for label, tx in (("float32 state", make(steps)),
                          ("8-bit state", optjax.quantized_state(make(steps), min_size=0, min_ndim=0)),
                          ("8-bit, rounded to nearest", optjax.quantized_state(make(steps), min_size=0, min_ndim=0,
                                                                               stochastic=False))):
            curve, final, _ = cp.train(tx, prob)
            run[label] = {"final_loss": final, "last100_mean": float(np.mean(curve[-100:])), "curve": curve.tolist()}
        base = run["float32 state"]["final_loss"]
        print(f"  convergence {problem:10s} {opt:5s} " + "  ".join(
            f"{k}: {v['final_loss']:.5g} ({(v['final_loss'] - base) / base:+.2%})"
            for k, v in run.items() if isinstance(v, dict)), flush=True)
        out["runs"].append(run)
    # bfloat16 params, full-batch SGD on the regression (the test's setting)
    x, y = (jnp.asarray(a) for a in cp.regression(1).data)

    def loss(p):
        return jnp.mean((x @ p["w"].astype(jnp.float32) + p["b"].astype(jnp.float32) - y) ** 2) / 2

    for label, dtype, tx in (("float32 params", jnp.float32, optjax.sgd(1e-3)),
                             ("bfloat16, rounded to nearest", jnp.bfloat16, optjax.sgd(1e-3)),
                             ("bfloat16, stochastic rounding", jnp.bfloat16,
                              optjax.stochastic_rounding(optjax.sgd(1e-3))),
                             ("bfloat16, Kahan", jnp.bfloat16, optjax.kahan_summation(optjax.sgd(1e-3)))):
        def body(c, _, tx=tx):
            p, s = c
            p, s = optjax.update_and_apply(tx, jax.grad(loss)(p), s, p)
            return (p, s), loss(p)

        p = {"w": jnp.zeros(2, dtype), "b": jnp.zeros((), dtype)}
        _, curve = jax.jit(lambda p, tx=tx, body=body: jax.lax.scan(body, (p, tx.init(p)), None, 6000))(p)
        out["bf16"][label] = np.asarray(curve).tolist()
        print(f"  bf16 {label:30s} final loss {float(curve[-1]):.3g}", flush=True)
    return out


def plot(conv: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = conv["runs"]
    fig, axes = plt.subplots(2, 3, figsize=(15, 8))
    for ax, run in zip(axes.flat, runs):
        for label, style in (("float32 state", "-"), ("8-bit state", "--"), ("8-bit, rounded to nearest", ":")):
            c = np.asarray(run[label]["curve"])
            smooth = np.convolve(c, np.ones(20) / 20, mode="valid")
            ax.semilogy(smooth, style, label=f"{label} (final {run[label]['final_loss']:.4g})")
        ax.set(title=f"{run['problem']}, {run['optimizer']}: batch loss (20-step mean)", xlabel="step")
        ax.legend(fontsize=8)
    ax = axes.flat[len(runs)]
    for label, curve in conv["bf16"].items():
        ax.semilogy(curve, label=label)
    ax.set(title="regression, SGD lr 1e-3: loss with bfloat16 params", xlabel="step")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    print(f"wrote {path}")


# ------------------------------------------------------------------------ markdown


def markdown(res: dict) -> str:
    lines = ["| optimizer | mode | state bytes / param | state MiB / device | step peak MiB / device "
             "(sequential scheduler) |", "|---|---|---|---|---|"]
    for r in res["memory"]:
        seq = r.get("step_peak_bytes_per_device_sequential")
        seq = f" ({seq / 2**20:.1f})" if seq is not None else ""
        lines.append(f"| {r['optimizer']} | {r['mode']} | {r['state_bytes_per_param']:.3f} | "
                     f"{r['state_bytes_per_device'] / 2**20:.1f} | {r['step_peak_bytes_per_device'] / 2**20:.1f}{seq} |")
    lines += ["", "| tree | optimizer | float32 state ms | 8-bit state ms | 8-bit / float32 wall (min..max) | "
              "CPU time (min..max) |", "|---|---|---|---|---|---|"]
    for r in res["time"]:
        lines.append(f"| {r['tree']} | {r['optimizer']} | {r['float32_ms']:.2f} | {r['q8_ms']:.2f} | "
                     f"{r['ratio']:.2f} ({r['ratio_min']:.2f}..{r['ratio_max']:.2f}) | "
                     f"{r['cpu_ratio']:.2f} ({r['cpu_ratio_min']:.2f}..{r['cpu_ratio_max']:.2f}) |")
    if res.get("bnb"):
        b = res["bnb"]
        lines += ["", f"bitsandbytes {b['bitsandbytes']} on CPU, {b['n_params']} parameters in one tensor: "
                  f"Adam8bit {b['bnb_ms']:.2f} ms, torch fused Adam {b['torch_ms']:.2f} ms (CPU time), "
                  f"ratio {b['ratio']:.2f}"]
    lines += ["", "| problem | optimizer | float32 state | 8-bit state | 8-bit, nearest | "
              "mean batch loss, last 100 steps: float32 / 8-bit / nearest |", "|---|---|---|---|---|---|"]
    for r in res["convergence"]["runs"]:
        base = r["float32 state"]["final_loss"]
        cells = [f"{base:.5g}"] + [f"{r[k]['final_loss']:.5g} ({(r[k]['final_loss'] - base) / base:+.2%})"
                                   for k in ("8-bit state", "8-bit, rounded to nearest")]
        cells.append(" / ".join(f"{r[k]['last100_mean']:.4g}"
                                for k in ("float32 state", "8-bit state", "8-bit, rounded to nearest")))
        lines.append(f"| {r['problem']} | {r['optimizer']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _compact(res: dict) -> dict:
    """The results with each curve cut to at most 300 points of 5 significant digits (the PNG has them all)."""
    def cut(curve):
        step = max(1, len(curve) // 300)
        return [float(f"{x:.5g}") for x in curve[::step]]

    conv = res.get("convergence", {})
    runs = [{k: ({**v, "curve": cut(v["curve"]), "curve_every": max(1, len(v["curve"]) // 300)}
                 if isinstance(v, dict) else v) for k, v in r.items()} for r in conv.get("runs", [])]
    bf16 = {k: cut(v) for k, v in conv.get("bf16", {}).items()}
    every = max([1] + [len(v) // 300 for v in conv.get("bf16", {}).values()])
    return {**res, "convergence": {"runs": runs, "bf16": bf16, "bf16_every": every}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small trees, few blocks (a smoke run)")
    ap.add_argument("--reps", type=int, default=7, help="interleaved timing blocks")
    ap.add_argument("--json", default=None, help="write the results here")
    ap.add_argument("--plot", default=None, help="draw the convergence curves here (PNG)")
    ap.add_argument("--markdown", action="store_true", help="print the tables as markdown")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: memory,time,convergence")
    ap.add_argument("--xla-sequential", action="store_true",
                    help=f"compile with XLA_FLAGS={SEQUENTIAL_FLAG} (used for the second memory column)")
    args = ap.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    mesh = Mesh(np.array(jax.devices()[:8]), ("data",))
    trees = make_trees(args.quick)
    res = {"machine": machine_info(), "devices": [str(d) for d in jax.devices()]}
    mix_name = list(trees)[2]
    res["memory_tree"] = mix_name
    print(f"memory on {mix_name}, 8 devices", flush=True)
    res["memory"] = [] if "memory" in skip else memory_rows(trees[mix_name], mesh)
    if res["memory"] and not args.xla_sequential:
        # XLA flags are read once per process: the same rows compiled with the sequential scheduler
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "sequential.json")
            cmd = [sys.executable, os.path.abspath(__file__), "--xla-sequential", "--skip", "time,convergence",
                   "--json", out] + (["--quick"] if args.quick else [])
            subprocess.run(cmd, check=True)
            with open(out) as f:
                seq = json.load(f)["memory"]
        for row, other in zip(res["memory"], seq):
            assert (row["optimizer"], row["mode"]) == (other["optimizer"], other["mode"])
            row["step_peak_bytes_per_device_sequential"] = other["step_peak_bytes_per_device"]
    print("step time, one device", flush=True)
    res["time"] = [] if "time" in skip else time_rows(trees, 3 if args.quick else args.reps,
                                                      0.2 if args.quick else 1.0)
    if "time" not in skip:
        res["bnb"] = bnb_row(n_params(list(trees.values())[0]), 3 if args.quick else args.reps)
    res["convergence"] = {"runs": [], "bf16": {}} if "convergence" in skip else convergence()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(_compact(res), f, indent=1)
        print(f"wrote {args.json}")
    if args.plot and res["convergence"]["runs"]:
        plot(res["convergence"], args.plot)
    if args.markdown:
        print(markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
