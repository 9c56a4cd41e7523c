"""MultiSteps, apply_if_finite, inject_hyperparams."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optjax


def p0():
    return {"w": jnp.array([1.0, -1.0]), "b": jnp.array([0.5])}


def test_multisteps_equals_big_batch_and_skips_inner():
    k = 3
    ms = optjax.MultiSteps(optjax.adam(0.1), every_k_schedule=k)
    ref = optjax.adam(0.1)
    p, pr = p0(), p0()
    s, sr = ms.init(p), ref.init(pr)
    step = jax.jit(ms.update)
    for big in range(2):
        gs = [jax.tree.map(lambda x: x * (i + 1 + big), p0()) for i in range(k)]
        for i, g in enumerate(gs):
            u, s = step(g, s, p)
            p = optjax.apply_updates(p, u)
            if i < k - 1:
                assert all(float(jnp.abs(x).sum()) == 0 for x in jax.tree.leaves(u))
                # the inner optimizer has not run: its count did not move
                assert int(s.inner_opt_state[0].count) == big
        mean = jax.tree.map(lambda *x: sum(x) / k, *gs)
        ur, sr = ref.update(mean, sr, pr)
        pr = optjax.apply_updates(pr, ur)
        assert bool(ms.has_updated(s))
    for a, b in zip(jax.tree.leaves(p), jax.tree.leaves(pr)):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_multisteps_inner_update_not_traced_in_skip_branch():
    calls = {"n": 0}

    def counting_update(u, s, p=None):
        calls["n"] += 1
        return u, s

    inner = optjax.GradientTransformation(lambda p: (), counting_update)
    ms = optjax.MultiSteps(inner, 4)
    s = ms.init(p0())
    jax.jit(ms.update)(p0(), s, p0())
    assert calls["n"] == 1  # traced once, for the update branch; lax.cond runs one branch


def test_multisteps_bad_k():
    with pytest.raises(ValueError, match="every_k_schedule"):
        optjax.MultiSteps(optjax.sgd(0.1), 0)


def test_apply_if_finite_skips_nan_and_keeps_state():
    tx = optjax.apply_if_finite(optjax.adam(0.1), max_consecutive_errors=2)
    p = p0()
    s = tx.init(p)
    u, s = tx.update(p0(), s, p)
    good_inner = s.inner_state
    bad = {"w": jnp.array([jnp.nan, 1.0]), "b": jnp.array([0.5])}
    u, s = jax.jit(tx.update)(bad, s, p)
    assert all(float(jnp.abs(x).sum()) == 0 for x in jax.tree.leaves(u))
    for a, b in zip(jax.tree.leaves(s.inner_state), jax.tree.leaves(good_inner)):
        np.testing.assert_array_equal(a, b)
    assert int(s.notfinite_count) == 1 and int(s.total_notfinite) == 1 and not bool(s.last_finite)
    u, s = tx.update(p0(), s, p)
    assert int(s.notfinite_count) == 0 and int(s.total_notfinite) == 1


def test_apply_if_finite_gives_up_after_max_errors():
    tx = optjax.apply_if_finite(optjax.sgd(0.1), max_consecutive_errors=1)
    s = tx.init(p0())
    bad = {"w": jnp.array([jnp.inf, 1.0]), "b": jnp.array([0.5])}
    u, s = tx.update(bad, s, p0())
    assert float(u["w"][1]) == 0.0
    u, s = tx.update(bad, s, p0())
    assert float(u["w"][1]) != 0.0


def test_inject_hyperparams_by_name_and_same_numbers():
    # Hyperparameters that float32 holds exactly give identical numbers; others
    # (b2=0.999) are rounded to float32 once when injected (see test_suite).
    hp = dict(learning_rate=0.125, b1=0.875, b2=1 - 2.0**-10, weight_decay=2.0**-7)
    tx = optjax.inject_hyperparams(optjax.adamw)(**hp)
    ref = optjax.adamw(**hp)
    p = p0()
    s, sr = tx.init(p), ref.init(p)
    assert float(s.hyperparams["learning_rate"]) == pytest.approx(0.125)
    for _ in range(3):
        u, s = jax.jit(tx.update)(p0(), s, p)
        ur, sr = ref.update(p0(), sr, p)
        for a, b in zip(jax.tree.leaves(u), jax.tree.leaves(ur)):
            np.testing.assert_array_equal(a, b)


def test_inject_hyperparams_change_without_recompiling():
    tx = optjax.inject_hyperparams(optjax.sgd)(learning_rate=0.1)
    p = p0()
    s = tx.init(p)
    step = jax.jit(tx.update)
    u1, s = step(p0(), s, p)
    s = optjax.set_hyperparams(s, learning_rate=0.01)
    u2, s = step(p0(), s, p)
    assert step._cache_size() == 1
    np.testing.assert_allclose(u2["w"], u1["w"] / 10, rtol=1e-6)
    assert float(optjax.get_hyperparam(s, "learning_rate")) == pytest.approx(0.01)
    with pytest.raises(KeyError):
        optjax.set_hyperparams(s, nope=1.0)


def test_inject_hyperparams_float32_for_bfloat16_params():
    p = jax.tree.map(lambda x: x.astype(jnp.bfloat16), p0())
    s = optjax.inject_hyperparams(optjax.adamw)(learning_rate=1e-3, b2=0.999).init(p)
    assert s.hyperparams["b2"].dtype == jnp.float32
    assert float(s.hyperparams["b2"]) == pytest.approx(0.999, rel=1e-7)
    # optax 0.2.8 rounds it to 1.0 (its issue 1414)
    so = optax.inject_hyperparams(optax.adamw)(learning_rate=1e-3, b2=0.999).init(p)
    assert float(so.hyperparams["b2"]) == 1.0


def test_inject_hyperparams_schedule_and_validation():
    tx = optjax.inject_hyperparams(optjax.sgd)(learning_rate=lambda t: 0.1 / (t + 1))
    s = tx.init(p0())
    _, s = tx.update(p0(), s, p0())
    _, s = tx.update(p0(), s, p0())
    assert float(s.hyperparams["learning_rate"]) == pytest.approx(0.05)
    with pytest.raises(ValueError, match="learning_rate"):
        optjax.inject_hyperparams(optjax.sgd)(learning_rate=-1.0)


def test_hyperparams_readable_inside_partition():
    tx = optjax.partition(
        {"a": optjax.inject_hyperparams(optjax.sgd)(learning_rate=0.1),
         "b": optjax.inject_hyperparams(optjax.sgd)(learning_rate=0.2)},
        {"w": "a", "b": "b"},
    )
    s = tx.init(p0())
    assert float(optjax.get_hyperparam(s.inner_states["b"], "learning_rate")) == pytest.approx(0.2)
    with pytest.raises(KeyError, match="different values"):
        optjax.get_hyperparam(s, "learning_rate")


def test_inject_hyperparams_keeps_prng_key_static():
    tx = optjax.inject_hyperparams(optjax.sgld)(learning_rate=1e-3, key=jax.random.key(0))
    s = tx.init(p0())
    assert "key" not in s.hyperparams and "learning_rate" in s.hyperparams
    u, _ = jax.jit(tx.update)(p0(), s, p0())
    assert u["w"].dtype == jnp.float32


def test_inject_hyperparams_keeps_integers_as_optax_and_guards_setting_floats():
    """optax stores injected integers as integers; setting a float there would truncate."""
    p = p0()
    s = optjax.inject_hyperparams(optjax.sgd)(learning_rate=1).init(p)
    assert s.hyperparams["learning_rate"].dtype == jnp.int32
    assert optax.inject_hyperparams(optax.sgd)(learning_rate=1).init(p).hyperparams["learning_rate"].dtype == jnp.int32
    with pytest.raises(TypeError, match="learning_rate"):
        optjax.set_hyperparams(s, learning_rate=0.5)
    assert int(optjax.set_hyperparams(s, learning_rate=2).hyperparams["learning_rate"]) == 2


def test_inject_hyperparams_stateful_schedule_state_as_optax():
    """A schedule's count lives in ``hyperparams_states`` (optax's WrappedSchedule)."""
    sched = optjax.linear_schedule(0.1, 0.0, 4)
    tx = optjax.inject_hyperparams(optjax.sgd)(learning_rate=sched)
    s = tx.init(p0())
    for k in range(3):
        _, s = tx.update(p0(), s, p0())
        assert int(s.hyperparams_states["learning_rate"].count) == k + 1
    np.testing.assert_allclose(float(s.hyperparams["learning_rate"]), float(sched(2)), rtol=1e-6)
