"""chain: another optimizer's state is a TypeError naming the expected state type."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

import optjax


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("tx,other,expected,got", [
    (lambda: optjax.adam(1e-3), lambda: optjax.sgd(0.1, momentum=0.9), "ScaleByAdamState", "TraceState"),
    (lambda: optjax.sgd(0.1, momentum=0.9), lambda: optjax.adam(1e-3), "TraceState", "ScaleByAdamState"),
    (lambda: optjax.adamw(1e-3), lambda: optjax.lion(1e-3), "ScaleByAdamState", "ScaleByLionState"),
])
def test_foreign_state_is_a_type_error_naming_the_expected_state(tx, other, expected, got, jit):
    params = {"w": jnp.ones(3)}
    tx, other = tx(), other()
    update = jax.jit(tx.update) if jit else tx.update
    with pytest.raises(TypeError, match=f"chain stage 0 expected a state of type {expected} .*got {got}"):
        update(params, other.init(params), params)


def test_chain_state_of_other_length_is_a_value_error():
    params = {"w": jnp.ones(3)}
    with pytest.raises(ValueError, match="chain of 2 transforms got a state of 3 entries"):
        optjax.chain(optjax.scale(1.0), optjax.scale(2.0)).update(params, (None, None, None), params)
