"""optjax.contrib.muon against optax 0.2.8's contrib.muon, live, on the same data."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optjax
from optjax import contrib

optax = pytest.importorskip("optax")


def params0():
    key = jax.random.key(0)
    return {"w": jax.random.normal(key, (6, 4)), "k": jax.random.normal(jax.random.key(1), (2, 3, 4)),
            "b": jnp.ones(4)}


def run(tx, steps=3):
    p = params0()
    s = tx.init(p)
    out = []
    for i in range(steps):
        g = jax.tree.map(lambda x: jnp.sin(1.3 * x + i), p)
        u, s = tx.update(g, s, p)
        p = optax.apply_updates(p, u)
        out.append(u)
    return out, s


def dims(lib):
    d = lib.MuonDimensionNumbers
    return {"w": d(), "k": d(reduction_axis=1, output_axis=2), "b": None}


CASES = {
    "default": lambda lib: lib.muon(0.1),
    "aol": lambda lib: lib.muon(0.1, preconditioning="aol"),
    "schatten_dion": lambda lib: lib.muon(0.1, preconditioning="schatten", ns_coeffs="dion"),
    "spectral_adaptive": lambda lib: lib.muon(0.1, preconditioning="spectral", nesterov=False,
                                              adaptive=True, weight_decay=0.1),
    "dim_numbers": lambda lib: lib.muon(0.1, muon_weight_dimension_numbers=dims(lib), consistent_rms=0.2),
    "dim_numbers_fn": lambda lib: lib.muon(
        0.1, muon_weight_dimension_numbers=lambda p: jax.tree.map(
            lambda x: lib.MuonDimensionNumbers() if x.ndim == 2 else None, p)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_contrib_muon_matches_optax(case):
    ours, s_ours = run(CASES[case](contrib))
    theirs, s_theirs = run(CASES[case](optax.contrib))
    for a, b in zip(ours, theirs):
        # the Adam leaves differ by optjax's exact bias correction (~1e-5 relative)
        jax.tree.map(lambda x, y: np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-6), a, b)
    paths = lambda s: [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_flatten_with_path(s)[0]]  # noqa: E731
    # scale_by_muon's own state (add_decayed_weights' layout is aligned separately)
    muon_part = lambda s: s.inner_states["muon"].inner_state[0]  # noqa: E731
    assert paths(muon_part(s_ours)) == paths(muon_part(s_theirs))


def test_torch_style_muon_is_unchanged():
    assert "momentum" in optjax.muon.__code__.co_varnames
    assert optjax.muon is not contrib.muon


def test_newton_schulz_orthogonalises_batches():
    x = jax.random.normal(jax.random.key(2), (3, 5, 4))
    o = contrib.orthogonalize_via_newton_schulz(x, jnp.array([2.0, -1.5, 0.5]), ns_steps=25, eps=1e-12,
                                                dimension_numbers=contrib.MuonDimensionNumbers(1, 2))
    for m in o:
        np.testing.assert_allclose(m.T @ m, jnp.eye(4), atol=1e-4)


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="preset"):
        contrib.muon(0.1, ns_coeffs="fast")
    with pytest.raises(ValueError, match="preconditioning"):
        contrib.scale_by_muon(preconditioning="svd")
    with pytest.raises(ValueError, match="disjoint"):
        contrib.orthogonalize_via_newton_schulz(jnp.ones((2, 3, 4)), jnp.array([2.0, -1.5, 0.5]),
                                                dimension_numbers=contrib.MuonDimensionNumbers(1, 1))
