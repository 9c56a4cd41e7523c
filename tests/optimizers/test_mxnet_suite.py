"""A small suite for the MXNet-side optimizers until the shared one is merged:
quadratic convergence, jit == eager, dtype preservation, bad input, SGLD's noise."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optjax
from optjax.compat.mxnet import recipes
from registry_mxnet import ENTRIES, NEEDS_2D, STOCHASTIC

IDS = [f"{n}-{i}" for i, (n, _) in enumerate(ENTRIES)]


def params_for(name, dtype=jnp.float32):
    if name in NEEDS_2D:
        return {"a": jnp.full((3, 2), 1.5, dtype), "b": jnp.full((2, 2), -1.0, dtype)}
    return {"a": jnp.full((3, 2), 1.5, dtype), "b": jnp.array([-1.0, 0.5, 2.0], dtype)}


def loss(p):
    return sum(jnp.sum(jnp.asarray(x, jnp.float32) ** 2) for x in jax.tree.leaves(p))


@pytest.mark.parametrize("name,kw", ENTRIES, ids=IDS)
def test_converges_on_quadratic(name, kw):
    if name in STOCHASTIC:
        pytest.skip("stochastic: see test_sgld_noise_distribution")
    tx = getattr(optjax, name)(**kw)
    p = params_for(name)
    s = tx.init(p)

    @jax.jit
    def step(p, s):
        u, s = tx.update(jax.grad(loss)(p), s, p)
        return optjax.apply_updates(p, u), s

    l0 = loss(p)
    for _ in range(300):
        p, s = step(p, s)
    assert loss(p) < 0.05 * l0, (name, float(loss(p)), float(l0))


@pytest.mark.parametrize("name,kw", ENTRIES, ids=IDS)
def test_jit_equals_eager(name, kw):
    tx = getattr(optjax, name)(**kw)
    p = params_for(name)
    g = jax.tree.map(lambda x: 0.3 * x + 0.1, p)
    s1 = s2 = tx.init(p)
    jitted = jax.jit(tx.update)
    for _ in range(3):
        u1, s1 = tx.update(g, s1, p)
        u2, s2 = jitted(g, s2, p)
        for a, b in zip(jax.tree.leaves(u1), jax.tree.leaves(u2)):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float32])
@pytest.mark.parametrize("name,kw", ENTRIES, ids=IDS)
def test_dtype_preserved(name, kw, dtype):
    tx = getattr(optjax, name)(**kw)
    p = params_for(name, dtype)
    s = tx.init(p)
    state_dtypes = [x.dtype for x in jax.tree.leaves(s)]
    u, s = tx.update(jax.tree.map(lambda x: x * 0.5, p), s, p)
    assert all(x.dtype == dtype for x in jax.tree.leaves(u))
    assert [x.dtype for x in jax.tree.leaves(s)] == state_dtypes


def test_none_gradient_leaf_left_alone():
    tx = optjax.nag(0.1, 0.9)
    p = {"a": jnp.ones(2), "b": jnp.ones(2)}
    s = tx.init(p)
    u, s2 = tx.update({"a": jnp.ones(2), "b": None}, s, p)
    assert u["b"] is None
    np.testing.assert_array_equal(s2.velocity["b"], s.velocity["b"])


# --- bad input -------------------------------------------------------------


@pytest.mark.parametrize("factory,kw,arg", [
    (optjax.nag, dict(learning_rate=-1.0), "learning_rate"),
    (optjax.nag, dict(momentum=1.5), "momentum"),
    (optjax.dcasgd, dict(lamda=-0.1), "lamda"),
    (optjax.signum, dict(learning_rate=0.1, beta=1.0), "beta"),
    (optjax.signum, dict(learning_rate=0.1, wd_lh=-1.0), "wd_lh"),
    (optjax.ftml, dict(b1=1.0), "b1"),
    (optjax.ftml, dict(learning_rate=0.0), "learning_rate"),
    (optjax.ftrl, dict(l1=-1.0), "l1"),
    (optjax.lbsgd, dict(batch_scale=0), "batch_scale"),
    (optjax.lbsgd, dict(warmup_strategy="cosine"), "warmup_strategy"),
    (optjax.lamb, dict(learning_rate=0.1, b2=1.0), "b2"),
    (optjax.lars, dict(learning_rate=0.1, trust_coefficient=-1.0), "trust_coefficient"),
    (optjax.lars, dict(learning_rate=0.1, trust_ratio_form="torch"), "trust_ratio_form"),
    (optjax.group_adagrad, dict(eps=-1.0), "eps"),
])
def test_invalid_hyperparameter_names_argument(factory, kw, arg):
    with pytest.raises(ValueError, match=arg):
        factory(**kw)


def test_sgld_without_key_is_clear_error():
    with pytest.raises(ValueError, match="key"):
        optjax.sgld(0.01)
    with pytest.raises(ValueError, match="key"):
        recipes.build("sgld", learning_rate=0.01)


def test_group_adagrad_names_non_2d_leaf():
    tx = optjax.group_adagrad(0.1)
    with pytest.raises(ValueError, match="enc/bias"):
        tx.init({"enc": {"kernel": jnp.ones((2, 3)), "bias": jnp.ones(3)}})


def test_recipe_bad_input():
    with pytest.raises(ValueError, match="unknown MXNet optimizer"):
        recipes.build("adamw", learning_rate=0.1)
    with pytest.raises(TypeError):
        recipes.build("adam", learning_rate=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="learning_rate"):
        recipes.build("sgd", learning_rate=-0.1)
    with pytest.raises(ValueError, match="wd"):
        recipes.build("groupadagrad", learning_rate=0.1, wd=0.1)


# --- SGLD: the distribution, not the numbers ----------------------------------


def test_sgld_noise_distribution():
    lr = 0.04
    tx = optjax.sgld(lr, key=jax.random.key(3))
    p = {"w": jnp.zeros((200, 50)), "v": jnp.zeros(10_000)}
    g = {"w": jnp.full((200, 50), 2.0), "v": jnp.full(10_000, 2.0)}
    s = tx.init(p)
    u, s = jax.jit(tx.update)(g, s, p)
    for x in jax.tree.leaves(u):
        x = np.asarray(x)
        # w += -lr/2 * g + N(0, lr): mean -lr, std sqrt(lr)
        assert abs(x.mean() - (-lr)) < 4 * np.sqrt(lr) / np.sqrt(x.size)
        assert abs(x.std() - np.sqrt(lr)) < 0.03 * np.sqrt(lr)
    u2, _ = tx.update(g, s, p)
    assert not np.allclose(np.asarray(u["w"]), np.asarray(u2["w"]))  # fresh noise each step
    # leaves draw independent noise
    assert abs(np.corrcoef(np.asarray(u["w"]).ravel(), np.asarray(u["v"])[:10_000])[0, 1]) < 0.05


def test_sgld_recipe_matches_mxnet_distribution():
    # MXNet: g' = clip(rs*g); w += -lr/2*(g' + wd*w) + N(0, sqrt(lr))
    lr, wd, rs, c = 0.01, 0.1, 0.5, 0.6
    tx = recipes.build("sgld", learning_rate=lr, wd=wd, rescale_grad=rs, clip_gradient=c, key=jax.random.key(1))
    w = jnp.full(40_000, 2.0)
    g = jnp.full(40_000, 4.0)
    u, _ = tx.update(g, tx.init(w), w)
    expected_mean = -lr / 2 * (min(rs * 4.0, c) + wd * 2.0)
    assert abs(float(u.mean()) - expected_mean) < 4 * np.sqrt(lr / 40_000)
    assert abs(float(u.std()) - np.sqrt(lr)) < 0.02 * np.sqrt(lr)


# --- recipes under jit with traced hyperparameters ---------------------------


def test_recipe_traced_lr_does_not_recompile():
    traces = []

    @jax.jit
    def step(g, s, w, lr, wd, rs):
        traces.append(1)
        tx = recipes.build("adam", learning_rate=lr, wd=wd, rescale_grad=rs, clip_gradient=0.5)
        u, s = tx.update(g, s, w)
        return optjax.apply_updates(w, u), s

    w = jnp.ones(3)
    s = recipes.build("adam", learning_rate=0.1, wd=0.0, rescale_grad=1.0, clip_gradient=0.5).init(w)
    for lr in (0.1, 0.05, 0.01):
        w, s = step(jnp.ones(3), s, w, jnp.float32(lr), jnp.float32(0.1), jnp.float32(0.5))
    assert len(traces) == 1


def test_nadam_shared_m_schedule_changes_results():
    # With one m_schedule per optimizer, a second parameter's update depends on
    # the first's; the recipe reproduces that when the shared value is threaded.
    w = jnp.ones(3)
    tx = recipes.build("nadam", learning_rate=0.01)
    s = tx.init(w)
    u_own, s1 = tx.update(jnp.ones(3), s, w)
    shared = recipes.get_m_schedule(s1)
    u_shared, _ = tx.update(jnp.ones(3), recipes.set_m_schedule(s, shared), w)
    assert not np.allclose(np.asarray(u_own), np.asarray(u_shared))
