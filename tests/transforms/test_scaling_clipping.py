"""scale, scale_by_learning_rate, lr_mult, clip, clip_by_global_norm: hand-derived numbers."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optjax


def grads():
    return {"dense": {"kernel": jnp.array([[3.0, -4.0]]), "bias": jnp.array([1.0])}, "head": {"bias": jnp.array([-2.0])}}


@pytest.mark.parametrize("jit", [False, True])
def test_scale_and_lr(jit):
    f = jax.jit if jit else (lambda x: x)
    tx = optjax.scale_by_learning_rate(0.5)
    u, _ = f(tx.update)(grads(), tx.init(grads()))
    np.testing.assert_allclose(u["dense"]["kernel"], [[-1.5, 2.0]])


def test_lr_schedule_evaluated_from_step_zero():
    tx = optjax.scale_by_learning_rate(lambda t: 1.0 / (t + 1))
    s = tx.init(grads())
    seen = []
    for _ in range(3):
        u, s = jax.jit(tx.update)(grads(), s)
        seen.append(float(u["head"]["bias"][0]))
    np.testing.assert_allclose(seen, [2.0, 1.0, 2.0 / 3], rtol=1e-6)


def test_lr_mult_forms():
    g = grads()
    by_pattern = optjax.lr_mult({"head/*": 10.0, "*bias": 0.5})
    u, _ = by_pattern.update(g, by_pattern.init(g), g)
    np.testing.assert_allclose(u["head"]["bias"], [-20.0])  # first match wins
    np.testing.assert_allclose(u["dense"]["bias"], [0.5])
    np.testing.assert_allclose(u["dense"]["kernel"], [[3.0, -4.0]])
    tree = {"dense": {"kernel": 2.0, "bias": 0.0}, "head": {"bias": 1.0}}
    u2, _ = optjax.lr_mult(tree).update(g, (), g)
    np.testing.assert_allclose(u2["dense"]["kernel"], [[6.0, -8.0]])
    np.testing.assert_allclose(u2["dense"]["bias"], [0.0])
    u3, _ = optjax.lr_mult(lambda p: jax.tree.map(lambda _: 3.0, p)).update(g, (), g)
    np.testing.assert_allclose(u3["head"]["bias"], [-6.0])


def test_lr_mult_bad_input():
    g = grads()
    with pytest.raises(ValueError, match="dense/bias"):
        optjax.lr_mult({"*bias": -1.0}).update(g, (), g)
    with pytest.raises(ValueError, match="match no parameter"):
        optjax.lr_mult({"*gamma": 2.0}).update(g, (), g)
    with pytest.raises(ValueError, match="params"):
        optjax.lr_mult({"dense": {"kernel": 2.0}}).update(g, (), g)


def test_clip_elementwise():
    u, _ = optjax.clip(2.5).update(grads(), ())
    np.testing.assert_allclose(u["dense"]["kernel"], [[2.5, -2.5]])
    np.testing.assert_allclose(u["head"]["bias"], [-2.0])


def test_clip_by_global_norm():
    g = grads()  # norm sqrt(9 + 16 + 1 + 4) = sqrt(30)
    u, _ = jax.jit(optjax.clip_by_global_norm(1.0).update)(g, ())
    np.testing.assert_allclose(u["dense"]["kernel"], np.array([[3.0, -4.0]]) / np.sqrt(30), rtol=1e-6)
    u, _ = optjax.clip_by_global_norm(100.0).update(g, ())
    np.testing.assert_allclose(u["dense"]["kernel"], [[3.0, -4.0]])


@pytest.mark.parametrize("bad", [
    lambda: optjax.scale_by_learning_rate(-0.1),
    lambda: optjax.scale_by_learning_rate(float("nan")),
    lambda: optjax.clip(-1.0),
    lambda: optjax.clip_by_global_norm(0.0),
    lambda: optjax.add_decayed_weights(-1e-4),
    lambda: optjax.adam(1e-3, b1=1.0),
    lambda: optjax.sgd(0.1, momentum=1.5),
])
def test_bad_hyperparameters_raise_at_construction(bad):
    with pytest.raises(ValueError):
        bad()


def test_error_names_argument():
    with pytest.raises(ValueError, match="learning_rate"):
        optjax.sgd(-1.0)
    with pytest.raises(ValueError, match="b2"):
        optjax.adam(b2=-0.1)


def test_lr_mult_bad_regex_is_a_value_error_naming_the_pattern():
    with pytest.raises(ValueError, match=r"lr_mult: pattern 're:head\(' is not a valid regular expression"):
        optjax.lr_mult({"re:head(": 2.0})


def test_clip_by_global_norm_injected_under_jit_as_optax():
    import optax

    g = {"w": jnp.arange(6.0).reshape(2, 3)}
    outs = []
    for lib in (optjax, optax):
        tx = lib.inject_hyperparams(lib.clip_by_global_norm)(0.1)
        state = jax.jit(tx.init)(g)
        state.hyperparams["max_norm"] = jnp.asarray(2.0)
        outs.append(jax.jit(tx.update)(g, state)[0]["w"])
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-6)
    np.testing.assert_allclose(float(jnp.linalg.norm(outs[0])), 2.0, rtol=1e-6)


_SCALARS = [0.1, 3, np.float64(0.1), jnp.float32(0.1), jnp.asarray(0.1), jnp.asarray(0.1, jnp.bfloat16),
            jnp.asarray([0.1, 0.2, 0.3])]


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16, jnp.float16, jnp.complex64])
@pytest.mark.parametrize("s", _SCALARS, ids=lambda s: f"{type(s).__name__}-{getattr(s, 'dtype', '')}")
def test_scale_multiply_is_the_plain_jnp_expression(dtype, s):
    """scale's multiply (a lax.mul fast path for a float or same-dtype scalar) gives the bits,
    dtype and weak type of ``(u.astype(cdt) * s).astype(u.dtype)``, eagerly and traced."""
    from optjax.transforms.scaling import _mul

    u = (jnp.arange(3, dtype=jnp.float32) * 0.37 - 0.41).astype(dtype)

    def ref(u):
        return (u.astype(optjax.numerics.compute_dtype(u.dtype)) * s).astype(u.dtype)

    for f, g in ((_mul, ref), (jax.jit(lambda u: _mul(u, s)), jax.jit(ref))):
        got, want = (f(u, s) if f is _mul else f(u)), (g(u) if g is not ref else ref(u))
        assert got.dtype == want.dtype and got.aval.weak_type == want.aval.weak_type
        np.testing.assert_array_equal(np.atleast_1d(got).view(np.uint8), np.atleast_1d(want).view(np.uint8))
