"""Print optjax's distance to every golden (float32 ulps and absolute/base_lr).

``python tests/golden/schedules/measure.py`` from the repository root; the
numbers are quoted in docs/schedules.md.
"""

import os
import sys

import jax
import jax.numpy as jnp
import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(_HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(_HERE, "..", "..", "schedules"))
import _golden as G  # noqa: E402


def report(name, sched, lrs, scale):
    got = np.asarray(jax.jit(jax.vmap(sched))(jnp.arange(len(lrs))))
    u = G.ulps(got, lrs)
    err = np.max(np.abs(got - np.asarray(lrs))) / scale
    print(f"| {name} | {u.max():.0f} | {err:.1e} |")


def main():
    print("| case | max float32 ulps | max abs error / base lr |\n|---|---|---|")
    for c in G.load("torch.json")["cases"]:
        report("torch " + c["name"], G.build_torch(c["spec"], c["base_lr"], len(c["lrs"])),
               c["lrs"], max(abs(x) for x in c["lrs"]))
    for c in G.load("mxnet.json")["cases"]:
        report("mxnet " + c["name"], G.build_mxnet(c), c["lrs"], max(abs(x) for x in c["lrs"]))


if __name__ == "__main__":
    main()
