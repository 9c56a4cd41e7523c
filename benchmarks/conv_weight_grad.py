"""A 2-D convolution's weight gradient on XLA:CPU: XLA's kernel vs matrix products.

    PYTHONPATH=. python benchmarks/conv_weight_grad.py [--reps 11]

For each shape, times (best of ``--reps``, one jitted call each, blocked) the weight
gradient of a stride-1 2-D convolution computed three ways from the same input and
output gradient: XLA's own (``jax.vjp`` of ``lax.conv_general_dilated``), ``"patches"``
(one product with the im2col matrix) and ``"offsets"`` (one product per kernel offset),
the two of ``optjax/compat/mxnet/ops/conv_grad.py``, and prints which one the shim's
rule (``weight_grad_plan``) picks. The rule's thresholds come from this table on the
2-core machine of benchmarks/README.md; rerun it on another CPU to check them.
"""

import argparse
import os
import platform
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from optjax.compat.mxnet.ops.conv_grad import weight_gradient, weight_grad_plan  # noqa: E402

# name, batch, channels, height = width, kernel, filters, pad
CASES = [
    ("LeNet conv1 (Module)", 128, 1, 28, 5, 20, 0),
    ("LeNet conv2 (Module)", 128, 20, 12, 5, 50, 0),
    ("LeNet-BN conv1 (gluon)", 64, 1, 28, 5, 6, 0),
    ("LeNet-BN conv2 (gluon)", 64, 6, 12, 5, 16, 0),
    ("RGB 3x3, 32 filters", 64, 3, 32, 3, 32, 1),
    ("5x5, 16 -> 16 on 12x12", 64, 16, 12, 5, 16, 0),
    ("3x3, 16 -> 32, 16x16", 64, 16, 16, 3, 32, 1),
    ("3x3, 32 -> 32, 16x16", 64, 32, 16, 3, 32, 1),
    ("3x3, 128 -> 128, 8x8", 32, 128, 8, 3, 128, 1),
    ("1x1, 64 -> 128, 8x8", 64, 64, 8, 1, 128, 0),
]


def best_ms(fn, *args, reps):
    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - t)
    return min(times) * 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=11)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}; jax {jax.__version__}; best of {args.reps}")
    print("| case | XLA ms | patches ms | offsets ms | rule picks |")
    print("|---|---|---|---|---|")
    for name, n, c, hw, k, f, p in CASES:
        x = jnp.asarray(rng.standard_normal((n, c, hw, hw)).astype(np.float32))
        w = jnp.asarray(rng.standard_normal((f, c, k, k)).astype(np.float32))
        pad = ((p, p), (p, p))
        dn = lax.conv_dimension_numbers(x.shape, w.shape, ("NCHW", "OIHW", "NCHW"))

        def conv(x, w):
            return lax.conv_general_dilated(x, w, (1, 1), pad, dimension_numbers=dn,
                                            precision=lax.Precision.HIGHEST)

        dy = jnp.asarray(rng.standard_normal(conv(x, w).shape).astype(np.float32))
        xla = jax.jit(lambda x, dy: jax.vjp(lambda w: conv(x, w), w)[1](dy)[0])
        cells = [best_ms(xla, x, dy, reps=args.reps)]
        for plan in ("patches", "offsets"):
            fn = jax.jit(lambda x, dy, plan=plan: weight_gradient(x, dy, w.shape, pad, (1, 1),
                                                                  "NCHW", plan))
            cells.append(best_ms(fn, x, dy, reps=args.reps))
        pick = weight_grad_plan(x.shape, w.shape, stride=(1, 1), dilate=(1, 1), padding=pad,
                                num_group=1, layout="NCHW", dtype=np.float32) or "XLA"
        print(f"| {name} | " + " | ".join(f"{v:.2f}" for v in cells) + f" | {pick} |")


if __name__ == "__main__":
    main()
