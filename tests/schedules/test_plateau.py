"""reduce_lr_on_plateau against torch 2.13's ReduceLROnPlateau fed noisy metrics."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optjax
from tests.schedules import _golden as G

CASES = G.load("plateau.json")["cases"]


def group_args(case, g):
    args = dict(case["args"])
    if isinstance(args.get("min_lr"), list):
        args["min_lr"] = args["min_lr"][g]
    return args


def run(tx, values):
    params = {"w": jnp.zeros(3)}
    state = tx.init(params)

    def body(s, v):
        u, s = tx.update({"w": jnp.ones(3)}, s, params, value=v)
        return s, (s.lr, s.scale, s.best, s.num_bad_epochs, s.cooldown_counter, u["w"][0])

    return jax.jit(lambda vs: jax.lax.scan(body, state, vs))(jnp.asarray(values, jnp.float32))


def test_cases_cover_the_options():
    args = [c["args"] for c in CASES]
    assert {a["mode"] for a in args} == {"min", "max"}
    assert {a.get("threshold_mode", "rel") for a in args} == {"rel", "abs"}
    assert any(a.get("cooldown", 0) > 0 for a in args)
    assert any(a.get("min_lr", 0) != 0 for a in args)
    assert any("eps" in a for a in args)
    assert any(len(c["lrs0"]) > 1 for c in CASES)
    for c in CASES:  # every case reduces at least twice
        assert len({r["lrs"][0] for r in c["rows"]}) >= 3, c["name"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_plateau_golden(case):
    rows = case["rows"]
    for g, lr0 in enumerate(case["lrs0"]):
        tx = optjax.reduce_lr_on_plateau(lr0, **group_args(case, g))
        final, (lr, scale, best, bad, cool, upd) = run(tx, case["values"])
        want_lr = np.asarray([r["lrs"][g] for r in rows], np.float32)
        np.testing.assert_array_equal(np.asarray(lr), want_lr)
        np.testing.assert_array_equal(np.asarray(best), np.asarray([r["best"] for r in rows], np.float32))
        np.testing.assert_array_equal(np.asarray(bad), [r["num_bad_epochs"] for r in rows])
        np.testing.assert_array_equal(np.asarray(cool), [r["cooldown_counter"] for r in rows])
        np.testing.assert_allclose(np.asarray(scale), want_lr / lr0, rtol=1e-6)
        np.testing.assert_allclose(np.asarray(upd), want_lr / lr0, rtol=1e-6)
        assert int(final.last_epoch) == len(rows)


def test_plateau_in_chain_with_param_groups():
    """Torch's two param groups (lr 0.1 and 0.01, own min_lr) as a partition of
    chains sgd(lr) -> reduce_lr_on_plateau(lr): ``value`` reaches both."""
    case = next(c for c in CASES if c["name"] == "min_rel_groups")
    (lr_a, lr_b), args = case["lrs0"], case["args"]

    def group(lr, min_lr):
        plateau = optjax.reduce_lr_on_plateau(lr, **{**args, "min_lr": min_lr})
        return optjax.chain(optjax.sgd(lr), plateau)

    tx = optjax.partition({"a": group(lr_a, args["min_lr"][0]), "b": group(lr_b, args["min_lr"][1])},
                          {"a": "a", "b": "b"})
    params = {"a": jnp.zeros(2), "b": jnp.zeros(2)}
    grads = {"a": jnp.ones(2), "b": jnp.ones(2)}

    def body(s, v):
        u, s = tx.update(grads, s, params, value=v)
        return s, (u["a"][0], u["b"][0])

    _, (ua, ub) = jax.jit(lambda vs: jax.lax.scan(body, tx.init(params), vs))(
        jnp.asarray(case["values"], jnp.float32))
    want = np.asarray([r["lrs"] for r in case["rows"]])
    np.testing.assert_allclose(-np.asarray(ua), want[:, 0], rtol=1e-6)
    np.testing.assert_allclose(-np.asarray(ub), want[:, 1], rtol=1e-6)


def test_plateau_needs_value_and_no_recompile():
    tx = optjax.reduce_lr_on_plateau(0.1, patience=0)
    state = tx.init({"w": jnp.zeros(2)})
    with pytest.raises(TypeError):
        tx.update({"w": jnp.ones(2)}, state)
    traces = []

    @jax.jit
    def step(s, v):
        traces.append(1)
        return tx.update({"w": jnp.ones(2)}, s, value=v)[1]

    for v in (1.0, 2.0, 3.0, 0.5):
        state = step(state, jnp.float32(v))
    assert len(traces) == 1
    assert int(state.num_reductions) == 2
    assert float(state.best) == 0.5


@pytest.mark.parametrize("bad, name", [
    (dict(mode="mean"), "mode"),
    (dict(threshold_mode="pct"), "threshold_mode"),
    (dict(factor=1.0), "factor"),
    (dict(factor=-0.1), "factor"),
    (dict(patience=-1), "patience"),
    (dict(cooldown=-2), "cooldown"),
    (dict(min_lr=-1e-3), "min_lr"),
    (dict(eps=-1.0), "eps"),
    (dict(threshold=-1e-4), "threshold"),
    (dict(learning_rate=0.0), "learning_rate"),
])
def test_plateau_bad_arguments(bad, name):
    with pytest.raises(ValueError, match=name):
        optjax.reduce_lr_on_plateau(**bad)
