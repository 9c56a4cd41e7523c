"""Coupled and decoupled weight decay with per-leaf multipliers, and MXNet's name rule."""

import jax.numpy as jnp
import numpy as np
import pytest

import optjax


def params():
    return {"fc1_weight": jnp.array([1.0, 2.0]), "fc1_bias": jnp.array([3.0]),
            "bn_gamma": jnp.array([4.0]), "bn_beta": jnp.array([5.0]), "bn_moving_mean": jnp.array([6.0])}


def zeros():
    return {k: jnp.zeros_like(v) for k, v in params().items()}


def test_add_decayed_weights_coupled():
    tx = optjax.add_decayed_weights(0.1)
    u, _ = tx.update(zeros(), tx.init(params()), params())
    np.testing.assert_allclose(u["fc1_weight"], [0.1, 0.2])


def test_mxnet_wd_mult_rule():
    m = optjax.mxnet_wd_mult(params())
    assert m == {"fc1_weight": 1.0, "fc1_bias": 0.0, "bn_gamma": 1.0, "bn_beta": 0.0, "bn_moving_mean": 0.0}
    tx = optjax.add_decayed_weights(0.1, weight_decay_mult=optjax.mxnet_wd_mult)
    u, _ = tx.update(zeros(), tx.init(params()), params())
    np.testing.assert_allclose(u["bn_gamma"], [0.4], rtol=1e-6)
    np.testing.assert_allclose(u["fc1_bias"], [0.0])


def test_wd_mult_patterns_and_mask():
    tx = optjax.add_decayed_weights(0.1, weight_decay_mult={"*weight": 2.0, "*bias": 0.0})
    u, _ = tx.update(zeros(), tx.init(params()), params())
    np.testing.assert_allclose(u["fc1_weight"], [0.2, 0.4], rtol=1e-6)
    np.testing.assert_allclose(u["fc1_bias"], [0.0])
    np.testing.assert_allclose(u["bn_beta"], [0.5], rtol=1e-6)
    masked = optjax.add_decayed_weights(0.1, mask={"*weight": True})
    u, _ = masked.update(zeros(), masked.init(params()), params())
    np.testing.assert_allclose(u["bn_beta"], [0.0])
    np.testing.assert_allclose(u["fc1_weight"], [0.1, 0.2], rtol=1e-6)


def test_decoupled_weight_decay_matches_torch_adamw_form():
    p = params()
    lr, wd = 0.01, 0.1
    a = optjax.chain(optjax.adam(lr), optjax.decoupled_weight_decay(wd, lr))
    b = optjax.adamw(lr, weight_decay=wd)
    g = {k: jnp.ones_like(v) for k, v in p.items()}
    ua, _ = a.update(g, a.init(p), p)
    ub, _ = b.update(g, b.init(p), p)
    for k in p:
        np.testing.assert_allclose(ua[k], ub[k], rtol=1e-6)


def test_needs_params():
    with pytest.raises(ValueError, match="params"):
        optjax.add_decayed_weights(0.1).update(zeros(), optjax.add_decayed_weights(0.1).init(None))


def test_negative_multiplier_names_leaf():
    tx = optjax.add_decayed_weights(0.1, weight_decay_mult={"*bias": -1.0})
    with pytest.raises(ValueError, match="fc1_bias"):
        tx.update(zeros(), tx.init(params()), params())
