"""Issue 15: NaN/Inf in any leaf at any step, through ``apply_if_finite`` and
``MultiSteps``: params and state are left as they were, the counters are right, and
the run goes on exactly as if the bad step had never come."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optjax

STEPS = 5
LEAVES = ("a", "b/c", "d")
BAD_VALUES = {"nan": jnp.nan, "inf": jnp.inf, "-inf": -jnp.inf}


def _params():
    return {"a": jnp.linspace(-1.0, 1.0, 3), "b": {"c": jnp.ones((2, 2))},
            "d": jnp.linspace(0.5, 1.0, 4).astype(jnp.bfloat16)}


def _grads(t):
    return jax.tree.map(lambda p: (jnp.sin(jnp.arange(p.size, dtype=jnp.float32).reshape(p.shape) + 0.7 * t)
                                   ).astype(p.dtype), _params())


def _poison(grads, leaf, value):
    keys = leaf.split("/")
    out = jax.tree.map(lambda x: x, grads)
    node = out
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = node[keys[-1]].at[(0,) * node[keys[-1]].ndim].set(value)
    return out


@functools.lru_cache(maxsize=None)
def _tx_and_step(name):
    """One transform and one compiled step per name, shared by all cases (no retrace)."""
    tx = TRANSFORMS[name]()
    return tx, jax.jit(lambda p, s, g: optjax.update_and_apply(tx, g, s, p))


def _run(name, grads_list):
    tx, step = _tx_and_step(name)
    p = _params()
    s = tx.init(p)
    trace = []
    for g in grads_list:
        p, s = step(p, s, g)
        trace.append((p, s))
    return trace


def _assert_same(x, y, what):
    xs, ys = jax.tree.leaves(x), jax.tree.leaves(y)
    assert jax.tree.structure(x) == jax.tree.structure(y), what
    for a, b in zip(xs, ys):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=what)


TRANSFORMS = {
    "apply_if_finite(adam)": lambda: optjax.apply_if_finite(optjax.adam(1e-2), 3),
    "apply_if_finite(MultiSteps(adam, 2))": lambda: optjax.apply_if_finite(
        optjax.MultiSteps(optjax.adam(1e-2), 2).gradient_transformation(), 3),
    "MultiSteps(apply_if_finite(adam), 2)": lambda: optjax.MultiSteps(
        optjax.apply_if_finite(optjax.adam(1e-2), 3), 2).gradient_transformation(),
}
WRAPPED = list(TRANSFORMS)[:2]


@pytest.mark.parametrize("wrapped", WRAPPED)
@pytest.mark.parametrize("bad_step", [0, 2, STEPS - 1])
@pytest.mark.parametrize("leaf", LEAVES)
@pytest.mark.parametrize("value", list(BAD_VALUES))
def test_a_bad_step_changes_nothing_and_is_counted(wrapped, bad_step, leaf, value):
    tx, _ = _tx_and_step(wrapped)
    clean = [_grads(t) for t in range(STEPS)]
    faulty = list(clean)
    faulty.insert(bad_step, _poison(_grads(99), leaf, BAD_VALUES[value]))
    got = _run(wrapped, faulty)
    ref = _run(wrapped, clean)

    before_p = _params() if bad_step == 0 else got[bad_step - 1][0]
    before_s = tx.init(_params()) if bad_step == 0 else got[bad_step - 1][1]
    p_bad, s_bad = got[bad_step]
    _assert_same(p_bad, before_p, "params changed on a non-finite step")
    _assert_same(s_bad.inner_state, before_s.inner_state, "inner state changed on a non-finite step")
    assert int(s_bad.notfinite_count) == 1 and int(s_bad.total_notfinite) == 1
    assert not bool(s_bad.last_finite)

    # afterwards the run is the clean run, bit for bit, and the counters say one bad step
    p_end, s_end = got[-1]
    _assert_same(p_end, ref[-1][0], "params differ from the run without the bad step")
    _assert_same(s_end.inner_state, ref[-1][1].inner_state, "state differs from the run without the bad step")
    assert int(s_end.notfinite_count) == 0 and int(s_end.total_notfinite) == 1 and bool(s_end.last_finite)


@pytest.mark.parametrize("leaf", LEAVES)
@pytest.mark.parametrize("bad_mini_step", [0, 1])
def test_multisteps_around_apply_if_finite_drops_the_poisoned_window(leaf, bad_mini_step):
    # MultiSteps(apply_if_finite(opt)): a NaN in a window reaches the inner check as the
    # window's mean; that window is dropped whole (params, inner state unchanged, the
    # accumulator starts clean) and the next windows run as if it had never been.
    k = 2
    name = "MultiSteps(apply_if_finite(adam), 2)"
    clean = [_grads(t) for t in range(2 * k)]
    window = [_grads(50), _grads(51)]
    window[bad_mini_step] = _poison(window[bad_mini_step], leaf, jnp.nan)
    got = _run(name, clean[:k] + window + clean[k:])
    ref = _run(name, clean)
    p_mid, s_mid = got[2 * k - 1]
    _assert_same(p_mid, got[k - 1][0], "params changed in a poisoned window")
    _assert_same(s_mid.inner_opt_state.inner_state, got[k - 1][1].inner_opt_state.inner_state,
                 "inner state changed in a poisoned window")
    assert all(bool(jnp.all(x == 0)) for x in jax.tree.leaves(s_mid.acc_grads))
    assert int(s_mid.inner_opt_state.total_notfinite) == 1 and int(s_mid.mini_step) == 0
    _assert_same(got[-1][0], ref[-1][0], "params differ from the run without the poisoned window")
    assert int(got[-1][1].inner_opt_state.total_notfinite) == 1
