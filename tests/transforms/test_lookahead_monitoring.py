"""lookahead, flatten, snapshot, monitor, measure_with_ema against optax 0.2.8, live."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optjax

optax = pytest.importorskip("optax")

PARAMS = {"w": jnp.array([[1.0, -2.0], [0.5, 3.0]]), "b": jnp.array([0.1, -0.3])}


def _grad(p):
    return jax.grad(lambda q: sum(jnp.sum(jnp.sin(v) * v**2) for v in jax.tree.leaves(q)))(p)


def _run(tx, params, steps=7, grad_of=lambda p: p):
    state = tx.init(params)
    out = []
    for _ in range(steps):
        updates, state = tx.update(_grad(grad_of(params)), state, params)
        params = optjax.apply_updates(params, updates)
        out.append(params)
    return out, state


@pytest.mark.parametrize("reset_state", [False, True])
def test_lookahead_matches_optax(reset_state):
    mine, st = _run(optjax.lookahead(optjax.adam(0.1), 3, 0.5, reset_state),
                    optjax.LookaheadParams.init_synced(PARAMS), grad_of=lambda p: p.fast)
    theirs, st_ox = _run(optax.lookahead(optax.adam(0.1), 3, 0.5, reset_state),
                         optax.LookaheadParams.init_synced(PARAMS), grad_of=lambda p: p.fast)
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(a.slow["w"], b.slow["w"], rtol=1e-4, atol=1e-6)  # Adam bias correction
        np.testing.assert_allclose(a.fast["b"], b.fast["b"], rtol=1e-4, atol=1e-6)
    assert jax.tree.structure(st).num_leaves == jax.tree.structure(st_ox).num_leaves
    with pytest.raises(ValueError, match="sync_period"):
        optjax.lookahead(optjax.sgd(0.1), 0, 0.5)


def test_flatten_matches_optax_and_keeps_the_tree():
    mine, st = _run(optjax.flatten(optjax.sgd(0.1, momentum=0.9)), PARAMS)
    theirs, st_ox = _run(optax.flatten(optax.sgd(0.1, momentum=0.9)), PARAMS)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6), mine[-1], theirs[-1])
    assert optjax.tree.get(st, "trace").shape == (6,)
    assert optax.tree.get(st_ox, "trace").shape == (6,)


def test_snapshot_and_monitor_record_what_optax_records():
    def chain(lib):
        return lib.chain(lib.sgd(0.1, momentum=0.9), lib.snapshot("pre", lib.tree.norm),
                         lib.monitor({"n": lib.tree.norm, "avg": lib.measure_with_ema(lib.tree.norm, 0.9)}),
                         lib.clip_by_global_norm(0.05))
    _, st = _run(chain(optjax), PARAMS, steps=3)
    _, st_ox = _run(chain(optax), PARAMS, steps=3)
    for name in ("pre", "n", "avg"):
        np.testing.assert_allclose(optjax.tree.get(st, name), optax.tree.get(st_ox, name), rtol=1e-6)
