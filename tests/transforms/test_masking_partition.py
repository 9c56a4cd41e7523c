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
