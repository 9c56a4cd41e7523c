"""``optjax demo`` and ``optjax list`` (also ``python -m optjax ...``).

The demo trains the classic synthetic linear regression, y = 2*x0 - 3.4*x1 + 4.2 + noise
over 1000 examples in mini-batches, then a small MLP classifier on generated
data, with a jitted train step that donates params and optimizer state.

The demo turns on JAX's persistent compilation cache (``--compilation-cache``,
default ``~/.cache/optjax/jax``): a second run loads the compiled steps from
disk instead of compiling them again.
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
from typing import Any, Callable, Iterable

import jax
import jax.numpy as jnp
import numpy as np

import optjax

SCHEDULES = ("constant", "cosine", "warmup_cosine", "step", "exponential")
DEFAULT_CACHE_DIR = os.path.join("~", ".cache", "optjax", "jax")


def enable_compilation_cache(cache_dir: str | None = None) -> str:
    """Turn on JAX's persistent compilation cache; returns the directory used.

    Compiled programs are written to ``cache_dir`` (default: a directory the
    user already gave JAX through ``JAX_COMPILATION_CACHE_DIR`` or
    ``jax.config``, else ``~/.cache/optjax/jax``) and loaded from there by the
    next process that compiles the same program, so only the first run of a
    script pays for XLA's compile. Every program is cached, however fast it
    compiled. Call it before the first ``jax.jit`` call; the directory must be
    private to the user (JAX trusts what it finds there).
    """
    if cache_dir is None:
        cache_dir = jax.config.jax_compilation_cache_dir or DEFAULT_CACHE_DIR
    cache_dir = os.path.expanduser(cache_dir)
    jax.config.update("jax_compilation_cache_dir", cache_dir)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    return cache_dir


def _progress(iterable: Iterable, total: int, desc: str, enabled: bool) -> Iterable:
    """A tqdm progress bar when tqdm is installed (``pip install optjax[demo]``)."""
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=desc, leave=False)


def make_schedule(kind: str, lr: float, steps: int) -> Callable[[Any], Any] | float:
    """The learning rate the demo uses: a float or a schedule of the 0-based step."""
    if kind == "constant":
        return lr
    if kind == "cosine":
        return optjax.cosine_decay_schedule(lr, steps)
    if kind == "warmup_cosine":
        return optjax.warmup_cosine_decay_schedule(0.0, lr, max(1, steps // 10), steps)
    if kind == "step":
        return optjax.exponential_decay(lr, max(1, steps // 4), 0.5, staircase=True)
    if kind == "exponential":
        return optjax.exponential_decay(lr, steps, 0.1)
    raise ValueError(f"--schedule must be one of {SCHEDULES}, got {kind!r}")


def make_optimizer(name: str, learning_rate: Any) -> optjax.GradientTransformation:
    factory = getattr(optjax, name, None)
    if factory is None or name not in optimizer_names():
        raise SystemExit(f"unknown optimizer {name!r}; choose one of: {', '.join(optimizer_names())}")
    return factory(learning_rate=learning_rate)


def optimizer_names() -> list[str]:
    names = []
    for n in optjax.optimizers.__all__:
        f = getattr(optjax.optimizers, n)
        if n[0].islower() and callable(f) and not n.startswith("scale_by") and n != "trace":
            params = inspect.signature(f).parameters
            if "learning_rate" in params:
                names.append(n)
    return sorted(names)


def _train(loss_fn, params, batches, tx, steps, desc, bar, lr_fn):
    state = tx.init(params)

    def step(params, state, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        params, state = optjax.update_and_apply(tx, grads, state, params)
        return params, state, loss

    step = jax.jit(step, donate_argnums=(0, 1))
    losses, lrs = [], []
    for i in _progress(range(steps), steps, desc, bar):
        x, y = batches(i)
        params, state, loss = step(params, state, x, y)
        losses.append(float(loss))
        lrs.append(float(lr_fn(i)) if callable(lr_fn) else float(lr_fn))
    return params, losses, lrs


def regression(args) -> tuple[list, list]:
    rng = np.random.default_rng(args.seed)
    x = rng.normal(size=(1000, 2)).astype(np.float32)
    y = (2 * x[:, 0] - 3.4 * x[:, 1] + 4.2 + 0.01 * rng.normal(size=1000)).astype(np.float32)
    order = rng.permutation(1000)

    def batches(i):
        idx = order[(i * args.batch_size) % 1000:][: args.batch_size]
        return jnp.asarray(x[idx]), jnp.asarray(y[idx])

    def loss_fn(p, xb, yb):
        return jnp.mean((xb @ p["w"] + p["b"] - yb) ** 2) / 2

    lr = make_schedule(args.schedule, args.lr, args.steps)
    tx = make_optimizer(args.optimizer, lr)
    params = {"w": jnp.zeros(2), "b": jnp.zeros(())}
    params, losses, lrs = _train(loss_fn, params, batches, tx, args.steps, "regression", not args.no_progress, lr)
    full = float(loss_fn(params, jnp.asarray(x), jnp.asarray(y)))
    w = np.asarray(params["w"])
    print(f"regression  optimizer={args.optimizer} lr={args.lr} schedule={args.schedule} steps={args.steps}")
    print(f"  final loss {full:.6f}")
    print(f"  weights    [{w[0]:.4f}, {w[1]:.4f}]   (true [2.0000, -3.4000])")
    print(f"  bias       {float(params['b']):.4f}            (true 4.2000)")
    return losses, lrs


def classifier(args) -> None:
    rng = np.random.default_rng(args.seed + 1)
    n = 1200
    labels = rng.integers(0, 3, size=n)
    angles = labels * 2 * np.pi / 3 + rng.normal(scale=0.3, size=n)
    radius = 1.0 + rng.normal(scale=0.1, size=n)
    x = np.stack([radius * np.cos(angles), radius * np.sin(angles)], 1).astype(np.float32)
    key = jax.random.PRNGKey(args.seed)
    k1, k2 = jax.random.split(key)
    params = {
        "hidden": {"w": jax.random.normal(k1, (2, 32)) * 0.5, "b": jnp.zeros(32)},
        "out": {"w": jax.random.normal(k2, (32, 3)) * 0.5, "b": jnp.zeros(3)},
    }

    def logits(p, xb):
        h = jnp.tanh(xb @ p["hidden"]["w"] + p["hidden"]["b"])
        return h @ p["out"]["w"] + p["out"]["b"]

    def loss_fn(p, xb, yb):
        lg = logits(p, xb)
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(lg), yb[:, None], 1))

    bs = 64

    def batches(i):
        idx = rng.integers(0, n, size=bs)
        return jnp.asarray(x[idx]), jnp.asarray(labels[idx])

    lr = make_schedule(args.schedule, args.lr, args.steps)
    tx = make_optimizer(args.optimizer, lr)
    params, losses, _ = _train(loss_fn, params, batches, tx, args.steps, "classifier", not args.no_progress, lr)
    acc = float(jnp.mean(jnp.argmax(logits(params, jnp.asarray(x)), -1) == jnp.asarray(labels)))
    print(f"classifier  MLP 2-32-3 on 3 noisy clusters, {n} points")
    print(f"  final loss {losses[-1]:.4f}   accuracy {acc:.3f}")


def plot(path: str, losses: list, lrs: list) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SystemExit("--plot needs matplotlib: pip install 'optjax[demo]'") from None
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2))
    a.semilogy(losses)
    a.set(title="regression loss", xlabel="step")
    b.plot(lrs)
    b.set(title="learning rate", xlabel="step")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"  plot written to {path}")


def list_catalogue() -> None:
    from optjax import initializers, schedules, transforms

    def show(title, names):
        print(f"{title} ({len(names)}):")
        line = "  "
        for n in names:
            if len(line) + len(n) > 88:
                print(line)
                line = "  "
            line += n + "  "
        print(line)

    show("optimizers", optimizer_names())
    show("schedules", sorted(n for n in schedules.__all__ if n[0].islower()))
    show("transforms", sorted(n for n in transforms.__all__ if n[0].islower()) + ["chain", "partition"])
    show("initializers", sorted(n for n in initializers.__all__ if n[0].islower()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="optjax", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="train the synthetic regression and an MLP classifier")
    d.add_argument("--optimizer", default="adam", help="an optimizer name from 'optjax list' (default adam)")
    d.add_argument("--lr", type=float, default=0.05, help="peak learning rate (default 0.05)")
    d.add_argument("--schedule", default="warmup_cosine", choices=SCHEDULES, help="learning-rate schedule")
    d.add_argument("--steps", type=int, default=600, help="training steps per task (default 600)")
    d.add_argument("--batch-size", type=int, default=10, help="regression mini-batch size (default 10)")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--plot", metavar="FILE.png", help="draw loss and learning rate to this file")
    d.add_argument("--no-progress", action="store_true", help="no progress bar")
    d.add_argument("--compilation-cache", metavar="DIR",
                   help=f"JAX's persistent compilation cache directory (default {DEFAULT_CACHE_DIR}, "
                        "or JAX_COMPILATION_CACHE_DIR when set)")
    d.add_argument("--no-compilation-cache", action="store_true",
                   help="compile in memory only (no persistent compilation cache)")
    sub.add_parser("list", help="print the catalogue of optimizers, schedules, transforms, initializers")
    args = parser.parse_args(argv)
    if args.command == "list":
        list_catalogue()
        return 0
    if args.steps < 1:
        parser.error("--steps must be >= 1")
    if not args.no_compilation_cache:
        enable_compilation_cache(args.compilation_cache)
    losses, lrs = regression(args)
    classifier(args)
    if args.plot:
        plot(args.plot, losses, lrs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
