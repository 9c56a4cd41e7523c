"""apply_updates and update_and_apply: numbers, and the in-place order update_and_apply gives XLA."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optjax

N = 1 << 12


def donated_step(tx, fused):
    def step(p, s, g):
        if fused:
            return optjax.update_and_apply(tx, g, s, p)
        u, s = tx.update(g, s, p)
        return optjax.apply_updates(p, u), s

    return jax.jit(step, donate_argnums=(0, 1))


def params():
    return {"w": jnp.linspace(-1.0, 1.0, N), "b": jnp.zeros(16, jnp.bfloat16)}


def grads(k):
    return {"w": jnp.sin(jnp.arange(N, dtype=jnp.float32) * 0.37 + k),
            "b": (jnp.cos(jnp.arange(16.0) + k) * 1e-2).astype(jnp.bfloat16)}


def temp_bytes(tx, fused):
    p = params()
    c = donated_step(tx, fused).lower(p, tx.init(p), grads(0)).compile()
    return c.memory_analysis().temp_size_in_bytes


def test_lion_state_is_written_in_place_only_with_update_and_apply():
    # Lion's update reads the old momentum; the plain donated step makes XLA copy it first.
    tx = optjax.lion(1e-3, weight_decay=0.1)
    assert temp_bytes(tx, fused=False) >= N * 4
    assert temp_bytes(tx, fused=True) < N * 4


@pytest.mark.parametrize("tx", [
    optjax.lion(1e-3, weight_decay=0.1),
    optjax.inject_hyperparams(optjax.lion)(learning_rate=1e-3),
    optjax.chain(optjax.clip_by_global_norm(1.0), optjax.lion(1e-3)),
    optjax.partition({"w": optjax.lion(1e-3), "b": optjax.sgd(1e-2)}, {"w": "w", "b": "b"}),
    optjax.MultiSteps(optjax.lion(1e-3), every_k_schedule=2),
    optax.lion(1e-3),
    optax.adabelief(1e-3),
    optax.adam(1e-3),
], ids=["lion", "inject", "chain", "partition", "multisteps", "optax-lion", "optax-adabelief", "optax-adam"])
def test_same_numbers_as_update_then_apply(tx):
    out = []
    for fused in (False, True):
        step = donated_step(tx, fused)
        p, s = params(), tx.init(params())
        for k in range(4):
            p, s = step(p, s, grads(k))
        out.append((p, s))
    for a, b in zip(jax.tree.leaves(out[0]), jax.tree.leaves(out[1])):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        assert a.dtype == b.dtype


@pytest.mark.parametrize("make", [lambda: optax.lion(1e-3), lambda: optax.adabelief(1e-3)],
                         ids=["optax-lion", "optax-adabelief"])
def test_optax_states_known_to_read_old_state_are_ordered_too(make):
    tx = make()
    assert temp_bytes(tx, fused=False) >= N * 4
    assert temp_bytes(tx, fused=True) < N * 4


def test_inject_hyperparams_lion_also_in_place():
    tx = optjax.inject_hyperparams(optjax.lion)(learning_rate=1e-3)
    assert temp_bytes(tx, fused=False) >= N * 4
    assert temp_bytes(tx, fused=True) < N * 4


def test_signed_zeros_nan_and_none_grads_kept():
    # The added dependency subtracts +0.0: -0.0 stays -0.0, NaN stays NaN, None grads keep their state.
    tx = optjax.lion(1e-3, b1=0.0, b2=0.0, weight_decay=0.0)
    p = {"w": jnp.ones(4), "v": jnp.ones(3)}
    s0 = jax.tree.map(lambda x: -x if jnp.issubdtype(x.dtype, jnp.floating) else x, tx.init(p))  # mu = -0.0
    g = {"w": jnp.array([-0.0, 0.0, jnp.nan, -2.0]), "v": None}
    _, s_plain = tx.update(g, s0, p)
    _, s = optjax.update_and_apply(tx, g, s0, p)
    mu, mu_plain = np.asarray(s[0].mu["w"]), np.asarray(s_plain[0].mu["w"])
    assert np.signbit(mu_plain[0]) and np.isnan(mu_plain[2])
    np.testing.assert_array_equal(np.signbit(mu), np.signbit(mu_plain))
    np.testing.assert_array_equal(mu, mu_plain)
    assert np.all(np.signbit(np.asarray(s[0].mu["v"])))  # untouched: still -0.0


def test_extra_args_reach_the_transform():
    tx = optjax.chain(optjax.sgd(1.0), optjax.reduce_lr_on_plateau(factor=0.5, patience=0))
    p = {"w": jnp.ones(2)}
    s = tx.init(p)
    for v in (1.0, 2.0, 3.0):
        p, s = optjax.update_and_apply(tx, {"w": jnp.ones(2)}, s, p, value=jnp.asarray(v))
    u, _ = tx.update({"w": jnp.ones(2)}, s, p, value=jnp.asarray(4.0))
    assert float(u["w"][0]) == pytest.approx(-0.125)


def test_mismatched_grads_raise_before_anything_changes():
    tx = optjax.lion(1e-3)
    p = params()
    with pytest.raises(ValueError, match="'b'|'bias'"):
        optjax.update_and_apply(tx, {"w": jnp.ones(N), "bias": jnp.ones(16)}, tx.init(p), p)


def test_sharding_kept_and_numbers_equal_on_8_devices():
    if len(jax.devices()) < 8:
        pytest.skip("needs 8 (simulated) devices")
    from jax.sharding import NamedSharding, PartitionSpec as P

    mesh = jax.make_mesh((8,), ("d",))
    row = NamedSharding(mesh, P("d"))
    tx = optjax.lion(1e-3, weight_decay=0.1)
    p0 = {"w": jnp.linspace(-1.0, 1.0, 64).reshape(16, 4), "b": jnp.ones(8)}
    g = {"w": jnp.sin(jnp.arange(64.0)).reshape(16, 4), "b": jnp.cos(jnp.arange(8.0))}
    p_sh = jax.device_put(p0, row)
    step = jax.jit(lambda p, s, g: optjax.update_and_apply(tx, g, s, p), donate_argnums=(0, 1))
    p1, s1 = step(p_sh, jax.jit(tx.init)(p_sh), jax.device_put(g, row))
    for name in p0:
        assert p1[name].sharding.is_equivalent_to(row, p1[name].ndim)
        assert s1[0].mu[name].sharding.is_equivalent_to(row, p1[name].ndim)
    u, s_ref = tx.update(g, tx.init(p0), p0)
    p_ref = optjax.apply_updates(p0, u)
    for a, b in zip(jax.tree.leaves((p1, s1)), jax.tree.leaves((p_ref, s_ref))):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("p, u", [
    (jnp.linspace(-1, 1, 5), jnp.linspace(0.3, 0.1, 5)),
    (jnp.linspace(-1, 1, 5, dtype=jnp.bfloat16), jnp.linspace(0.3, 0.1, 5)),
    (jnp.linspace(-1, 1, 5), jnp.linspace(0.3, 0.1, 5, dtype=jnp.bfloat16)),
    (jnp.asarray(0.5), jnp.asarray(0.25)),  # weakly typed param and update
    (0.5, jnp.float32(0.25)),
])
def test_apply_updates_add_is_the_plain_jnp_expression(p, u):
    """apply_updates's add (lax.add for one dtype) gives the bits, dtype and weak type of
    ``(p + u).astype(p.dtype)``, eagerly and traced."""

    def ref(p, u):
        p = jnp.asarray(p)
        return (p + jnp.asarray(u)).astype(p.dtype)

    def ours(p, u):
        return optjax.apply_updates({"w": p}, {"w": u})["w"]

    for got, want in ((ours(p, u), ref(p, u)), (jax.jit(ours)(p, u), jax.jit(ref)(p, u))):
        assert got.dtype == want.dtype and got.aval.weak_type == want.aval.weak_type
        np.testing.assert_array_equal(np.atleast_1d(got).view(np.uint8), np.atleast_1d(want).view(np.uint8))
