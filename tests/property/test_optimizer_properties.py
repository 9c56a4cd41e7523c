"""Property tests (hypothesis) over random pytrees, for every optimizer in the registry
(tests/optimizers/registry.py and registry_mxnet.py).

Trees mix float32, bfloat16 and float16 leaves of shapes including 0-d and size-0,
with None gradients and leaves a mask leaves out. For each:

* jit == eager (to float rounding);
* ``update_and_apply`` == ``update`` + ``apply_updates``, bit for bit;
* updates keep each param's dtype; the state keeps its structure and dtypes across steps;
* a gradient of another shape, or a tree of another structure, is rejected with the
  leaf's path in the message.

Deterministic (``derandomize``) and small (a few examples per optimizer): each example
compiles one step.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

import optjax  # noqa: E402
from tests.optimizers.test_suite import ENTRIES, IDS, make  # noqa: E402

DTYPES = ("float32", "bfloat16", "float16")
SHAPES = ((), (0,), (3,), (2, 3), (0, 2), (1, 4))
MATRIX_SHAPES = ((2, 3), (3, 2), (1, 4), (4, 1))
SETTINGS = settings(max_examples=2, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


@st.composite
def trees(draw, matrix_only: bool):
    """``(params, grads, mask)``: 2-4 leaves (one level of nesting), some without a
    gradient (None) and some left out by the mask (never all of them)."""
    n = draw(st.integers(2, 4))
    shapes = MATRIX_SHAPES if matrix_only else SHAPES
    params, grads, mask = {}, {}, {}
    for i in range(n):
        dtype = jnp.dtype(draw(st.sampled_from(DTYPES)))
        shape = draw(st.sampled_from(shapes))
        kind = draw(st.sampled_from(("grad", "grad", "none", "masked")))
        size = int(np.prod(shape))
        p = (0.5 * jnp.sin(jnp.arange(size, dtype=jnp.float32) + i)).reshape(shape).astype(dtype)
        g = (jnp.cos(1.3 * jnp.arange(size, dtype=jnp.float32) + i) * 0.3).reshape(shape).astype(dtype)
        where = (params, grads, mask) if i % 2 == 0 else tuple(d.setdefault("sub", {}) for d in (params, grads, mask))
        where[0][f"l{i}"] = p
        where[1][f"l{i}"] = None if kind == "none" else g
        where[2][f"l{i}"] = kind != "masked"
    if not any(jax.tree.leaves(mask)):
        mask["l0"] = True
    return params, grads, mask


def _tx(entry, mask):
    return optjax.masked(make(entry), mask)


def _dtypes(tree):
    return [x.dtype for x in jax.tree.leaves(tree) if hasattr(x, "dtype")]


def _close(a, b, what):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    low = jnp.dtype(jnp.asarray(a).dtype).itemsize < 4
    np.testing.assert_allclose(a, b, rtol=2e-2 if low else 2e-5, atol=2e-2 if low else 2e-6, err_msg=what)


def _grads_of(grads, k):
    return jax.tree.map(lambda g: None if g is None else (g.astype(jnp.float32) * (1.0 + 0.25 * k)).astype(g.dtype),
                        grads, is_leaf=lambda x: x is None)


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_optimizer_properties(entry):
    @SETTINGS
    @given(trees(entry.matrix_only))
    def check(tree):
        params, grads, mask = tree
        tx = _tx(entry, mask)
        s0 = tx.init(params)
        step = jax.jit(tx.update)

        # jit == eager on the first step; updates keep the params' dtypes; the state
        # keeps its structure and dtypes over two (jitted) steps
        g = _grads_of(grads, 0)
        ue, se = tx.update(g, s0, params)
        uj, sj = step(g, s0, params)
        for p, a, b in zip(jax.tree.leaves(params), jax.tree.leaves(ue), jax.tree.leaves(uj)):
            assert a.dtype == b.dtype == p.dtype, f"update dtypes {a.dtype}, {b.dtype} for a {p.dtype} param"
            _close(a, b, "jit != eager")
        for a, b in zip(jax.tree.leaves(se), jax.tree.leaves(sj)):
            if hasattr(a, "dtype") and jnp.issubdtype(a.dtype, jnp.inexact):
                _close(a, b, "jit != eager (state)")
        p1 = optjax.apply_updates(params, uj)
        u2, s2 = step(_grads_of(grads, 1), sj, p1)
        for s in (se, sj, s2):
            assert jax.tree.structure(s) == jax.tree.structure(s0), "state structure changed"
            assert _dtypes(s) == _dtypes(s0), "state dtypes drifted"
        assert _dtypes(optjax.apply_updates(p1, u2)) == _dtypes(params)

        # update_and_apply == update + apply_updates, bit for bit
        p_plain = optjax.apply_updates(params, ue)
        p_fused, s_fused = optjax.update_and_apply(tx, g, s0, params)
        for a, b in zip(jax.tree.leaves((p_plain, se)), jax.tree.leaves((p_fused, s_fused))):
            if hasattr(a, "dtype") and not jax.dtypes.issubdtype(a.dtype, jax.dtypes.prng_key):
                np.testing.assert_array_equal(np.asarray(a), np.asarray(b))

        # a bad tree is rejected, naming the path
        path, leaf = optjax.tree.named_leaves(grads)[-1] if optjax.tree.named_leaves(grads) else (None, None)
        if path is not None:
            bad = _replace(grads, path, jnp.ones((2,) + leaf.shape, leaf.dtype))
            for fn in (lambda: optjax.update_and_apply(tx, bad, s0, params), lambda: step(bad, s0, params)):
                with pytest.raises((ValueError, TypeError), match=f"'{path}'"):
                    fn()
        extra = {**grads, "zz_extra": jnp.ones(2)}
        with pytest.raises(ValueError, match="zz_extra"):
            optjax.update_and_apply(tx, extra, s0, params)
        with pytest.raises(ValueError, match="zz_extra"):
            tx.update(extra, s0, params)

    check()


def _replace(tree, path, value):
    out = jax.tree.map(lambda x: x, tree, is_leaf=lambda x: x is None)
    node = out
    keys = path.split("/")
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = value
    return out
