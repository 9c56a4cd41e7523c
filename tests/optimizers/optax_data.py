"""The params, gradients and loss the tests against live optax share
(``test_optax_names.py``, ``test_optax_state_layout.py``); loaded by file path."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def params0():
    return {
        "w": jnp.sin(jnp.arange(12.0)).reshape(3, 4),
        "b": jnp.cos(jnp.arange(4.0)) * 0.5 + 1.0,
        "k": jnp.sin(jnp.arange(24.0) * 0.3 + 1.0).reshape(2, 3, 2, 2),
    }


def grad(params, k):
    return jax.tree.map(lambda p: jnp.sin(1.7 * p + 0.3 * k) + 0.2 * p, params)


def loss_value(params):
    return sum(jnp.sum(p**2) for p in jax.tree.leaves(params)) + 1.0

