"""orbax checkpoints of optimizer states: an optax state restores into the same call's
optjax state and continues with optax's numbers; an optjax state round-trips (issue 14).

orbax restores by leaf path into the template it is given (here optjax's ``init``), and
refuses a template whose tree differs from the saved one, so these tests also check the
layout end to end (``test_optax_state_layout.py`` checks it for every shared name).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optjax

optax = pytest.importorskip("optax")
ocp = pytest.importorskip("orbax.checkpoint")

STEPS = 3


def params0():
    return {"w": jnp.sin(jnp.arange(12.0)).reshape(3, 4), "b": jnp.cos(jnp.arange(4.0)) + 0.5}


def grad(params, k):
    return jax.tree.map(lambda p: jnp.sin(1.7 * p + 0.3 * k) + 0.2 * p, params)


def run(tx, params, state, steps, start):
    ups = []
    for k in range(start, start + steps):
        u, state = tx.update(grad(params, k), state, params)
        params = jax.tree.map(lambda p, d: p + d, params, u)
        ups.append(u)
    return params, state, ups


def save_and_restore(path, state, template):
    ckpt = ocp.StandardCheckpointer()
    ckpt.save(path, state)
    ckpt.wait_until_finished()
    return ckpt.restore(path, jax.tree.map(ocp.utils.to_shape_dtype_struct, template))


CALLS = {
    "adam": lambda lib: lib.adam(1e-2),
    "adamw": lambda lib: lib.adamw(1e-2, weight_decay=0.1),
    "adamw_mask": lambda lib: lib.adamw(1e-2, weight_decay=0.1, mask={"w": True, "b": False}),
    "sgd_momentum": lambda lib: lib.sgd(0.1, momentum=0.9, nesterov=True),
    "sgd_schedule": lambda lib: lib.sgd(lib.linear_schedule(0.1, 0.01, 5), momentum=0.9),
    "inject_adamw": lambda lib: lib.inject_hyperparams(lib.adamw)(learning_rate=1e-2, weight_decay=0.0),
    "multi_steps_adam": lambda lib: lib.MultiSteps(lib.adam(1e-2), 2),
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_optax_checkpoint_restores_into_optjax(call, tmp_path):
    tx_o, tx_j = CALLS[call](optax), CALLS[call](optjax)
    p, s_o, _ = run(tx_o, params0(), tx_o.init(params0()), STEPS, 0)
    s_j = save_and_restore(tmp_path / "state", s_o, tx_j.init(p))
    assert jax.tree.structure(s_j) == jax.tree.structure(tx_j.init(p))  # optjax's own classes
    _, _, ups_o = run(tx_o, p, s_o, STEPS, STEPS)
    _, _, ups_j = run(tx_j, p, s_j, STEPS, STEPS)
    for u_o, u_j in zip(ups_o, ups_j):
        for a, b in zip(jax.tree.leaves(u_j), jax.tree.leaves(u_o)):
            # optax's float32 bias correction differs from optjax's by ~1e-5 relative
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("call", ["adamw", "inject_adamw", "multi_steps_adam"])
def test_optjax_checkpoint_round_trip(call, tmp_path):
    tx = CALLS[call](optjax)
    p, s, _ = run(tx, params0(), tx.init(params0()), STEPS, 0)
    restored = save_and_restore(tmp_path / "state", s, tx.init(p))
    _, _, ups = run(tx, p, s, STEPS, STEPS)
    _, _, ups_r = run(tx, p, restored, STEPS, STEPS)
    for a, b in zip(jax.tree.leaves(ups_r), jax.tree.leaves(ups)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_mismatched_layout_is_refused(tmp_path):
    """orbax refuses a template of another layout: what the layout tests guard against."""
    p = params0()
    s_o = optax.adam(1e-2).init(p)
    with pytest.raises(ValueError, match="structure"):
        save_and_restore(tmp_path / "state", s_o, optjax.amsgrad(1e-2).init(p))
