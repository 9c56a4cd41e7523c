"""Issue 15, items 1 and 2: every update tree is checked against the params (or the
state that mirrors them) at trace time. A gradient of another shape is never broadcast,
an integer gradient never truncated, a complex gradient for a real param never
silently made real; the error names the leaf's path, the expected and the given."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optjax
from optjax.base import MaskedNode


def _raises(fn, path, *words):
    with pytest.raises((ValueError, TypeError)) as info:
        fn()
    msg = str(info.value)
    assert f"'{path}'" in msg, msg
    for w in words:
        assert w in msg, msg
    return info.value


# ----------------------------------------------------------------------------
# apply_updates


@pytest.mark.parametrize("p_shape, u_shape", [((3,), (2, 3)), ((2, 3, 4), (3, 4)), ((3, 4), (1, 4)),
                                              ((3, 4), (4, 3)), ((), (1,)), ((0, 3), (3,))])
def test_apply_updates_rejects_other_shapes(p_shape, u_shape):
    params = {"a": jnp.ones(2), "w": jnp.ones(p_shape)}
    updates = {"a": jnp.ones(2), "w": jnp.ones(u_shape)}
    _raises(lambda: optjax.apply_updates(params, updates), "w", str(p_shape), str(u_shape))
    _raises(lambda: jax.jit(optjax.apply_updates)(params, updates), "w", str(p_shape), str(u_shape))


@pytest.mark.parametrize("dtype", [jnp.int32, jnp.int8, jnp.bool_, jnp.complex64])
def test_apply_updates_rejects_integer_and_complex_updates_for_real_params(dtype):
    params = {"layer": {"w": jnp.ones(3)}}
    e = _raises(lambda: optjax.apply_updates(params, {"layer": {"w": jnp.ones(3, dtype)}}), "layer/w",
                jnp.dtype(dtype).name, "float32")
    assert isinstance(e, TypeError)


def test_apply_updates_accepts_what_it_should():
    # float32 updates for bf16 params (mixed precision), complex for complex, None,
    # 0-d and size-0 leaves, MaskedNode placeholders.
    params = {"bf": jnp.ones(2, jnp.bfloat16), "c": jnp.ones(2, jnp.complex64), "none": jnp.ones(2),
              "s": jnp.array(1.0), "empty": jnp.ones((0, 3)), "masked": MaskedNode()}
    updates = {"bf": jnp.full(2, 0.5), "c": jnp.full(2, 1j, jnp.complex64), "none": None,
               "s": jnp.array(2.0), "empty": jnp.ones((0, 3)), "masked": MaskedNode()}
    out = optjax.apply_updates(params, updates)
    assert out["bf"].dtype == jnp.bfloat16 and float(out["bf"][0]) == 1.5
    np.testing.assert_array_equal(out["c"], jnp.full(2, 1 + 1j, jnp.complex64))
    assert float(out["s"]) == 3.0 and out["empty"].shape == (0, 3)


# ----------------------------------------------------------------------------
# update_and_apply and tx.update, for optimizers built on per_leaf and those that are not


OPTIMIZERS = {
    "adam": lambda: optjax.adam(1e-3),  # per_leaf.apply, state mirrors the params
    "adafactor": lambda: optjax.adafactor(1e-2),  # per_leaf.apply with params, factored state
    "yogi": lambda: optjax.yogi(1e-3),  # tree math through chain
    "sgd": lambda: optjax.sgd(1e-3),
    "masked": lambda: optjax.masked(optjax.adam(1e-3), {"w": True, "b": False}),
    "partition": lambda: optjax.partition({"a": optjax.adam(1e-3), "b": optjax.yogi(1e-3)},
                                          {"w": "a", "b": "b"}),
}


def _tree(w_shape=(2, 3, 4)):
    return {"w": jnp.ones(w_shape), "b": jnp.zeros(4)}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("bad", ["missing_axis", "size_one_axis", "int", "complex"])
def test_bad_gradient_rejected_before_anything_changes(name, bad):
    tx = OPTIMIZERS[name]()
    params = _tree()
    state = tx.init(params)
    grads = {"w": {"missing_axis": jnp.ones((3, 4)), "size_one_axis": jnp.ones((1, 3, 4)),
                   "int": jnp.ones((2, 3, 4), jnp.int32), "complex": jnp.ones((2, 3, 4), jnp.complex64)}[bad],
             "b": jnp.ones(4)}
    words = ("(2, 3, 4)",) if bad.endswith("axis") else ("float32",)
    _raises(lambda: optjax.update_and_apply(tx, grads, state, params), "w", *words)
    _raises(lambda: jax.jit(lambda g, s, p: optjax.update_and_apply(tx, g, s, p))(grads, state, params),
            "w", *words)
    # the plain path: tx.update rejects it, or (a stateless rule that keeps the
    # gradient's shape) apply_updates does
    def plain(update):
        u, _ = update(grads, state, params)
        return optjax.apply_updates(params, u)

    _raises(lambda: plain(tx.update), "w", *words)
    _raises(lambda: plain(jax.jit(tx.update)), "w", *words)


@pytest.mark.parametrize("name", ["adam", "rmsprop", "lion", "sgd_momentum"])
def test_bad_gradient_rejected_without_params(name):
    # Without params the rule checks the update against its state (which mirrors the params).
    tx = {"adam": lambda: optjax.adam(1e-3), "rmsprop": lambda: optjax.rmsprop(1e-3),
          "lion": lambda: optjax.lion(1e-3), "sgd_momentum": lambda: optjax.sgd(1e-3, momentum=0.9)}[name]()
    state = tx.init(_tree())
    _raises(lambda: tx.update({"w": jnp.ones((3, 4)), "b": jnp.ones(4)}, state), "w", "(2, 3, 4)", "(3, 4)")
    _raises(lambda: tx.update({"w": jnp.ones((2, 3, 4), jnp.int32), "b": jnp.ones(4)}, state), "w", "int32")


def test_complex_params_with_complex_grads_still_work():
    tx = optjax.adam(1e-2)
    params = {"z": jnp.ones(3, jnp.complex64)}
    p, s = optjax.update_and_apply(tx, {"z": jnp.full(3, 1 - 1j, jnp.complex64)}, tx.init(params), params)
    assert p["z"].dtype == jnp.complex64 and bool(jnp.all(p["z"] != params["z"]))


def test_reduced_state_rule_needs_no_params():
    # group_adagrad keeps a (rows, 1) sum per leaf: it is not checked against the grads' shape.
    tx = optjax.group_adagrad(0.1)
    params = {"emb": jnp.ones((5, 3))}
    u, _ = tx.update({"emb": jnp.ones((5, 3))}, tx.init(params))
    assert u["emb"].shape == (5, 3)


def test_none_masked_zero_d_and_empty_leaves_pass():
    tx = optjax.chain(optjax.clip_by_global_norm(1.0), optjax.adam(1e-2))
    params = {"s": jnp.array(1.0), "e": jnp.ones((0, 2)), "n": jnp.ones(2), "bf": jnp.ones(3, jnp.bfloat16)}
    grads = {"s": jnp.array(0.5), "e": jnp.ones((0, 2)), "n": None, "bf": jnp.ones(3, jnp.bfloat16)}
    p, s = jax.jit(lambda g, s, p: optjax.update_and_apply(tx, g, s, p))(grads, tx.init(params), params)
    assert p["s"].shape == () and p["e"].shape == (0, 2) and p["bf"].dtype == jnp.bfloat16
    np.testing.assert_array_equal(p["n"], params["n"])


def test_per_example_clip_keeps_its_batch_axis():
    # Per-example clipping takes grads with a leading batch axis and returns the summed clip.
    g = [jnp.ones((4, 3))]
    clipped, _ = optjax.per_example_global_norm_clip(g, 1.0)
    tx = optjax.sgd(0.1)
    params = [jnp.zeros(3)]
    p, _ = optjax.update_and_apply(tx, clipped, tx.init(params), params)
    assert p[0].shape == (3,)


@pytest.mark.parametrize("name", ["masked", "freeze"])
def test_leaf_a_mask_leaves_out_is_checked_too(name):
    # The inner transform never sees a masked-out leaf; masked checks it against the params.
    inner = optjax.adam(1e-3)
    tx = optjax.masked(inner, {"w": True, "b": False}) if name == "masked" else optjax.freeze({"b": True}, inner)
    params = _tree()
    grads = {"w": jnp.ones((2, 3, 4)), "b": jnp.ones((2, 4))}
    _raises(lambda: tx.update(grads, tx.init(params), params), "b", "(4,)", "(2, 4)")
    _raises(lambda: jax.jit(tx.update)(grads, tx.init(params), params), "b", "(4,)", "(2, 4)")


def test_chain_keeps_a_first_stage_that_takes_per_example_grads():
    # A stage like optax's differentially_private_aggregate takes per-example gradients
    # (a leading batch axis) and returns one per param: chain does not reject its input.
    def aggregate_update(updates, state, params=None):
        return jax.tree.map(lambda g: jnp.mean(g, axis=0), updates), state

    tx = optjax.chain(optjax.GradientTransformation(lambda p: optjax.EmptyState(), aggregate_update),
                      optjax.adam(1e-2))
    params = {"w": jnp.ones(3)}
    u, _ = tx.update({"w": jnp.ones((8, 3))}, tx.init(params), params)
    assert optjax.apply_updates(params, u)["w"].shape == (3,)


def test_tree_math_moments_do_not_broadcast():
    with pytest.raises(ValueError, match="'w'"):
        optjax.tree.update_moment({"w": jnp.ones((3, 4))}, {"w": jnp.zeros((2, 3, 4))}, 0.9, 1)
