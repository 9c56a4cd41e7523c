"""``set_hyperparams`` checks a new value as the factory does, before anything changes."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optjax


def _state(factory=optjax.adam, **kw):
    tx = optjax.inject_hyperparams(factory)(**({"learning_rate": 1e-3} | kw))
    params = {"w": jnp.ones(3)}
    state = tx.init(params)
    _, state = jax.jit(tx.update)(params, state, params)
    return tx, params, state


@pytest.mark.parametrize("kwargs,error,match", [
    ({"learning_rate": -5.0}, ValueError, r"^learning_rate must be >= 0, got -5.0"),
    ({"learning_rate": math.nan}, ValueError, r"^learning_rate must be a finite number"),
    ({"learning_rate": math.inf}, ValueError, r"^learning_rate must be a finite number"),
    ({"b1": 1.5}, ValueError, r"^b1 must be in \[0, 1\), got 1.5"),
    ({"eps": -1.0}, ValueError, r"^eps must be >= 0"),
    ({"learning_rate": jnp.full(3, 1e-3)}, ValueError, r"^learning_rate must be a scalar, got an array of shape \(3,\)"),
    ({"learning_rate": "0.1"}, TypeError, r"^learning_rate must be a number or a schedule, got str"),
    ({"learning_rate": None}, TypeError, r"^learning_rate must be a number or a schedule, got None"),
])
def test_set_hyperparams_rejects_what_the_factory_rejects(kwargs, error, match):
    tx, params, state = _state()
    before = jax.tree.map(np.asarray, state)
    with pytest.raises(error, match=match):
        optjax.set_hyperparams(state, **kwargs)
    for a, b in zip(jax.tree.leaves(before), jax.tree.leaves(state)):
        np.testing.assert_array_equal(a, b)
    (arg,) = kwargs  # the factory itself gives the same error
    with pytest.raises(error, match=match):
        optjax.adam(**{"learning_rate": 1e-3} | kwargs)


def test_set_hyperparams_checks_with_the_other_current_values():
    # sgd's nesterov needs dampening == 0: a check across two hyperparameters (dampening,
    # an optjax-only option, is injected when it is given).
    _, _, state = _state(optjax.sgd, momentum=0.9, nesterov=True, dampening=0.0)
    with pytest.raises(ValueError, match="dampening"):
        optjax.set_hyperparams(state, dampening=0.5)


def test_set_hyperparams_all_or_nothing_over_several_values():
    _, _, state = _state()
    with pytest.raises(ValueError, match="^b2"):
        optjax.set_hyperparams(state, learning_rate=1e-2, b2=2.0)
    assert float(optjax.get_hyperparam(state, "learning_rate")) == pytest.approx(1e-3)


def test_set_hyperparams_valid_values_still_do_not_recompile():
    tx, params, state = _state()
    step = jax.jit(tx.update)
    _, state = step(params, state, params)
    state = optjax.set_hyperparams(state, learning_rate=0.5, b1=0.0)
    _, state = step(params, state, params)
    assert step._cache_size() == 1
    assert float(optjax.get_hyperparam(state, "b1")) == 0.0


def test_set_hyperparams_inside_jit_is_not_checked_but_works():
    tx, params, state = _state()
    f = jax.jit(lambda s, lr: optjax.set_hyperparams(s, learning_rate=lr))
    assert float(optjax.get_hyperparam(f(state, 0.25), "learning_rate")) == 0.25


def test_hyperparams_stays_a_dict_with_the_factory_checks():
    tx, params, state = _state()
    assert isinstance(state.hyperparams, dict)
    assert set(state.hyperparams) >= {"learning_rate", "b1", "b2", "eps"}
    # Two states of the same factory have the same structure.
    other = optjax.inject_hyperparams(optjax.adam)(learning_rate=0.5).init(params)
    assert jax.tree.structure(other) == jax.tree.structure(tx.init(params))
    _ = jax.tree.map(lambda a, b: a + b, other, tx.init(params))
