"""optjax.linear_algebra against optax 0.2.8 (live) and against numpy's eigh / direct checks."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optjax
from optjax import linear_algebra

optax = pytest.importorskip("optax")


def _psd(n=6, seed=0):
    m = jax.random.normal(jax.random.PRNGKey(seed), (n, n))
    return m @ m.T


def test_power_iteration_matches_eigh_and_optax():
    a = _psd()
    eig, vec = optjax.power_iteration(a, v0=jnp.ones(6), error_tolerance=1e-6)
    w, v = np.linalg.eigh(np.asarray(a, np.float64))
    np.testing.assert_allclose(eig, w[-1], rtol=1e-4)
    np.testing.assert_allclose(np.abs(vec), np.abs(v[:, -1]), atol=1e-3)
    eig_ox, vec_ox = optax.power_iteration(a, v0=jnp.ones(6), error_tolerance=1e-6)
    np.testing.assert_allclose(eig, eig_ox, rtol=1e-6)
    np.testing.assert_allclose(vec, vec_ox, rtol=1e-5, atol=1e-6)


def test_power_iteration_on_a_pytree_product_needs_v0():
    mvp = lambda t: {"a": 2 * t["a"], "b": t["b"]}  # noqa: E731
    eig, _ = optjax.power_iteration(mvp, v0={"a": jnp.ones(3), "b": jnp.ones(3)})
    np.testing.assert_allclose(eig, 2.0, rtol=1e-5)
    with pytest.raises(ValueError, match="v0"):
        optjax.power_iteration(mvp)


def test_matrix_inverse_pth_root_inverts_and_matches_optax():
    a = _psd(8) + 0.5 * jnp.eye(8)
    root, err = optjax.matrix_inverse_pth_root(a, 4, ridge_epsilon=1e-12)
    # root^4 @ a = I
    r4 = np.linalg.matrix_power(np.asarray(root, np.float64), 4)
    np.testing.assert_allclose(r4 @ np.asarray(a, np.float64), np.eye(8), atol=1e-3)
    root_ox, err_ox = optax.matrix_inverse_pth_root(a, 4, ridge_epsilon=1e-12)
    np.testing.assert_allclose(root, root_ox, rtol=1e-5, atol=1e-6)
    assert float(err) < 1e-3 and abs(float(err) - float(err_ox)) < 1e-6
    with pytest.raises(ValueError, match="p must be"):
        optjax.matrix_inverse_pth_root(a, 3)


@pytest.mark.parametrize("k", [(), (3,)])
def test_nnls_matches_optax_and_is_feasible(k):
    ka, kb = jax.random.split(jax.random.PRNGKey(1))
    a = jax.random.normal(ka, (10, 7))
    b = jax.random.normal(kb, (10, *k))
    x = optjax.nnls(a, b, 200)
    assert x.shape == (7, *k) and bool((x >= 0).all())
    np.testing.assert_allclose(x, optax.nnls(a, b, 200), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="b must have shape"):
        linear_algebra.nnls(a, jnp.ones(3), 5)
