"""masked, freeze (no state for frozen leaves, None or missing grads), partition (param groups)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optjax


def params():
    return {"base": {"w": jnp.ones(2), "b": jnp.zeros(1)}, "head": {"w": jnp.ones(2)},
            "bn": {"gamma": jnp.ones(2), "moving_mean": jnp.zeros(2), "moving_var": jnp.ones(2)}}


def grads():
    return jax.tree.map(lambda x: jnp.full_like(x, 2.0), params())


def n_state_leaves(s):
    return len(jax.tree.leaves(s))


def test_masked_applies_inner_to_selected():
    tx = optjax.masked(optjax.scale(0.5), {"head/*": True})
    u, _ = tx.update(grads(), tx.init(params()), params())
    np.testing.assert_allclose(u["head"]["w"], [1.0, 1.0])
    np.testing.assert_allclose(u["base"]["w"], [2.0, 2.0])


def test_masked_state_only_for_selected():
    tx = optjax.masked(optjax.adam(0.1), {"head/*": True})
    s = tx.init(params())
    assert n_state_leaves(s.inner_state[0].mu) == 1


def test_mask_tree_mismatch_names_path():
    tx = optjax.masked(optjax.scale(0.5), {"base": {"w": True}})
    with pytest.raises(ValueError):
        tx.init(params())


def test_freeze_aux_state_no_state_and_untouched():
    frozen = {"*moving_*": True}
    tx = optjax.freeze(frozen, optjax.sgd(0.1, momentum=0.9))
    p = params()
    s = tx.init(p)
    assert n_state_leaves(s) == 4  # momentum only for the 4 trainable leaves (optax's trace: no count)
    g = grads()
    g["bn"]["moving_mean"] = None
    del g["bn"]["moving_var"]  # absent altogether
    u, s = jax.jit(tx.update)(g, s, p)
    new = optjax.apply_updates(p, u)
    np.testing.assert_array_equal(new["bn"]["moving_mean"], p["bn"]["moving_mean"])
    np.testing.assert_array_equal(new["bn"]["moving_var"], p["bn"]["moving_var"])
    np.testing.assert_allclose(new["base"]["w"], [0.8, 0.8], rtol=1e-6)


def test_freeze_missing_trainable_grad_is_error():
    tx = optjax.freeze({"*moving_*": True}, optjax.sgd(0.1))
    g = grads()
    del g["head"]
    with pytest.raises(ValueError, match="head/w"):
        tx.update(g, tx.init(params()), params())


def test_freeze_alone_zeroes():
    tx = optjax.chain(optjax.freeze({"base/*": True}), optjax.sgd(1.0))
    u, _ = tx.update(grads(), tx.init(params()), params())
    np.testing.assert_allclose(u["base"]["w"], [0.0, 0.0])
    np.testing.assert_allclose(u["head"]["w"], [-2.0, -2.0])


def test_partition_torch_param_groups():
    # torch: SGD([{'params': base}, {'params': head, 'lr': 1e-3}], lr=1e-2, momentum=0.9)
    tx = optjax.partition(
        {"base": optjax.sgd(1e-2, momentum=0.9), "head": optjax.sgd(1e-3, momentum=0.9)},
        {"head/*": "head", "*": "base"},
    )
    p = params()
    s = tx.init(p)
    for _ in range(2):
        u, s = jax.jit(tx.update)(grads(), s, p)
    # step 2 of momentum: b = 0.9*2 + 2 = 3.8; u = -lr * 3.8
    np.testing.assert_allclose(u["head"]["w"], [-3.8e-3, -3.8e-3], rtol=1e-6)
    np.testing.assert_allclose(u["base"]["w"], [-3.8e-2, -3.8e-2], rtol=1e-6)


def test_partition_label_forms():
    labels_tree = jax.tree.map(lambda _: "a", params())
    labels_tree["head"]["w"] = "b"
    for labels in (labels_tree, lambda p: labels_tree):
        tx = optjax.partition({"a": optjax.scale(1.0), "b": optjax.scale(0.0)}, labels)
        u, _ = tx.update(grads(), tx.init(params()), params())
        np.testing.assert_allclose(u["head"]["w"], [0.0, 0.0])


def test_partition_unknown_label_lists_labels():
    tx = optjax.partition({"a": optjax.scale(1.0), "b": optjax.scale(1.0)}, {"head/*": "c", "*": "a"})
    with pytest.raises(ValueError, match=r"'c'.*known labels: \['a', 'b'\]"):
        tx.init(params())


def test_partition_unlabelled_leaf_is_error():
    tx = optjax.partition({"a": optjax.scale(1.0)}, {"head/*": "a"})
    with pytest.raises(ValueError, match="no label for parameter 'base/b'"):
        tx.init(params())


# ----------------------------------------------------------------------------
# optax's mask and label forms: prefixes, callable pytrees, map_params, strict selective_transform


def nested():
    return {"a": jnp.array([1.0, -2.0]), "b": {"c": jnp.array([3.0]), "d": jnp.array([0.5, 4.0])}}


def nested_grads():
    return jax.tree.map(lambda x: 0.1 * x + 1.0, nested())


def run_both(make, steps=3):
    """The same call on optjax and optax, a few steps; (optjax params, optax params)."""
    import optax

    outs = []
    for lib, apply in ((optjax, optjax.apply_updates), (optax, optax.apply_updates)):
        tx, p = make(lib), nested()
        s = tx.init(p)
        for _ in range(steps):
            u, s = tx.update(nested_grads(), s, p)
            p = apply(p, u)
        outs.append(p)
    return outs


@pytest.mark.parametrize("make", [
    lambda lib: lib.masked(lib.adam(0.1), {"a": False, "b": True}),
    lambda lib: lib.masked(lib.adam(0.1), lambda p: {"a": True, "b": False}),
    lambda lib: lib.partition({"x": lib.adam(0.1), "y": lib.sgd(0.5, momentum=0.9)}, {"a": "x", "b": "y"}),
    lambda lib: lib.multi_transform({"x": lib.sgd(0.1), "y": lib.set_to_zero()}, {"a": "y", "b": "x"}),
    lambda lib: lib.chain(lib.add_decayed_weights(0.5, mask={"a": False, "b": True}), lib.sgd(0.1)),
    lambda lib: lib.selective_transform(lib.sgd(1.0), freeze_mask={"a": False, "b": True}),
], ids=["masked", "masked_fn", "partition", "multi_transform", "decay_mask", "selective"])
def test_prefix_masks_and_labels_match_optax(make):
    got, want = run_both(make)
    jax.tree.map(lambda g, w: np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-7), got, want)


def test_prefix_labels_over_a_tuple_of_subtrees():
    params = ({"w": jnp.ones(2)}, {"w": jnp.ones(3), "b": jnp.ones(1)})
    tx = optjax.partition({"gen": optjax.sgd(1.0), "disc": optjax.set_to_zero()}, ("gen", "disc"))
    u, _ = tx.update(params, tx.init(params), params)
    np.testing.assert_allclose(u[0]["w"], [-1.0, -1.0])
    np.testing.assert_allclose(u[1]["b"], [0.0])


def test_mask_neither_tree_nor_prefix_names_the_mismatch():
    tx = optjax.masked(optjax.sgd(1.0), {"a": True, "b": {"c": True}})  # 'b/d' missing
    with pytest.raises(ValueError, match="b/d"):
        tx.init(nested())


def test_selective_transform_incomplete_mask_raises_as_optax():
    tx = optjax.selective_transform(optjax.sgd(1.0), freeze_mask={"a": True})  # 'b' missing
    with pytest.raises(ValueError, match="Dict key mismatch"):
        tx.update(nested_grads(), tx.init(nested()), nested())
    # freeze keeps reading a mapping of path patterns
    tx = optjax.freeze({"a": True}, optjax.sgd(1.0))
    u, _ = tx.update(nested_grads(), tx.init(nested()), nested())
    np.testing.assert_allclose(u["a"], [0.0, 0.0])


class CallableMask:
    """A pytree that is itself callable (like an equinox Module): a tree of bools, not a function."""

    def __init__(self, a, b):
        self.a, self.b = a, b

    def __call__(self, x):
        raise AssertionError("a callable pytree mask must not be called")


jax.tree_util.register_pytree_node(CallableMask, lambda m: ((m.a, m.b), None), lambda _, c: CallableMask(*c))


def test_callable_pytree_mask_is_used_as_a_tree():
    params = CallableMask(jnp.ones(2), jnp.ones(3))
    tx = optjax.masked(optjax.scale(0.0), CallableMask(True, False))
    u, _ = tx.update(params, tx.init(params), params)
    np.testing.assert_allclose(u.a, [0.0, 0.0])
    np.testing.assert_allclose(u.b, [1.0, 1.0, 1.0])


def test_map_params_over_masked_and_partition_state():
    import optax

    for tx in (optjax.masked(optjax.adam(0.1), {"a": False, "b": True}),
               optjax.partition({"x": optjax.adam(0.1), "y": optjax.sgd(0.1)}, {"a": "x", "b": "y"})):
        s = tx.init(nested())
        for tree_mod in (optax.tree, optjax.tree):
            s2 = tree_mod.map_params(tx, lambda v: v + 1.0, s)
            assert jax.tree.structure(s2) == jax.tree.structure(s)
            mus = [x for x in jax.tree.leaves(s2) if x.shape == (2,) or x.shape == (1,)]
            assert mus and all(float(jnp.min(m)) == 1.0 for m in mus)


def test_python_scalar_params_as_optax():
    import optax

    got = optjax.adam(0.1).update({"a": 1, "b": 2}, optjax.adam(0.1).init({"a": 1, "b": 2}))[0]
    want = optax.adam(0.1).update({"a": 1, "b": 2}, optax.adam(0.1).init({"a": 1, "b": 2}))[0]
    np.testing.assert_allclose([got["a"], got["b"]], [want["a"], want["b"]], rtol=1e-4)


def test_partition_and_masked_state_layout_is_optax():
    import optax

    def paths(state):  # leaf paths, with each MaskedNode placeholder where it stands
        is_node = lambda x: type(x).__name__ == "MaskedNode"  # noqa: E731
        return [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_flatten_with_path(state, is_leaf=is_node)[0]]

    # leaf paths (what a checkpoint holds) and the wrapper types; ema's own state is optax's
    for make in (lambda lib: lib.partition({"x": lib.ema(0.9), "y": lib.set_to_zero()},
                                           {"a": "x", "b": {"c": "y", "d": "y"}}),
                 lambda lib: lib.masked(lib.ema(0.9), {"a": True, "b": False}),
                 lambda lib: lib.masked(lib.ema(0.9), {"a": False, "b": {"c": True, "d": False}})):
        ours, theirs = make(optjax).init(nested()), make(optax).init(nested())
        assert paths(ours) == paths(theirs)
        assert type(ours).__name__ == type(theirs).__name__
