"""First-call and eager-call costs (issue 17; results in benchmarks/README.md).

    PYTHONPATH=. python benchmarks/first_call.py [trace] [eager] [cache] [--leaves N] [--reps N]
        [--only "adam,lion"] [--no-compile] [--no-optax]

* ``trace``: trace+lower and XLA compile seconds of a fresh jitted, donated
  train step (``update_and_apply``) on N leaves of 16k floats (default 1000),
  per optimizer, optjax and optax side by side where optax has the optimizer;
* ``eager``: milliseconds per eager ``tx.update`` call (no ``jax.jit`` around
  it) on a two-leaf tree after a warm-up call, optjax and optax, and how many
  traces and XLA compiles one warm call makes (counted with
  ``jax.monitoring``);
* ``cache``: JAX's persistent compilation cache: the first call of the
  1000-leaf step in a fresh process with an empty cache directory, then in a
  second fresh process that finds the first one's entries (what a user sees on
  the second run of a script), for optjax's adam and clip+adamw; the second
  process's first call split into trace+lower, loading the cached executable
  (JAX's ``cache_retrieval_time_sec`` inside it) and the run; the fastest of
  ``--reps`` (default 3) such processes, each also with ``gc.freeze()`` called
  after the setup (Python's GC then never rescans what the imports and the
  model made).

Timings on a shared machine are noisy: compare numbers from the same run.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import jax
import jax.numpy as jnp

import optjax

LEAF_SIZE = 16384


def optimizers():
    """``{label: (optjax transform, optax transform or None)}``; 2-D-only optimizers get matrices."""
    try:
        import optax
    except ImportError:  # optax is a test/benchmark extra
        optax = None

    def ox(f):
        return None if optax is None else f(optax)

    return {
        "adam": (optjax.adam(1e-3), ox(lambda o: o.adam(1e-3))),
        "clip+adamw": (optjax.chain(optjax.clip_by_global_norm(1.0), optjax.adamw(1e-3, weight_decay=1e-4)),
                       ox(lambda o: o.chain(o.clip_by_global_norm(1.0), o.adamw(1e-3, weight_decay=1e-4)))),
        "sgd momentum": (optjax.sgd(1e-3, momentum=0.9), ox(lambda o: o.sgd(1e-3, momentum=0.9))),
        "lion": (optjax.lion(1e-4), ox(lambda o: o.lion(1e-4))),
        "adafactor": (optjax.adafactor(1e-3), ox(lambda o: o.adafactor(1e-3))),
        "rmsprop": (optjax.rmsprop(1e-3, momentum=0.9), ox(lambda o: o.rmsprop(1e-3, momentum=0.9))),
        "nag (mxnet)": (optjax.nag(1e-3, momentum=0.9), None),
        "ftml (mxnet)": (optjax.ftml(1e-3), None),
        "sgld (mxnet)": (optjax.sgld(1e-4, key=0), None),
    }


def make_tree(leaves: int, seed: int) -> dict:
    keys = jax.random.split(jax.random.PRNGKey(seed), leaves)
    return {f"layer{i:04d}": jax.random.normal(k, (LEAF_SIZE,)) for i, k in enumerate(keys)}


def step_of(tx, is_optjax: bool):
    if is_optjax:
        return lambda p, s, g: optjax.update_and_apply(tx, g, s, p)

    import optax

    def step(p, s, g):
        u, s = tx.update(g, s, p)
        return optax.apply_updates(p, u), s

    return step


def first_call(tx, is_optjax: bool, params: dict, grads: dict, compile: bool = True) -> tuple[float, float]:
    """(trace+lower s, compile s) of a fresh jitted donated step."""
    state = tx.init(params)
    t0 = time.perf_counter()
    lowered = jax.jit(step_of(tx, is_optjax), donate_argnums=(0, 1)).lower(params, state, grads)
    t1 = time.perf_counter()
    if compile:
        lowered.compile()
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1


def exp_trace(leaves: int, only=None, compile=True, with_optax=True, reps=1) -> list[dict]:
    """The minimum over ``reps`` of each time; each repetition builds the optimizers anew,
    so no trace is reused from an earlier one."""
    print(f"trace+lower and compile of a donated step, {leaves} leaves x {LEAF_SIZE} floats "
          f"(min of {reps})")
    params = make_tree(leaves, 0)
    grads = jax.tree.map(lambda x: 1e-3 * x, make_tree(leaves, 1))
    small = make_tree(2, 2)
    first_call(optjax.adam(1e-3), True, small, small)  # warm-up: JAX's own first-use costs
    rows = []
    for label in optimizers():
        if only and label not in only:
            continue
        row = {"optimizer": label}
        for r in range(reps):
            tx, otx = optimizers()[label]
            libs = [("optjax", tx, True)] + ([("optax", otx, False)] if otx is not None and with_optax else [])
            for lib, t, is_optjax in libs:
                times = first_call(t, is_optjax, params, grads, compile)
                for key, v in zip((f"{lib}_trace_lower_s", f"{lib}_compile_s"), times):
                    row[key] = min(v, row.get(key, v))
        rows.append(row)
        print("  " + "  ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{v:14s}" for k, v in row.items()),
              flush=True)
    return rows


class _Counter:
    """Counts jaxpr traces and XLA compiles through jax.monitoring while ``on``."""

    TRACE = "/jax/core/compile/jaxpr_trace_duration"
    COMPILE = "/jax/core/compile/backend_compile_duration"

    def __init__(self):
        self.on = False
        self.traces = self.compiles = 0
        jax.monitoring.register_event_duration_secs_listener(self._listen)

    def _listen(self, event, duration, **kwargs):
        del duration, kwargs
        if self.on:
            self.traces += event == self.TRACE
            self.compiles += event == self.COMPILE


def exp_eager(reps: int) -> list[dict]:
    print("eager tx.update on two leaves ((256, 256) and (256,)): ms per call after one warm-up call")
    counter = _Counter()
    params = {"w": jnp.ones((256, 256)), "b": jnp.zeros(256)}
    grads = jax.tree.map(lambda x: x + 0.1, params)
    rows = []
    for label, (tx, otx) in optimizers().items():
        row = {"optimizer": label}
        for lib, t in (("optjax", tx), ("optax", otx)):
            if t is None:
                continue
            state = t.init(params)
            u, state = t.update(grads, state, params)  # warm-up
            jax.block_until_ready(u)
            counter.traces = counter.compiles = 0
            counter.on = True
            u, state = t.update(grads, state, params)
            jax.block_until_ready(u)
            counter.on = False
            row[f"{lib}_traces"], row[f"{lib}_compiles"] = counter.traces, counter.compiles
            times = []
            for _ in range(reps):
                t0 = time.perf_counter()
                u, state = t.update(grads, state, params)
                jax.block_until_ready((u, state))
                times.append(time.perf_counter() - t0)
            row[f"{lib}_ms"] = 1e3 * statistics.median(times)
        rows.append(row)
        print("  " + "  ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()),
              flush=True)
    return rows


_CHILD = """
import os, sys, time, json
t_start = time.perf_counter()
import jax
jax.config.update("jax_compilation_cache_dir", sys.argv[1])
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
sys.path.insert(0, {bench!r})
import first_call as fc
t_import = time.perf_counter()
retrieval = []
jax.monitoring.register_event_duration_secs_listener(
    lambda event, duration, **kw: retrieval.append(duration)
    if event == "/jax/compilation_cache/cache_retrieval_time_sec" else None)
tx = fc.optimizers()[sys.argv[2]][0]
params = fc.make_tree(int(sys.argv[3]), 0)
grads = jax.tree.map(lambda x: 1e-3 * x, fc.make_tree(int(sys.argv[3]), 1))
state = tx.init(params)
jax.block_until_ready((params, state, grads))
retrieval.clear()
if sys.argv[4] == "gc.freeze":  # the objects made so far are never scanned again by Python's GC
    import gc
    gc.freeze()
t0 = time.perf_counter()
lowered = jax.jit(fc.step_of(tx, True), donate_argnums=(0, 1)).lower(params, state, grads)
t1 = time.perf_counter()
step = lowered.compile()  # what a first call does, in three timed parts
t2 = time.perf_counter()
params, state = step(params, state, grads)
jax.block_until_ready(params)
t3 = time.perf_counter()
print(json.dumps({{"first_call_s": t3 - t0, "trace_lower_s": t1 - t0, "compile_or_load_s": t2 - t1,
                  "cache_retrieval_s": sum(retrieval), "run_s": t3 - t2, "import_s": t_import - t_start}}))
"""


def exp_cache(leaves: int, reps: int = 3) -> list[dict]:
    print(f"persistent compilation cache: first call of the donated step at {leaves} leaves, fresh processes "
          f"(second process: the fastest of {reps})")
    here = os.path.dirname(os.path.abspath(__file__))
    code = _CHILD.format(bench=here)
    rows = []
    for label in ("adam", "clip+adamw"):
        with tempfile.TemporaryDirectory() as cache_dir:
            row = {"optimizer": label}
            second = {"": [], "gc.freeze": []}
            for run in ["empty cache"] + ["second process"] * reps:
                for setup in ("", "gc.freeze") if run == "second process" else ("",):
                    env = dict(os.environ,
                               PYTHONPATH=os.path.join(here, "..") + os.pathsep + os.environ.get("PYTHONPATH", ""))
                    out = subprocess.run([sys.executable, "-c", code, cache_dir, label, str(leaves), setup or "-"],
                                         capture_output=True, text=True, env=env, check=True)
                    res = json.loads(out.stdout.strip().splitlines()[-1])
                    if run == "empty cache":
                        row[run] = res["first_call_s"]
                    else:
                        second[setup].append(res)
            for setup, results in second.items():  # the least disturbed of the fresh processes
                best = min(results, key=lambda r: r["first_call_s"])
                suffix = f" {setup}" if setup else ""
                row["second process" + suffix] = best["first_call_s"]
                row.update({k + suffix: best[k] for k in ("trace_lower_s", "cache_retrieval_s", "compile_or_load_s",
                                                          "run_s")})
            rows.append(row)
            print(f"  {label:12s} first call, empty cache {row['empty cache']:.2f} s", flush=True)
            for suffix in ("", " gc.freeze"):
                print(f"    second process{suffix or ''}: {row['second process' + suffix]:.2f} s = trace+lower "
                      f"{row['trace_lower_s' + suffix]:.2f} + load {row['compile_or_load_s' + suffix]:.2f} "
                      f"(cache retrieval {row['cache_retrieval_s' + suffix]:.2f}) + run {row['run_s' + suffix]:.2f}",
                      flush=True)
    return rows


def main(argv: list[str]) -> None:
    leaves, reps, trace_reps, cache_reps = 1000, 50, 3, 3
    if "--leaves" in argv:
        leaves = int(argv[argv.index("--leaves") + 1])
    if "--reps" in argv:
        reps = trace_reps = cache_reps = int(argv[argv.index("--reps") + 1])
    only = argv[argv.index("--only") + 1].split(",") if "--only" in argv else None
    which = [a for a in argv if a in ("trace", "eager", "cache")] or ["trace", "eager", "cache"]
    print(f"jax {jax.__version__}, load {os.getloadavg()}")
    if "eager" in which:
        exp_eager(reps)
    if "trace" in which:
        exp_trace(leaves, only, compile="--no-compile" not in argv, with_optax="--no-optax" not in argv,
                  reps=trace_reps)
    if "cache" in which:
        exp_cache(leaves, cache_reps)


if __name__ == "__main__":
    main(sys.argv[1:])
