"""The rule-lifting plumbing: None and masked leaves, dtypes, errors, sharding, recompiles."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import NamedSharding, PartitionSpec as P

import optjax


def params():
    return {"w": jnp.ones((4, 2)), "b": jnp.zeros(2), "aux": jnp.ones(3)}


def test_none_grad_gives_none_update_and_keeps_state():
    tx = optjax.adam(0.1)
    p = params()
    s = tx.init(p)
    g = {"w": jnp.ones((4, 2)), "b": jnp.ones(2), "aux": None}
    u, s2 = jax.jit(tx.update)(g, s, p)
    assert u["aux"] is None
    np.testing.assert_array_equal(s2[0].mu["aux"], s[0].mu["aux"])
    assert float(jnp.abs(s2[0].mu["w"]).sum()) > 0
    out = optjax.apply_updates(p, u)
    np.testing.assert_array_equal(out["aux"], p["aux"])


def test_grad_tree_mismatch_names_first_path():
    tx = optjax.adam(0.1)
    s = tx.init(params())
    with pytest.raises(ValueError, match="'b'|'bias'"):
        tx.update({"w": jnp.ones((4, 2)), "bias": jnp.ones(2), "aux": jnp.ones(3)}, s, params())


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float32])
def test_dtype_preserved(dtype):
    p = jax.tree.map(lambda x: x.astype(dtype), params())
    tx = optjax.adamw(0.1, weight_decay=0.1)
    s = tx.init(p)
    u, s2 = jax.jit(tx.update)(jax.tree.map(lambda x: x + 1, p), s, p)
    for leaf in jax.tree.leaves(u):
        assert leaf.dtype == dtype
    assert jax.tree.map(lambda a: a.dtype, s2) == jax.tree.map(lambda a: a.dtype, s)


def test_float64_preserved():
    with jax.enable_x64(True):
        p = {"w": jnp.ones(3, jnp.float64)}
        tx = optjax.adam(0.1)
        u, s = jax.jit(tx.update)(p, tx.init(p), p)
        assert u["w"].dtype == jnp.float64
        assert s[0].mu["w"].dtype == jnp.float64


def test_separate_state_dtypes():
    p = {"w": jnp.ones(3, jnp.bfloat16)}
    s = optjax.adam(0.1, mu_dtype=jnp.float32, nu_dtype=jnp.float32).init(p)
    assert s[0].mu["w"].dtype == jnp.float32 and s[0].nu["w"].dtype == jnp.float32


def test_no_recompilation_on_second_call():
    tx = optjax.chain(optjax.clip_by_global_norm(1.0), optjax.adamw(0.1))
    p = params()
    step = jax.jit(tx.update)
    s = tx.init(p)
    u, s = step(p, s, p)
    before = step._cache_size()
    for _ in range(3):
        u, s = step(p, s, p)
    assert step._cache_size() == before == 1


def test_state_follows_param_sharding_also_under_jitted_init():
    mesh = jax.make_mesh((8,), ("d",), axis_types=(jax.sharding.AxisType.Auto,))
    sh = NamedSharding(mesh, P("d"))
    p = {"w": jax.device_put(jnp.ones((16, 4)), sh), "v": jax.device_put(jnp.ones(8), sh)}
    for init in (optjax.adam(0.1).init, jax.jit(optjax.adam(0.1).init)):
        s = init(p)
        assert s[0].mu["w"].sharding.is_equivalent_to(sh, 2)
        assert s[0].nu["v"].sharding.is_equivalent_to(sh, 1)


def test_data_parallel_step_matches_single_device():
    mesh = jax.make_mesh((8,), ("data",), axis_types=(jax.sharding.AxisType.Auto,))
    x = jax.random.normal(jax.random.PRNGKey(0), (64, 3))
    y = x @ jnp.array([2.0, -3.4, 1.0]) + 4.2
    params = {"w": jnp.zeros(3), "b": jnp.zeros(())}
    tx = optjax.chain(optjax.clip_by_global_norm(10.0), optjax.adamw(0.1, weight_decay=1e-3))

    def loss(p, x, y):
        return jnp.mean((x @ p["w"] + p["b"] - y) ** 2)

    @jax.jit
    def step(p, s, x, y):
        g = jax.grad(loss)(p, x, y)
        u, s = tx.update(g, s, p)
        return optjax.apply_updates(p, u), s

    def train(p, x, y):
        s = tx.init(p)
        for _ in range(5):
            p, s = step(p, s, x, y)
        return p

    single = train(params, x, y)
    xs = jax.device_put(x, NamedSharding(mesh, P("data")))
    ys = jax.device_put(y, NamedSharding(mesh, P("data")))
    rep = jax.device_put(params, NamedSharding(mesh, P()))
    multi = train(rep, xs, ys)
    for a, b in zip(jax.tree.leaves(single), jax.tree.leaves(multi)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
