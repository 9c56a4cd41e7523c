"""Leaf names, path patterns, per-leaf specs and structure errors."""

import jax.numpy as jnp
import pytest

from optjax import tree as T


def params():
    return {"block1": {"dense": {"kernel": jnp.ones((2, 2)), "bias": jnp.zeros(2)}},
            "fc1_weight": jnp.ones(3), "layers": [jnp.ones(1), None]}


def test_leaf_names():
    names = T.leaf_names(params())
    assert names["block1"]["dense"]["kernel"] == "block1/dense/kernel"
    assert names["layers"][0] == "layers/0"
    assert names["layers"][1] is None


@pytest.mark.parametrize("pattern,path,hit", [
    ("*/bias", "block1/dense/bias", True),
    ("bias", "block1/dense/bias", True),
    ("bias", "block1/dense/mybias", False),
    ("*_weight", "fc1_weight", True),
    ("dense/*", "block1/dense/kernel", True),
    ("re:block\\d/dense", "block1/dense/kernel", True),
    ("re:dense", "block1/dense/kernel", False),
])
def test_match(pattern, path, hit):
    assert T.match(pattern, path) is hit


def test_resolve_per_leaf_forms():
    p = params()
    by_pattern = T.resolve_per_leaf({"*bias": 0.0, "*_weight": 2.0}, p, name="m", default=1.0)
    assert by_pattern["block1"]["dense"]["bias"] == 0.0
    assert by_pattern["fc1_weight"] == 2.0
    assert by_pattern["block1"]["dense"]["kernel"] == 1.0
    assert by_pattern["layers"][1] is None
    scalar = T.resolve_per_leaf(0.5, p, name="m", default=1.0)
    assert scalar["fc1_weight"] == 0.5
    fn = T.resolve_per_leaf(lambda q: T.resolve_per_leaf(3.0, q, name="x", default=1.0), p, name="m", default=1.0)
    assert fn["layers"][0] == 3.0


def test_resolve_unused_pattern_is_error():
    with pytest.raises(ValueError, match="match no parameter"):
        T.resolve_per_leaf({"*/gamma": 0.0}, params(), name="lr_mult", default=1.0)


def test_resolve_mismatched_tree_names_path():
    bad = {"block1": {"dense": {"kernel": 1.0, "bias": 1.0}}, "fc1_weight": 1.0, "layers": [1.0, None], "extra": 1.0}
    with pytest.raises(ValueError, match="extra"):
        T.resolve_per_leaf(bad, params(), name="lr_mult", default=1.0)


def test_structure_error_first_path():
    msg = T.tree_structure_error({"a": 1, "b": {"c": 2, "d": 3}}, {"a": 1, "b": {"c": 2, "e": 3}}, "state", "grads")
    assert "'b/d'" in msg and "'b/e'" in msg
    assert T.tree_structure_error({"a": 1, "b": 2}, {"a": None, "b": 5}, "x", "y") is None
