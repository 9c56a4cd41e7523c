"""optjax.utils: optax's small array helpers (checked directly; scale_gradient by its gradient)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from optjax import utils


@pytest.mark.parametrize("s", [0.0, 0.5, -2.0])
def test_scale_gradient_is_identity_forward_and_scales_backward(s):
    x = {"a": jnp.array(1.5), "b": (jnp.array([2.0, -1.0]),)}
    f = lambda t: sum(jnp.sum(v**2) for v in jax.tree.leaves(utils.scale_gradient(t, s)))  # noqa: E731
    g = jax.grad(f)(x)
    jax.tree.map(lambda gi, xi: np.testing.assert_array_equal(gi, 2 * xi * s), g, x)
    assert float(f(x)) == 2.25 + 5.0


def test_set_diags_and_its_errors():
    a = jnp.full((2, 3, 3), 7.0)
    out = utils.set_diags(a, jnp.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(jnp.diagonal(out, axis1=1, axis2=2), jnp.arange(6.0).reshape(2, 3))
    assert float(out[0, 0, 1]) == 7.0
    with pytest.raises(ValueError, match="3D tensor"):
        utils.set_diags(jnp.ones((3, 3)), jnp.ones((1, 3)))
    with pytest.raises(ValueError, match="new_diags.shape"):
        utils.set_diags(a, jnp.ones((2, 4)))


def test_tile_second_to_last_dim_and_canonicalize_dtype():
    m = jnp.arange(6).reshape(2, 3)
    t = utils.tile_second_to_last_dim(m)
    assert t.shape == (2, 3, 3)
    np.testing.assert_array_equal(t[..., 1], m)
    assert utils.canonicalize_dtype(None) is None
    assert utils.canonicalize_dtype(jnp.bfloat16) is np.dtype(jnp.bfloat16)


def test_multi_normal_log_prob_and_samples():
    d = utils.multi_normal(jnp.zeros((1, 3)), jnp.log(2.0) * jnp.ones((2, 1)))
    assert d._param_shape == (2, 3)
    assert d.sample([4], jax.random.PRNGKey(0)).shape == (4, 2, 3)
    x = jnp.ones((2, 3))
    expected = 6 * (-0.5 * 0.25 - np.log(2.0) - 0.5 * np.log(2 * np.pi))
    np.testing.assert_allclose(d.log_prob(x), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="Incompatible shapes"):
        utils.multi_normal(jnp.zeros(2), jnp.zeros(3))
