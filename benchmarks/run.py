"""optjax vs optax step-time benchmark (issue 7).

One command::

    PYTHONPATH=. python benchmarks/run.py [--quick] [--plot benchmarks/results.png] [--json benchmarks/results.json]

For every (tree, optimizer) pair it builds the same jitted train step for
optjax and optax -- ``params, state = step(params, state, grads)`` with params
and state donated -- on the same inputs, in the same process, and measures.
optjax's step is ``optjax.update_and_apply(tx, grads, state, params)`` (the
documented switch: the numbers of ``update`` + ``apply_updates``, with state
that the update reads written in place); optax's is ``tx.update`` + add.

* median step time of each (timings interleaved: one block of optjax steps,
  one block of optax steps, repeated), and the median of the paired ratios
  optjax/optax with its min..max over the blocks (the noise);
* the share of the memory roofline: bytes an ideal single-pass implementation
  must move per step (``arrays * n_params * 4``; e.g. clip+adamw reads g for
  the norm, then reads g, p, m, v and writes p, m, v = 8 arrays), divided by
  the step time, divided by the bandwidth of a donated triad ``a <- a + s*b``
  (3 arrays per step) over the same number of floats, measured in this run;
* first-call seconds: trace + compile + first run of a fresh ``jax.jit``;
* XLA fusion count of the compiled step and its temp bytes
  (``compile().memory_analysis()``) relative to the params' bytes;
* torch's fused AdamW / Adam / SGD on CPU (when torch is installed) on the same
  number of parameters, as a third column (its time relative to optax).

Timings on a shared 2-core machine are noisy: only compare numbers from the
same run.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

# torch's OpenMP threads must not spin after torch's steps and steal the cores from XLA
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import jax
import jax.numpy as jnp
import numpy as np
import optax

import optjax

# --------------------------------------------------------------------------- trees


def tree_single(n: int) -> dict:
    side = int(round(n ** 0.5))
    return {"w": (side, side)}


def tree_many(leaves: int, size: int) -> dict:
    return {f"layer{i:04d}": (size,) for i in range(leaves)}


def tree_mix(d: int, layers: int, vocab: int, ctx: int) -> dict:
    """A GPT-like layout: embeddings, per layer q/k/v/o, two MLP mats, biases, 2 layernorms."""
    t: dict = {"embed": (vocab, d), "pos": (ctx, d), "ln_f/scale": (d,), "ln_f/bias": (d,)}
    for i in range(layers):
        p = f"block{i:02d}/"
        for name in ("q", "k", "v", "o"):
            t[p + name + "/w"] = (d, d)
            t[p + name + "/b"] = (d,)
        t[p + "mlp1/w"] = (d, 4 * d)
        t[p + "mlp1/b"] = (4 * d,)
        t[p + "mlp2/w"] = (4 * d, d)
        t[p + "mlp2/b"] = (d,)
        for ln in ("ln1", "ln2"):
            t[p + ln + "/scale"] = (d,)
            t[p + ln + "/bias"] = (d,)
    return t


def make_trees(quick: bool) -> dict:
    if quick:
        trees = [tree_single(1 << 20), tree_many(100, 16384), tree_mix(256, 3, 2048, 256)]
    else:
        trees = [tree_single(1 << 24), tree_many(1000, 16384), tree_mix(768, 11, 4096, 1024)]
    names = [f"1 leaf ({n_params(trees[0]) / 2**20:.0f}M)", f"{len(trees[1])} leaves x 16k",
             f"mix ({n_params(trees[2]) / 1e6:.0f}M, {len(trees[2])} leaves)"]
    return dict(zip(names, trees))


def materialize(shapes: dict, seed: int, scale: float = 1.0) -> dict:
    key = jax.random.PRNGKey(seed)
    out = {}
    for i, (k, s) in enumerate(shapes.items()):
        out[k] = scale * jax.random.normal(jax.random.fold_in(key, i), s, jnp.float32)
    return out


def n_params(shapes: dict) -> int:
    return int(sum(np.prod(s) for s in shapes.values()))


# ---------------------------------------------------------------------- optimizers

# arrays an ideal single-pass implementation moves per step, per parameter
OPTIMIZERS = {
    # name: (optjax factory, optax factory, arrays moved, torch kind)
    "clip+adamw": (
        lambda: optjax.chain(optjax.clip_by_global_norm(1.0), optjax.adamw(1e-3, weight_decay=1e-4)),
        lambda: optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(1e-3, weight_decay=1e-4)),
        8,  # norm pass reads g; update pass reads g, p, m, v, writes p, m, v
        "clip+adamw",
    ),
    "adam": (lambda: optjax.adam(1e-3), lambda: optax.adam(1e-3), 7, "adam"),
    "sgd momentum": (
        lambda: optjax.sgd(1e-3, momentum=0.9),
        lambda: optax.sgd(1e-3, momentum=0.9),
        5,  # reads g, p, b; writes p, b
        "sgd",
    ),
    "lion": (
        (lambda: optjax.lion(1e-4)) if hasattr(optjax, "lion") else None,
        lambda: optax.lion(1e-4),
        5,  # reads g, p, m; writes p, m
        None,
    ),
}


def make_step(tx):
    """optax's recommended step: ``tx.update`` then add the updates."""

    def step(params, state, grads):
        updates, state = tx.update(grads, state, params)
        params = jax.tree.map(lambda p, u: (p + u).astype(p.dtype), params, updates)
        return params, state

    return step


def make_fused_step(tx):
    """optjax's documented step: ``optjax.update_and_apply`` (same numbers; state written in place)."""

    def step(params, state, grads):
        return optjax.update_and_apply(tx, grads, state, params)

    return step


def fusion_count(hlo_text: str) -> int:
    # every fused computation is defined once as "%fused_computation..." (or "fused_..." in newer text)
    return len(re.findall(r"^\s*%?fused_[\w.\-]*\s.*\{\s*$", hlo_text, flags=re.M))


def block(tree):
    jax.block_until_ready(tree)
    return tree


# -------------------------------------------------------------------------- timing


class Runner:
    """Holds one library's params/state and its compiled donated step."""

    def __init__(self, tx, params0, grads, make=make_step):
        self.grads = grads
        self.params = jax.tree.map(jnp.copy, params0)
        self.state = block(jax.jit(tx.init)(self.params))
        # first call = trace + lower + compile + first run of a fresh jit (nothing cached);
        # done ahead of time so the same executable also gives its HLO and memory analysis
        t0 = time.perf_counter()
        compiled = jax.jit(make(tx), donate_argnums=(0, 1)).lower(self.params, self.state, grads).compile()
        self.params, self.state = block(compiled(self.params, self.state, grads))
        self.first_call = time.perf_counter() - t0
        self.fusions = fusion_count(compiled.as_text())
        ma = compiled.memory_analysis()
        self.temp_bytes = getattr(ma, "temp_size_in_bytes", float("nan")) if ma is not None else float("nan")
        self.step = compiled

    def run(self, k: int) -> float:
        t0 = time.perf_counter()
        p, s = self.params, self.state
        for _ in range(k):
            p, s = self.step(p, s, self.grads)
        block((p, s))
        self.params, self.state = p, s
        return (time.perf_counter() - t0) / k


class Triad:
    """The roofline: a donated triad ``a <- a + s*b`` over ``n`` floats (3 arrays moved per step)."""

    def __init__(self, n: int):
        self.a = jnp.ones((n,), jnp.float32)
        self.b = jnp.full((n,), 0.5, jnp.float32)
        self.s = jnp.float32(1e-7)
        self.f = jax.jit(lambda a, b, s: a + s * b, donate_argnums=0)
        self.a = block(self.f(self.a, self.b, self.s))

    def run(self, k: int) -> float:
        t0 = time.perf_counter()
        for _ in range(k):
            self.a = self.f(self.a, self.b, self.s)
        block(self.a)
        return (time.perf_counter() - t0) / k


def triad_time(n: int, reps: int) -> float:
    tr = Triad(n)
    return statistics.median(tr.run(5) for _ in range(reps))


def torch_runner(kind: str, shapes: dict, grads_np: dict):
    try:
        import torch
    except ImportError:
        return None
    params = [torch.nn.Parameter(torch.from_numpy(np.array(grads_np[k])).mul_(0.0).add_(1.0)) for k in shapes]
    for p, k in zip(params, shapes):
        p.grad = torch.from_numpy(np.array(grads_np[k]))
    try:
        if kind in ("clip+adamw", "adamw"):
            opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=1e-4, fused=True)
        elif kind == "adam":
            opt = torch.optim.Adam(params, lr=1e-3, fused=True)
        elif kind == "sgd":
            opt = torch.optim.SGD(params, lr=1e-3, momentum=0.9, fused=True)
        else:
            return None
    except (RuntimeError, TypeError, ValueError) as e:  # fused unsupported here
        print(f"  torch fused {kind} unavailable: {e}", file=sys.stderr)
        return None
    clip = kind == "clip+adamw"

    def run(k: int) -> float:
        t0 = time.perf_counter()
        for _ in range(k):
            if clip:
                torch.nn.utils.clip_grad_norm_(params, 1.0, foreach=True)
            opt.step()
        return (time.perf_counter() - t0) / k

    run(1)
    return run


def bench_pair(name, tree_name, shapes, params0, grads, grads_np, reps, target_s, triad_bw, pbytes, use_torch):
    mk_jx, mk_ox, arrays, torch_kind = OPTIMIZERS[name]
    row = {"tree": tree_name, "optimizer": name, "n_params": n_params(shapes), "leaves": len(shapes)}
    if mk_jx is None:
        row["status"] = "optjax.lion not yet available"
        return row
    jx = Runner(mk_jx(), params0, grads, make_fused_step)
    ox = Runner(mk_ox(), params0, grads)
    # same inputs, same math: compare the params after the first step
    diff = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(jax.tree.leaves(jx.params), jax.tree.leaves(ox.params)))
    th = torch_runner(torch_kind, shapes, grads_np) if (use_torch and torch_kind) else None
    # warm up and choose steps per block so a block lasts about target_s
    t1 = max(jx.run(1), ox.run(1), 1e-5)
    k = max(1, int(target_s / t1))
    triad = Triad(row["n_params"])
    kt = max(1, int(target_s / max(triad.run(1), 1e-5)))
    tj, to, tt, ttr, ratios = [], [], [], [], []
    for r in range(reps):
        # interleave optjax, optax and the triad, alternating who goes first
        if r % 2 == 0:
            a = jx.run(k); b = ox.run(k)
        else:
            b = ox.run(k); a = jx.run(k)
        ttr.append(triad.run(kt))
        tj.append(a); to.append(b); ratios.append(a / b)
    del triad
    triad_bw = 3 * row["n_params"] * 4 / statistics.median(ttr)
    if th is not None:  # after the jax blocks, so torch's threads do not disturb them
        tt = [th(k) for _ in range(max(3, reps // 2))]
    moved = arrays * row["n_params"] * 4
    mj, mo = statistics.median(tj), statistics.median(to)
    row.update(
        status="ok",
        optjax_ms=1e3 * mj,
        optax_ms=1e3 * mo,
        ratio=statistics.median(ratios),
        ratio_min=min(ratios),
        ratio_max=max(ratios),
        optjax_roofline=moved / mj / triad_bw,
        optax_roofline=moved / mo / triad_bw,
        optjax_first_s=jx.first_call,
        optax_first_s=ox.first_call,
        triad_ms=1e3 * statistics.median(ttr),
        optjax_fusions=jx.fusions,
        optax_fusions=ox.fusions,
        optjax_temp_over_params=jx.temp_bytes / pbytes,
        optax_temp_over_params=ox.temp_bytes / pbytes,
        max_abs_diff_first_step=diff,
        steps_per_block=k,
        blocks=reps,
    )
    if tt:
        row["torch_ms"] = 1e3 * statistics.median(tt)
        row["torch_over_optax"] = statistics.median(tt) / mo
    del jx, ox, th
    gc.collect()
    return row


def machine_info() -> dict:
    info = {"python": platform.python_version(), "jax": jax.__version__, "optax": optax.__version__,
            "date": datetime.datetime.now().isoformat(timespec="seconds"), "cores": os.cpu_count()}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        m = re.search(r"Model name:\s*(.+)", out)
        info["cpu"] = m.group(1).strip() if m else platform.processor()
    except OSError:
        info["cpu"] = platform.processor()
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:
        info["torch"] = None
    try:
        info["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                        text=True).stdout.strip()
    except OSError:
        info["commit"] = None
    try:
        info["loadavg"] = os.getloadavg()
    except OSError:
        pass
    return info


def fmt_table(rows: list, triads: dict) -> str:
    head = ("| tree | optimizer | optjax ms | optax ms | ratio (min..max) | roofline optjax / optax | "
            "first call s optjax / optax | fusions optjax / optax | temp/params optjax / optax | torch fused / optax |")
    lines = [head, "|" + "---|" * 10]
    for r in rows:
        if r.get("status") != "ok":
            lines.append(f"| {r['tree']} | {r['optimizer']} | {r['status']} | | | | | | | |")
            continue
        torch_s = f"{r['torch_over_optax']:.2f}x ({r['torch_ms']:.1f} ms)" if "torch_ms" in r else "-"
        lines.append(
            f"| {r['tree']} | {r['optimizer']} | {r['optjax_ms']:.2f} | {r['optax_ms']:.2f} | "
            f"{r['ratio']:.2f} ({r['ratio_min']:.2f}..{r['ratio_max']:.2f}) | "
            f"{100 * r['optjax_roofline']:.0f}% / {100 * r['optax_roofline']:.0f}% | "
            f"{r['optjax_first_s']:.2f} / {r['optax_first_s']:.2f} | {r['optjax_fusions']} / {r['optax_fusions']} | "
            f"{r['optjax_temp_over_params']:.2f} / {r['optax_temp_over_params']:.2f} | {torch_s} |"
        )
    lines.append("")
    for t, (ms, bw) in triads.items():
        lines.append(f"triad `a <- a + s*b` (donated) on {t} before its rows: {ms:.2f} ms, {bw / 1e9:.1f} GB/s "
                     "(each row's roofline share uses the triad timed in that row's own interleaved blocks)")
    return "\n".join(lines)


def plot(rows: list, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in rows if r.get("status") == "ok"]
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    labels = [f"{r['tree']}\n{r['optimizer']}" for r in ok]
    x = np.arange(len(ok))
    ax = axes[0]
    ax.bar(x, [r["ratio"] for r in ok], color="tab:blue")
    ax.errorbar(x, [r["ratio"] for r in ok],
                yerr=[[r["ratio"] - r["ratio_min"] for r in ok], [r["ratio_max"] - r["ratio"] for r in ok]],
                fmt="none", color="k")
    ax.axhline(1.0, color="gray", lw=1)
    ax.axhline(0.6, color="tab:green", ls="--", lw=1, label="goal 0.6 (single leaf)")
    ax.axhline(0.85, color="tab:orange", ls="--", lw=1, label="goal 0.85 (many/mix)")
    ax.set_xticks(x, labels, rotation=70, fontsize=7)
    ax.set_ylabel("step time optjax / optax")
    ax.legend(fontsize=7)
    ax = axes[1]
    w = 0.4
    ax.bar(x - w / 2, [100 * r["optjax_roofline"] for r in ok], w, label="optjax")
    ax.bar(x + w / 2, [100 * r["optax_roofline"] for r in ok], w, label="optax")
    ax.axhline(60, color="tab:green", ls="--", lw=1)
    ax.set_xticks(x, labels, rotation=70, fontsize=7)
    ax.set_ylabel("% of donated-triad bandwidth")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"plot written to {path}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small trees, few repeats (smoke run, < 1 min)")
    ap.add_argument("--plot", default=None, help="write a PNG plot here")
    ap.add_argument("--json", default=None, help="write raw results here")
    ap.add_argument("--reps", type=int, default=None, help="interleaved blocks per measurement")
    ap.add_argument("--only", default=None, help="comma-separated optimizer names")
    ap.add_argument("--trees", default=None, help="comma-separated tree indices (0,1,2)")
    ap.add_argument("--no-torch", action="store_true")
    args = ap.parse_args(argv)

    reps = args.reps or (3 if args.quick else 9)
    target = 0.02 if args.quick else 0.25
    trees = make_trees(args.quick)
    names = list(OPTIMIZERS) if not args.only else args.only.split(",")
    tree_items = list(trees.items())
    if args.trees:
        tree_items = [tree_items[int(i)] for i in args.trees.split(",")]
    info = machine_info()
    print(f"# {info['cpu']}, {info['cores']} cores; jax {info['jax']}, optax {info['optax']}, "
          f"torch {info['torch']}; commit {info['commit']}; {info['date']}", flush=True)

    rows, triads = [], {}
    for ti, (tname, shapes) in enumerate(tree_items):
        n = n_params(shapes)
        t_triad = triad_time(n, max(reps, 5))
        bw = 3 * n * 4 / t_triad
        triads[tname] = (1e3 * t_triad, bw)
        print(f"## {tname}: {n / 1e6:.1f}M params in {len(shapes)} leaves; triad {1e3 * t_triad:.2f} ms "
              f"({bw / 1e9:.1f} GB/s)", flush=True)
        params0 = materialize(shapes, 0)
        grads = materialize(shapes, 1, scale=1e-3)
        grads_np = {k: np.asarray(v) for k, v in grads.items()} if not args.no_torch else None
        for name in names:
            row = bench_pair(name, tname, shapes, params0, grads, grads_np, reps, target, bw, 4 * n,
                             not args.no_torch)
            rows.append(row)
            if row.get("status") == "ok":
                print(f"  {name:13s} optjax {row['optjax_ms']:8.2f} ms  optax {row['optax_ms']:8.2f} ms  "
                      f"ratio {row['ratio']:.2f} ({row['ratio_min']:.2f}..{row['ratio_max']:.2f})  "
                      f"roofline {100 * row['optjax_roofline']:.0f}%/{100 * row['optax_roofline']:.0f}%  "
                      f"first {row['optjax_first_s']:.2f}/{row['optax_first_s']:.2f} s  "
                      f"fusions {row['optjax_fusions']}/{row['optax_fusions']}  "
                      f"diff {row['max_abs_diff_first_step']:.1e}"
                      + (f"  torch {row['torch_over_optax']:.2f}x" if "torch_ms" in row else ""), flush=True)
            else:
                print(f"  {name:13s} {row['status']}", flush=True)
        del params0, grads, grads_np
        gc.collect()
    info["loadavg_end"] = os.getloadavg()
    print()
    print(fmt_table(rows, triads))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "triads": triads, "rows": rows}, f, indent=1)
        print(f"results written to {args.json}")
    if args.plot:
        plot(rows, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
