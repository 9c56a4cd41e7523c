"""optjax.per_leaf: None and masked leaves, dtypes, errors, sharding, traces and recompiles."""

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


def _counting_momentum():
    """A momentum transform written like optjax's optimizers, whose per-leaf rule counts its traces."""
    from typing import Any, NamedTuple

    from optjax import numerics, per_leaf

    class State(NamedTuple):
        count: Any
        mu: Any

    traces = []

    @jax.jit
    def leaf(g, p, mu, *, lr):
        traces.append(g.shape)
        scale = 1.0 if lr is None else lr  # None stays None through the jit
        mu = 0.9 * mu + g
        return -scale * mu, (mu,)

    def init_fn(params):
        return State(numerics.zero_count(), per_leaf.zeros(params))

    def update_fn(updates, state, params=None, lr=None):
        updates, (mu,) = per_leaf.apply(leaf, updates, (state.mu,), lr=lr)
        return updates, State(numerics.safe_increment(state.count), mu)

    return optjax.GradientTransformation(init_fn, update_fn), traces


@pytest.mark.parametrize("lr_arg", [None, 0.5, jnp.float32(0.5)])
def test_rule_traced_once_per_leaf_signature(lr_arg):
    # 40 leaves of two shapes: the rule is traced once per (shape, dtype), not once per leaf.
    tx, traces = _counting_momentum()
    p = {f"a{i}": jnp.ones(3) for i in range(30)} | {f"b{i}": jnp.ones((2, 2)) for i in range(10)}
    g = jax.tree.map(lambda x: 0.1 * x, p)
    u, _ = jax.jit(tx.update)(g, tx.init(p), p, lr=lr_arg)
    assert sorted(traces) == [(2, 2), (3,)]
    want = -(0.5 if lr_arg is not None else 1.0) * 0.1
    for leaf in jax.tree.leaves(u):
        np.testing.assert_allclose(leaf, want, rtol=1e-6)


def test_eager_updates_reuse_the_traced_rule():
    # Eager calls (no jax.jit around update) trace the rule on the first call only.
    tx, traces = _counting_momentum()
    p = {"a": jnp.ones(3), "b": jnp.ones((2, 2)), "c": jnp.ones(3)}
    s = tx.init(p)
    for _ in range(4):
        u, s = tx.update(p, s, p, lr=0.5)
    assert sorted(traces) == [(2, 2), (3,)]


def test_cached_rule_gives_the_same_compiled_numbers_as_per_leaf_calls():
    # The shared jit is inlined by XLA: same numbers as evaluating the rule on each leaf directly.
    tx = optjax.adamw(1e-2, weight_decay=0.1)
    keys = jax.random.split(jax.random.PRNGKey(0), 8)
    p = {f"l{i}": jax.random.normal(k, (17,)) for i, k in enumerate(keys)}
    g = jax.tree.map(lambda x: jnp.sin(3.0 * x), p)
    u, s = jax.jit(tx.update)(g, tx.init(p), p)
    one = optjax.adamw(1e-2, weight_decay=0.1)
    for name in p:
        ui, si = jax.jit(one.update)({name: g[name]}, one.init({name: p[name]}), {name: p[name]})
        np.testing.assert_array_equal(u[name], ui[name])
        np.testing.assert_array_equal(s[0].mu[name], si[0].mu[name])
