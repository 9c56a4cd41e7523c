"""optjax against golden trajectories from real torch 2.13 (CPU, float32).

The data is made by tests/golden/optimizers/gen_torch.py (committed with it):
12 steps on a three-leaf tree ((3, 4), (4,), (2, 3, 2); Muon: two matrices),
with torch's gradient pipeline ``grad *= rescale; clip_grad_norm_(c)`` and
parameter groups. The optjax side is
``chain(scale(rescale), clip_by_global_norm(c, eps=1e-6), partition({...}))``
with each group's optimizer from torch_mapping.optjax_for.

Tolerance: 1e-6 relative, 1e-7 absolute (float32), except where noted in
TOLERANCE (measured: torch's arithmetic order differs, see docs/optimizers-torch.md).
"""

from __future__ import annotations

import importlib.util
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optjax

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "..", "golden", "optimizers", "torch_golden.json")


def _load(name):
    spec = importlib.util.spec_from_file_location(f"_optjax_tests_{name}", os.path.join(HERE, f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


optjax_for = _load("torch_mapping").optjax_for

with open(GOLDEN) as f:
    DATA = json.load(f)
CASES = {c["name"]: c for c in DATA["cases"]}

# (rtol, atol) where torch's float arithmetic order makes 1e-6 impossible.
TOLERANCE = {
    # Newton-Schulz runs in bfloat16 in both; XLA's and torch's CPU bf16 matmuls
    # round differently (measured max abs diff: see test output / docs).
    "muon": (0.0, 4e-3),
    "muon_plain_rms": (0.0, 2e-3),
}
DEFAULT_TOL = (1e-6, 1e-7)


def build(case):
    hp0 = dict(case["defaults"])
    lr_changes = case.get("lr_changes") or {}

    def lr_for(base):
        if not lr_changes:
            return base
        steps = sorted((int(k), v) for k, v in lr_changes.items())

        def sched(count):  # count = 0 on the first update = torch step index k
            out = jnp.asarray(base, jnp.float32)
            for k, v in steps:
                out = jnp.where(count >= k, jnp.asarray(v, jnp.float32), out)
            return out
        return sched

    if case.get("groups"):
        txs, labels = {}, {}
        for i, g in enumerate(case["groups"]):
            hp = {**hp0, **{k: v for k, v in g.items() if k != "params"}}
            txs[f"group{i}"] = optjax_for(case["torch_class"], hp, lr_for(hp["lr"]))
            for n in g["params"]:
                labels[n] = f"group{i}"
        opt = optjax.partition(txs, labels)
    else:
        opt = optjax_for(case["torch_class"], hp0, lr_for(hp0["lr"]))
    parts = []
    if case.get("rescale") is not None:
        parts.append(optjax.scale(case["rescale"]))
    if case.get("clip") is not None:
        parts.append(optjax.clip_by_global_norm(case["clip"], eps=1e-6))
    return optjax.chain(*parts, opt) if parts else opt


def as_tree(d):
    return {k: jnp.asarray(np.asarray(v, np.float32)) for k, v in d.items()}


def run(case):
    tx = build(case)
    params = as_tree(case["init"])
    state = tx.init(params)
    step = jax.jit(lambda g, s, p: (lambda u, s2: (optjax.apply_updates(p, u), s2))(*tx.update(g, s, p)))
    out = []
    for g in case["grads"]:
        params, state = step(as_tree(g), state, params)
        out.append(params)
    return out, state


def max_diffs(case, traj):
    worst_abs, worst_rel = 0.0, 0.0
    for got, want in zip(traj, case["params"]):
        for k in want:
            w = np.asarray(want[k], np.float64)
            d = np.abs(np.asarray(got[k], np.float64) - w)
            worst_abs = max(worst_abs, float(d.max()))
            worst_rel = max(worst_rel, float((d / np.maximum(np.abs(w), 1e-3)).max()))
    return worst_abs, worst_rel


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    case = CASES[name]
    traj, state = run(case)
    rtol, atol = TOLERANCE.get(name, DEFAULT_TOL)
    for k_step, (got, want) in enumerate(zip(traj, case["params"])):
        for k in want:
            np.testing.assert_allclose(
                np.asarray(got[k]), np.asarray(want[k], np.float32), rtol=rtol, atol=atol,
                err_msg=f"{name}: leaf {k} after step {k_step + 1}")
    fs = case.get("final_state") or {}
    if "ax" in fs:  # ASGD's averaged params are kept and readable
        ax = state[-1].ax
        for k, v in fs["ax"].items():
            np.testing.assert_allclose(np.asarray(ax[k]), np.asarray(v, np.float32), rtol=1e-6, atol=1e-7)
    if "mu_product" in fs:  # NAdam's per-parameter mu_product is a readable state field
        got = {}
        for st in find_states(state, optjax.ScaleByNadamState):
            got.update({k: v for k, v in st.mu_product.items() if not isinstance(v, optjax.MaskedNode)})
        assert set(got) == set(fs["mu_product"])
        for k, v in fs["mu_product"].items():
            np.testing.assert_allclose(np.asarray(got[k]), np.float32(v), rtol=1e-6)


def find_states(state, cls):
    is_cls = lambda x: isinstance(x, cls)  # noqa: E731
    return [x for x in jax.tree.leaves(state, is_leaf=is_cls) if is_cls(x)]


def test_every_torch_optimizer_is_covered():
    O = pytest.importorskip("torch.optim")  # noqa: N806
    covered = {c["torch_class"] for c in DATA["cases"]}
    expected = {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam",
                "ASGD", "Rprop", "Adafactor", "Muon"}
    assert expected <= covered
    assert all(hasattr(O, c) for c in expected)


if __name__ == "__main__":  # print the measured differences (for the docs)
    for name in sorted(CASES):
        traj, _ = run(CASES[name])
        a, r = max_diffs(CASES[name], traj)
        print(f"{name:32s} max abs {a:.2e}  max rel {r:.2e}")
