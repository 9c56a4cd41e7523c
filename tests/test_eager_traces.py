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


def _sq(p):
    return sum(jnp.sum(x ** 2) for x in jax.tree.leaves(p))


# optax's names outside the registries, written over optjax.tree_math (issue 14), and the
# transforms that take a callable extra argument (issue 17: eager updates do not recompile).
OPTAX_NAMES = {
    "novograd": lambda: optjax.novograd(1e-2),
    "adan": lambda: optjax.adan(1e-2),
    "yogi": lambda: optjax.yogi(1e-2),
    "sm3": lambda: optjax.sm3(1e-2),
    "optimistic_gradient_descent": lambda: optjax.optimistic_gradient_descent(1e-2),
    "optimistic_adam_v2": lambda: optjax.optimistic_adam_v2(1e-2),
    "conditionally_mask": lambda: optjax.conditionally_mask(optjax.sgd(0.1), lambda step: step % 2 == 0),
    "conditionally_transform": lambda: optjax.conditionally_transform(optjax.sgd(0.1), lambda step: step % 2 == 0),
    "reduce_on_plateau": lambda: optjax.chain(optjax.sgd(0.1), optjax.contrib.reduce_on_plateau(patience=1)),
    "lbfgs": lambda: optjax.lbfgs(),
    "lbfgs backtracking": lambda: optjax.chain(optjax.sgd(1.0), optjax.scale_by_backtracking_linesearch(15)),
}


@pytest.mark.parametrize("name", sorted(OPTAX_NAMES))
def test_eager_update_of_optax_names_traces_once(name):
    tx = OPTAX_NAMES[name]()
    params = tree(False)
    grads = jax.tree.map(lambda x: 0.1 * x + 0.05, params)
    extra = {}
    if name.startswith("lbfgs"):
        extra = dict(value=_sq(params), grad=grads, value_fn=_sq)  # the same callable on every call
    elif name == "reduce_on_plateau":
        extra = dict(value=jnp.asarray(1.0))
    state = tx.init(params)
    for _ in range(2):  # a callable extra argument is compiled in once it is seen again
        u, state = tx.update(grads, state, params, **extra)
    jax.block_until_ready(u)
    with Events() as events:
        for _ in range(2):
            u, state = tx.update(grads, state, params, **extra)
            jax.block_until_ready((u, state))
    assert events.seen == [], f"{name}: warm eager updates traced/compiled: {events.seen}"


def test_lbfgs_eager_with_a_fresh_value_fn_each_call_matches_jit():
    # A new lambda on each call takes the plain path (no compile per call); the numbers are
    # those of the jitted update.
    tx = optjax.lbfgs()
    params = {"w": jnp.array([1.0, -2.0, 3.0])}
    state = tx.init(params)
    jitted = jax.jit(tx.update, static_argnames="value_fn")
    p_e, s_e, p_j, s_j = params, state, params, state
    for _ in range(3):
        v, g = jax.value_and_grad(_sq)(p_e)
        u_e, s_e = tx.update(g, s_e, p_e, value=v, grad=g, value_fn=lambda p: _sq(p))
        p_e = optjax.apply_updates(p_e, u_e)
        v, g = jax.value_and_grad(_sq)(p_j)
        u_j, s_j = jitted(g, s_j, p_j, value=v, grad=g, value_fn=_sq)
        p_j = optjax.apply_updates(p_j, u_j)
    assert jnp.allclose(p_e["w"], p_j["w"], rtol=1e-6, atol=1e-7)
