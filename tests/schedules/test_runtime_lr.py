"""Changing the learning rate at run time without recompiling (MXNet's
``trainer.set_learning_rate(x)``, torch's ``group['lr'] = x``)."""

import jax
import jax.numpy as jnp
import numpy as np

import optjax


def test_set_learning_rate_without_recompiling():
    tx = optjax.inject_hyperparams(optjax.sgd)(learning_rate=0.1)
    params = {"w": jnp.ones(3)}
    state = tx.init(params)
    traces = []

    @jax.jit
    def step(params, state):
        traces.append(1)
        updates, state = tx.update({"w": jnp.ones(3)}, state, params)
        return optjax.apply_updates(params, updates), state

    params, state = step(params, state)
    np.testing.assert_allclose(params["w"], 0.9, rtol=1e-6)
    state = optjax.set_hyperparams(state, learning_rate=0.01)  # trainer.set_learning_rate(0.01)
    params, state = step(params, state)
    np.testing.assert_allclose(params["w"], 0.89, rtol=1e-6)
    assert float(optjax.get_hyperparam(state, "learning_rate")) == np.float32(0.01)
    assert len(traces) == 1


def test_set_learning_rate_per_group():
    """torch: ``opt.param_groups[1]['lr'] = 1e-3`` is a set on that group's sub-state."""
    tx = optjax.partition(
        {"base": optjax.inject_hyperparams(optjax.sgd)(learning_rate=0.1),
         "head": optjax.inject_hyperparams(optjax.sgd)(learning_rate=0.1)},
        {"base": "base", "head": "head"})
    params = {"base": jnp.zeros(2), "head": jnp.zeros(2)}
    state = tx.init(params)
    inner = dict(state.inner_states)
    inner["head"] = optjax.set_hyperparams(inner["head"], learning_rate=1e-3)
    state = state._replace(inner_states=inner)
    updates, _ = jax.jit(tx.update)({"base": jnp.ones(2), "head": jnp.ones(2)}, state, params)
    np.testing.assert_allclose(updates["base"], -0.1, rtol=1e-6)
    np.testing.assert_allclose(updates["head"], -1e-3, rtol=1e-6)


def test_schedule_as_injected_hyperparameter():
    """A schedule drives the lr; the state records the value used at each step."""
    sched = optjax.schedules.torch_lr.step_lr(0.1, 2, 0.5)
    tx = optjax.inject_hyperparams(optjax.sgd)(learning_rate=sched)
    params = {"w": jnp.zeros(())}
    state = tx.init(params)

    def body(s, _):
        u, s = tx.update({"w": jnp.ones(())}, s, params)
        return s, -u["w"]

    _, used = jax.jit(lambda s: jax.lax.scan(body, s, None, length=6))(state)
    np.testing.assert_allclose(used, sched(jnp.arange(6)), rtol=1e-6)
