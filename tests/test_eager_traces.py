"""Eager ``tx.update`` (no ``jax.jit`` around it) traces and compiles on the first
call only, for every optimizer of the test registries and for the wrappers that
build something per call (``inject_hyperparams``, ``MultiSteps``,
``apply_if_finite``) (issue 15 item 7, issue 17).

Traces and XLA compiles are counted with ``jax.monitoring`` events, so the
count covers everything an update does: the optimizer's per-leaf rule, its
per-step scalars, the chain, and the eager primitives around them.
"""

from __future__ import annotations

import importlib.util
import os

import jax
import jax.numpy as jnp
import pytest

import optjax

REGISTRIES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optimizers")
TRACE = "/jax/core/compile/jaxpr_trace_duration"
COMPILE = "/jax/core/compile/backend_compile_duration"


def _entries():
    out = []
    for fname in ("registry.py", "registry_mxnet.py"):
        spec = importlib.util.spec_from_file_location(f"_optjax_eager_{fname[:-3]}", os.path.join(REGISTRIES, fname))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        out += [(name, kw, name in getattr(mod, "NEEDS_2D", ())) for name, kw in mod.ENTRIES]
    return out


ENTRIES = _entries()


class Events:
    def __init__(self):
        self.seen: list[str] = []

    def __call__(self, event, duration, **kwargs):
        del duration, kwargs
        if event in (TRACE, COMPILE):
            self.seen.append(event)

    def __enter__(self):
        jax.monitoring.register_event_duration_secs_listener(self)
        return self

    def __exit__(self, *exc):
        jax.monitoring.unregister_event_duration_listener(self)


def tree(matrix_only):
    if matrix_only:
        return {"w": jnp.ones((3, 4)), "v": jnp.ones((4, 1))}
    return {"w": jnp.ones((3, 4)), "b": jnp.full(4, 0.5), "c": jnp.ones((2, 3, 2))}


@pytest.mark.parametrize("name,kw,matrix_only", ENTRIES,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(ENTRIES)])
def test_eager_update_traces_and_compiles_once(name, kw, matrix_only):
    tx = getattr(optjax, name)(**kw)
    params = tree(matrix_only)
    grads = jax.tree.map(lambda x: 0.1 * x + 0.05, params)
    state = tx.init(params)
    u, state = tx.update(grads, state, params)  # first call: traces and compiles
    jax.block_until_ready(u)
    with Events() as events:
        for _ in range(2):
            u, state = tx.update(grads, state, params)
            jax.block_until_ready((u, state))
    assert events.seen == [], f"{name}: warm eager updates traced/compiled: {events.seen}"


@pytest.mark.parametrize("name,kw", [("adam", {"learning_rate": 1e-2}),
                                     ("sgd", {"learning_rate": 1e-2, "momentum": 0.9}),
                                     ("nag", {"learning_rate": 1e-2, "momentum": 0.9, "weight_decay": 1e-3})])
def test_eager_inject_hyperparams_traces_once_also_after_set_hyperparams(name, kw):
    # inject_hyperparams rebuilds the optimizer from the state's values on each update.
    tx = optjax.inject_hyperparams(getattr(optjax, name))(**kw)
    params = tree(False)
    state = tx.init(params)
    u, state = tx.update(params, state, params)
    with Events() as events:
        u, state = tx.update(params, state, params)
        state = optjax.set_hyperparams(state, learning_rate=0.5)
        u, state = tx.update(params, state, params)
        jax.block_until_ready((u, state))
    assert events.seen == [], f"inject_hyperparams({name}): warm eager updates traced/compiled: {events.seen}"
    assert float(optjax.get_hyperparam(state, "learning_rate")) == 0.5


@pytest.mark.parametrize("wrap", ["MultiSteps", "apply_if_finite"])
def test_eager_wrappers_with_lax_cond_trace_once(wrap):
    inner = optjax.chain(optjax.clip_by_global_norm(1.0), optjax.adam(1e-2))
    if wrap == "MultiSteps":
        tx = optjax.MultiSteps(inner, every_k_schedule=2).gradient_transformation()
    else:
        tx = optjax.apply_if_finite(inner, max_consecutive_errors=2)
    params = tree(False)
    state = tx.init(params)
    u, state = tx.update(params, state, params)
    bad = dict(params, b=jnp.full(4, jnp.nan))
    with Events() as events:
        for g in (params, bad, params):  # the skipped step and the applied step alike
            u, state = tx.update(g, state, params)
        jax.block_until_ready((u, state))
    assert events.seen == [], f"{wrap}: warm eager updates traced/compiled: {events.seen}"


def test_counter_sees_a_retrace():
    # The check can fail: a fresh jax.jit on every call is seen.
    x = jnp.ones(3)
    with Events() as events:
        for _ in range(2):
            jax.jit(lambda y: y + 1)(x)
    assert events.seen.count(TRACE) == 2
