"""L-BFGS and the backtracking line search: torch 2.13 golden data and live optax 0.2.8.

Golden: tests/golden/optimizers/torch_lbfgs.json (generator gen_torch_lbfgs.py next to it):
``torch.optim.LBFGS(lr, max_iter=1, history_size=m, line_search_fn=None)`` replayed with
``optjax.lbfgs(learning_rate=lr, memory_size=m, linesearch=None)`` in float64.

One measured difference: torch stores a curvature pair only when ``<y, s> > 1e-10``; optax
(and optjax, which keeps optax's state and numbers) stores every pair (weight 0 when
``<y, s> = 0``). The trajectories agree to 1e-16 until torch first skips a pair (near
convergence, e.g. step 8 of ``logistic_m5_lr1``), so the replay stops there.
"""

from __future__ import annotations

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optjax

GOLDEN = os.path.join(os.path.dirname(__file__), "..", "golden", "optimizers", "torch_lbfgs.json")
with open(GOLDEN) as fh:
    CASES = json.load(fh)["cases"]


def jax_loss(problem):
    sc = problem["scale"]
    if problem["kind"] == "quadratic":
        a, b = jnp.asarray(problem["A"]), jnp.asarray(problem["b"])
        return lambda w: sc * (0.5 * w @ a @ w - b @ w)
    x, y, l2 = jnp.asarray(problem["X"]), jnp.asarray(problem["y"]), problem["l2"]
    return lambda w: sc * (jnp.mean(jax.nn.softplus(-y * (x @ w))) + 0.5 * l2 * (w @ w))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_matches_torch_lbfgs(case):
    with jax.enable_x64(True):
        f = jax_loss(case["problem"])
        tx = optjax.lbfgs(learning_rate=case["lr"], memory_size=case["history_size"], linesearch=None)
        w = jnp.zeros(case["dim"], jnp.float64)
        state = tx.init(w)
        compared = 0
        for step, expected in enumerate(case["params"]):
            g = jax.grad(f)(w)
            lbfgs_state = state[0]
            if step > 0 and float(jnp.vdot(g - lbfgs_state.updates, w - lbfgs_state.params)) <= 1e-10:
                break  # torch skips this curvature pair (see the module docstring)
            u, state = tx.update(g, state, w)
            w = optjax.apply_updates(w, u)
            np.testing.assert_allclose(np.asarray(w), np.asarray(expected), rtol=1e-12, atol=1e-14,
                                       err_msg=f"{case['name']} step {step}")
            compared += 1
        assert compared >= 8


optax = pytest.importorskip("optax")


def rosenbrock(p):
    x, y = p["x"], p["y"]
    return jnp.sum(100.0 * (y - x**2) ** 2 + (1.0 - x) ** 2)


def start():
    return {"x": jnp.array([-1.2, 0.3, 0.8]), "y": jnp.array([1.0, -0.5, 0.6])}


def run(tx, steps=12, value_fn=rosenbrock, extra=True):
    p = start()
    s = tx.init(p)
    traj = []
    update = jax.jit(tx.update, static_argnames=("value_fn",))  # one compile, not one trace per step
    for _ in range(steps):
        v, g = jax.value_and_grad(value_fn)(p)
        kw = dict(value=v, grad=g, value_fn=value_fn) if extra else {}
        u, s = update(g, s, p, **kw)
        p = jax.tree.map(lambda a, b: a + b, p, u)
        traj.append(p)
    return traj, s


def leaf_paths(tree):
    return [(jax.tree_util.keystr(k), jnp.shape(v)) for k, v in jax.tree_util.tree_flatten_with_path(tree)[0]]


@pytest.mark.parametrize("kw", [dict(max_backtracking_steps=20), dict(max_backtracking_steps=15, store_grad=True),
                                dict(max_backtracking_steps=30, decrease_factor=0.5, increase_factor=2.0,
                                     slope_rtol=1e-3, rtol=1e-6)],
                         ids=["default", "store_grad", "options"])
@pytest.mark.parametrize("memory_size", [3, 10])
def test_lbfgs_backtracking_matches_optax(kw, memory_size):
    ours, s_ours = run(optjax.lbfgs(memory_size=memory_size, linesearch=optjax.scale_by_backtracking_linesearch(**kw)))
    theirs, s_theirs = run(optax.lbfgs(memory_size=memory_size,
                                       linesearch=optax.scale_by_backtracking_linesearch(**kw)))
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for k in a:
            np.testing.assert_allclose(np.asarray(a[k]), np.asarray(b[k]), rtol=2e-5, atol=1e-6,
                                       err_msg=f"step {step} {k}")
    assert leaf_paths(s_ours) == leaf_paths(s_theirs)


@pytest.mark.parametrize("lr, scale_init", [(None, True), (0.01, False), (optax.linear_schedule(0.02, 0.002, 8), True)])
def test_lbfgs_without_linesearch_matches_optax(lr, scale_init):
    kw = dict(learning_rate=lr, memory_size=4, scale_init_precond=scale_init, linesearch=None)
    f = lambda p: jnp.sum((p["x"] - 1.0) ** 2) + 0.3 * jnp.sum(p["y"] ** 4)  # noqa: E731
    ours, s_ours = run(optjax.lbfgs(**kw), value_fn=f, extra=False)
    theirs, s_theirs = run(optax.lbfgs(**kw), value_fn=f, extra=False)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(a["x"]), np.asarray(b["x"]), rtol=1e-5, atol=1e-6)
    assert leaf_paths(s_ours) == leaf_paths(s_theirs)


def test_backtracking_alone_matches_optax_and_value_fn_kwargs():
    def f(p, shift):
        return jnp.sum((p["x"] - shift) ** 2) + jnp.sum(p["y"] ** 2)

    for lib in (optjax, optax):
        tx = lib.chain(lib.scale(-1.0), lib.scale_by_backtracking_linesearch(10, store_grad=True))
        p = start()
        s = tx.init(p)
        v, g = jax.value_and_grad(f)(p, 2.0)
        u, s = tx.update(g, s, p, value=v, grad=g, value_fn=f, shift=2.0)
        if lib is optjax:
            ours = (u, s)
        else:
            theirs = (u, s)
    np.testing.assert_allclose(np.asarray(ours[0]["x"]), np.asarray(theirs[0]["x"]), rtol=1e-6)
    np.testing.assert_allclose(float(ours[1][1].learning_rate), float(theirs[1][1].learning_rate), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(ours[1][1].grad["y"]), np.asarray(theirs[1][1].grad["y"]), rtol=1e-6)


def test_backtracking_rejects_unknown_kwargs():
    tx = optjax.scale_by_backtracking_linesearch(5)
    p = start()
    v, g = jax.value_and_grad(rosenbrock)(p)
    with pytest.raises(TypeError, match="value_fn"):
        tx.update(g, tx.init(p), p, value=v, grad=g, value_fn=rosenbrock, bogus=1)


def test_value_and_grad_from_state_reuses_stored_grad():
    tx = optjax.lbfgs(linesearch=optjax.scale_by_backtracking_linesearch(15, store_grad=True))
    vg = optjax.value_and_grad_from_state(rosenbrock)
    p = start()
    s = tx.init(p)
    for _ in range(3):
        v, g = vg(p, state=s)
        u, s = tx.update(g, s, p, value=v, grad=g, value_fn=rosenbrock)
        p = optjax.apply_updates(p, u)
    v_ref, g_ref = jax.value_and_grad(rosenbrock)(p)
    v, g = vg(p, state=s)
    np.testing.assert_allclose(float(v), float(v_ref), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(g["x"]), np.asarray(g_ref["x"]), rtol=1e-5)


@pytest.mark.parametrize("kw", [None, dict(max_linesearch_steps=15, initial_guess_strategy="keep"),
                                dict(max_linesearch_steps=30, max_learning_rate=0.8, curv_rtol=0.5,
                                     approx_dec_rtol=None, increase_factor=3.0)],
                         ids=["lbfgs_default", "keep", "options"])
def test_lbfgs_zoom_matches_optax(kw):
    ours_tx = optjax.lbfgs() if kw is None else optjax.lbfgs(linesearch=optjax.scale_by_zoom_linesearch(**kw))
    theirs_tx = optax.lbfgs() if kw is None else optax.lbfgs(linesearch=optax.scale_by_zoom_linesearch(**kw))
    ours, s_ours = run(ours_tx, steps=15)
    theirs, s_theirs = run(theirs_tx, steps=15)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for k in a:
            np.testing.assert_allclose(np.asarray(a[k]), np.asarray(b[k]), rtol=2e-5, atol=1e-6,
                                       err_msg=f"step {step} {k}")
    assert leaf_paths(s_ours) == leaf_paths(s_theirs)


def test_zoom_linesearch_alone_matches_optax_with_value_fn_kwargs():
    def f(p, shift):
        return jnp.sum((p["x"] - shift) ** 4) + jnp.sum(p["y"] ** 2)

    out = {}
    for lib in (optjax, optax):
        tx = lib.chain(lib.scale(-1.0), lib.scale_by_zoom_linesearch(20))
        p = start()
        v, g = jax.value_and_grad(f)(p, 2.0)
        u, s = tx.update(g, tx.init(p), p, value=v, grad=g, value_fn=f, shift=2.0)
        out[lib.__name__] = (u, s[1])
    (u1, s1), (u2, s2) = out["optjax"], out["optax"]
    np.testing.assert_allclose(float(s1.learning_rate), float(s2.learning_rate), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(u1["x"]), np.asarray(u2["x"]), rtol=1e-6)
    assert int(s1.info.num_linesearch_steps) == int(s2.info.num_linesearch_steps)
    with pytest.raises(TypeError, match="value_fn"):
        tx = optjax.scale_by_zoom_linesearch(5)
        p = start()
        v, g = jax.value_and_grad(f)(p, 2.0)
        tx.update(g, tx.init(p), p, value=v, grad=g, value_fn=f, shift=2.0, bogus=1)


def test_memory_size_checked():
    with pytest.raises(ValueError, match="memory_size"):
        optjax.scale_by_lbfgs(memory_size=0)
