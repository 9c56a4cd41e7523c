"""Generate golden L-BFGS trajectories with real torch (2.13, CPU, float64).

Run from the repository root:  python tests/golden/optimizers/gen_torch_lbfgs.py
Writes tests/golden/optimizers/torch_lbfgs.json.

``torch.optim.LBFGS(lr, max_iter=1, history_size=m, line_search_fn=None)``: one L-BFGS
iteration per ``step(closure)``, a fixed step ``lr`` after the first (the first is
``lr * min(1, 1 / |g|_1)``; the problems start with ``|g|_1 <= 1`` so it is ``lr``, as in
optax's ``min(1, 1 / |g|_2)``). Each case records the problem's data, the start point and
the params after every step; tests/optimizers/test_lbfgs.py replays it with
``optjax.lbfgs(learning_rate=lr, memory_size=m, linesearch=None)``.
"""

from __future__ import annotations

import json
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_lbfgs.json")


def quadratic(n, seed):
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(n, n))
    a = m @ m.T / n + np.eye(n) * 0.5
    b = rng.normal(size=n)
    return {"kind": "quadratic", "A": a.tolist(), "b": b.tolist()}


def logistic(n, d, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = (rng.uniform(size=n) < 0.5).astype(np.float64) * 2 - 1
    return {"kind": "logistic", "X": x.tolist(), "y": y.tolist(), "l2": 0.1}


def torch_loss(problem, w):
    if problem["kind"] == "quadratic":
        a = torch.tensor(problem["A"], dtype=torch.float64)
        b = torch.tensor(problem["b"], dtype=torch.float64)
        return 0.5 * w @ a @ w - b @ w
    x = torch.tensor(problem["X"], dtype=torch.float64)
    y = torch.tensor(problem["y"], dtype=torch.float64)
    return torch.nn.functional.softplus(-y * (x @ w)).mean() + 0.5 * problem["l2"] * (w @ w)


def scaled(problem):
    """Scale the loss so the gradient at 0 has L1 norm 0.5."""
    w0 = torch.zeros(len(problem.get("b", problem.get("X", [[0]])[0])), dtype=torch.float64, requires_grad=True)
    g = torch.autograd.grad(torch_loss(problem, w0), w0)[0]
    problem["scale"] = 0.5 / float(g.abs().sum())
    return problem


def main():
    torch.manual_seed(0)
    cases = []
    for name, problem, dim, lr, history, steps in [
        ("quadratic_m10_lr1", quadratic(6, 0), 6, 1.0, 10, 8),
        ("quadratic_m3_lr0.5", quadratic(6, 1), 6, 0.5, 3, 12),
        ("logistic_m5_lr1", logistic(40, 5, 2), 5, 1.0, 5, 10),
        ("logistic_m2_lr0.7", logistic(40, 5, 3), 5, 0.7, 2, 10),
    ]:
        problem = scaled(problem)

        def loss(p, w):
            return p["scale"] * torch_loss(p, w)

        traj = run_scaled(problem, dim, lr, history, steps, loss)
        cases.append({"name": name, "problem": problem, "dim": dim, "lr": lr, "history_size": history,
                      "steps": steps, "params": traj})
    with open(OUT, "w") as fh:
        json.dump({"torch": torch.__version__, "cases": cases}, fh)
    print(f"wrote {os.path.relpath(OUT)} ({len(cases)} cases)")


def run_scaled(problem, dim, lr, history, steps, loss_fn):
    w = torch.zeros(dim, dtype=torch.float64, requires_grad=True)
    g0 = torch.autograd.grad(loss_fn(problem, w), w)[0]
    assert float(g0.abs().sum()) <= 1.0 + 1e-12
    opt = torch.optim.LBFGS([w], lr=lr, max_iter=1, history_size=history, line_search_fn=None,
                            tolerance_grad=1e-300, tolerance_change=1e-300)

    def closure():
        opt.zero_grad()
        value = loss_fn(problem, w)
        value.backward()
        return value

    traj = []
    for _ in range(steps):
        opt.step(closure)
        traj.append(w.detach().numpy().copy().tolist())
    return traj


if __name__ == "__main__":
    main()
