"""The shared optimizer suite: every registry entry (registry.py, and
registry_mxnet.py when present) must

* converge on a quadratic and on Rosenbrock (one ``lax.scan`` each);
* give the same numbers jitted and eager, and not recompile on the second call;
* preserve bfloat16 / float32 / float64 params (updates and state keep their dtypes);
* give the same numbers inside ``optjax.inject_hyperparams``;
* leave a None-gradient leaf alone (None update, its state untouched);
* work under ``optjax.freeze`` (frozen leaves: zero update, no state);
* on params sharded over 8 simulated devices: state gets the params' sharding
  and a jitted step gives the single-device numbers;
* reject a negative learning rate with a ValueError naming it.

A registry may restrict an entry (2-D leaves only), keep arguments static under
inject_hyperparams, give it per-problem hyperparameters, or excuse it from a
test with a reason: see the tables described in registry.py.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

import optjax

HERE = os.path.dirname(os.path.abspath(__file__))


# Tests an entry may be excused from (registry ``SKIP``), and the problems an
# entry may give its own hyperparameters for (registry ``PROBLEM_KWARGS``).
SKIPPABLE = ("converges_on_quadratic", "converges_on_rosenbrock", "jit_equals_eager_and_compiles_once",
             "dtype_preserved", "inject_hyperparams_same_numbers", "none_gradient_leaves_state_untouched",
             "frozen_leaves", "sharded_params", "negative_learning_rate_rejected")
PROBLEMS = ("quadratic", "rosenbrock")


class Entry(NamedTuple):
    """One registry entry with its options (all from the registry's optional tables).

    * ``matrix_only`` (``NEEDS_2D``): the optimizer accepts only 2-D leaves; the
      suite gives it trees whose leaves are all matrices.
    * ``inject_static`` (``INJECT_STATIC``): arguments kept static under
      ``inject_hyperparams`` besides the integers the suite finds itself.
    * ``skip`` (``SKIP``): ``{test: reason}``, tests that do not apply.
    * ``problem_kwargs`` (``PROBLEM_KWARGS``): ``{problem: kwargs}`` merged over
      ``kw`` for that convergence problem only.
    """

    name: str
    kw: dict
    matrix_only: bool = False
    inject_static: tuple = ()
    skip: dict = {}
    problem_kwargs: dict = {}


def _load_entries(fname):
    path = os.path.join(HERE, fname)
    if not os.path.exists(path):
        return []
    spec = importlib.util.spec_from_file_location(f"_optjax_{fname[:-3]}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    needs_2d = set(getattr(mod, "NEEDS_2D", ()))
    inject_static = dict(getattr(mod, "INJECT_STATIC", {}))
    skip = dict(getattr(mod, "SKIP", {}))
    problem_kwargs = dict(getattr(mod, "PROBLEM_KWARGS", {}))
    names = {name for name, _ in mod.ENTRIES}
    for table, keys in (("NEEDS_2D", needs_2d), ("INJECT_STATIC", inject_static), ("SKIP", skip),
                        ("PROBLEM_KWARGS", problem_kwargs)):
        unknown = set(keys) - names
        assert not unknown, f"{fname}: {table} names optimizers with no entry: {sorted(unknown)}"
    for name, tests in skip.items():
        for test, reason in tests.items():
            assert test in SKIPPABLE, f"{fname}: SKIP[{name!r}] names unknown test {test!r}"
            assert isinstance(reason, str) and reason.strip(), f"{fname}: SKIP[{name!r}][{test!r}] needs a reason"
    for name, probs in problem_kwargs.items():
        unknown = set(probs) - set(PROBLEMS)
        assert not unknown, f"{fname}: PROBLEM_KWARGS[{name!r}] names unknown problems {sorted(unknown)}"
    return [
        Entry(name, kw, matrix_only=name in needs_2d, inject_static=tuple(inject_static.get(name, ())),
              skip=dict(skip.get(name, {})), problem_kwargs=dict(problem_kwargs.get(name, {})))
        for name, kw in mod.ENTRIES
    ]


ENTRIES = _load_entries("registry.py") + _load_entries("registry_mxnet.py")


def _id(entry):
    name, kw = entry.name, entry.kw
    return name + ("-" + "-".join(f"{k}={v}" for k, v in kw.items()) if kw else "")


IDS = [_id(e) for e in ENTRIES]
params_entries = pytest.mark.parametrize("entry", ENTRIES, ids=IDS)


def make(entry, **overrides):
    return getattr(optjax, entry.name)(**{**entry.kw, **overrides})


def skip_if_not_applicable(entry, test):
    reason = entry.skip.get(test)
    if reason:
        pytest.skip(f"{entry.name}: {reason}")


def tree(dtype=jnp.float32, matrix_only=False):
    """A small tree with a matrix (Muon's kind), a vector and a 3-D leaf; with
    ``matrix_only`` (entries that accept only 2-D leaves) the same values with
    the vector as a (4, 1) column and the 3-D leaf as a (6, 2) matrix."""
    vec_shape, cube_shape = ((4, 1), (6, 2)) if matrix_only else ((4,), (2, 3, 2))
    return {
        "mat": (jnp.sin(jnp.arange(12.0)).reshape(3, 4) * 0.5).astype(dtype),
        "vec": (jnp.cos(jnp.arange(4.0)) * 0.3).reshape(vec_shape).astype(dtype),
        "cube": (jnp.sin(jnp.arange(12.0) + 1.0).reshape(cube_shape) * 0.4).astype(dtype),
    }


def tree_for(entry, dtype=jnp.float32):
    return tree(dtype, matrix_only=entry.matrix_only)


def grads_at(params, k):
    return jax.tree.map(lambda p: (jnp.sin(1.3 * p.astype(jnp.float32) + 0.4 * k)).astype(p.dtype), params)


def _is_array(x):
    return hasattr(x, "dtype") and hasattr(x, "shape")


# ----------------------------------------------------------------------------
# Convergence


def quadratic(p):
    # A well-conditioned quadratic on the tree, minimum at c = 0.5.
    return sum(jnp.sum((1.0 + 0.1 * i) * (x - 0.5) ** 2) for i, x in enumerate(jax.tree.leaves(p)))


def rosenbrock(p):
    # Rosenbrock on each row of a (4, 2) matrix, minimum at 1.
    x, y = p["xy"][:, 0], p["xy"][:, 1]
    return jnp.sum((1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2)


@params_entries
def test_converges_on_quadratic(entry):
    skip_if_not_applicable(entry, "converges_on_quadratic")
    start, end = _minimise_jit(entry, "quadratic", quadratic, tree_for(entry), 1500)
    assert end < 1e-2 * start, f"{_id(entry)}: quadratic {start:.3g} -> {end:.3g}"


@params_entries
def test_converges_on_rosenbrock(entry):
    skip_if_not_applicable(entry, "converges_on_rosenbrock")
    p0 = {"xy": jnp.tile(jnp.array([[-0.5, 1.0]]), (4, 1))}
    start, end = _minimise_jit(entry, "rosenbrock", rosenbrock, p0, 3000)
    assert end < 0.05 * start, f"{_id(entry)}: rosenbrock {start:.3g} -> {end:.3g}"


def _minimise_jit(entry, problem, loss, params, steps):
    # The entry's hyperparameters for this problem (registry PROBLEM_KWARGS),
    # e.g. a smaller step for Rosenbrock's curvature (~1000 at the minimum).
    tx = make(entry, **entry.problem_kwargs.get(problem, {}))

    @jax.jit
    def run(p):
        def body(carry, _):
            q, s = carry
            g = jax.grad(loss)(q)
            u, s = tx.update(g, s, q)
            return (optjax.apply_updates(q, u), s), None

        (q, _), _ = jax.lax.scan(body, (p, tx.init(p)), None, length=steps)
        return loss(p), loss(q)

    a, b = run(params)
    return float(a), float(b)


# ----------------------------------------------------------------------------
# jit, recompilation, dtypes


def _steps(tx, params, n, step_fn):
    s = tx.init(params)
    out = []
    for k in range(n):
        u, s = step_fn(grads_at(params, k), s, params)
        params = optjax.apply_updates(params, u)
        out.append((u, params))
    return out, s


@params_entries
def test_jit_equals_eager_and_compiles_once(entry):
    skip_if_not_applicable(entry, "jit_equals_eager_and_compiles_once")
    tx = make(entry)
    step = jax.jit(tx.update)
    eager, _ = _steps(tx, tree_for(entry), 3, tx.update)
    jitted, _ = _steps(tx, tree_for(entry), 3, step)
    assert step._cache_size() == 1, f"{_id(entry)}: recompiled ({step._cache_size()} entries)"
    for (ue, pe), (uj, pj) in zip(eager, jitted):
        for a, b in zip(jax.tree.leaves(pe), jax.tree.leaves(pj)):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-7)


@params_entries
def test_update_and_apply_equals_plain_path(entry):
    # The documented fast switch gives the plain path's numbers bit for bit, in a donated jitted step.
    skip_if_not_applicable(entry, "jit_equals_eager_and_compiles_once")
    tx = make(entry)

    def plain(p, s, g):
        u, s = tx.update(g, s, p)
        return optjax.apply_updates(p, u), s

    def fused(p, s, g):
        return optjax.update_and_apply(tx, g, s, p)

    results = []
    for fn in (plain, fused):
        step = jax.jit(fn, donate_argnums=(0, 1))
        p = tree_for(entry)
        s = tx.init(p)
        for k in range(3):
            p, s = step(p, s, grads_at(tree_for(entry), k))
        results.append((p, s))
    (p1, s1), (p2, s2) = results
    assert jax.tree.structure(s1) == jax.tree.structure(s2)
    for a, b in zip(jax.tree.leaves((p1, s1)), jax.tree.leaves((p2, s2))):
        if _is_array(a) and not jax.dtypes.issubdtype(a.dtype, jax.dtypes.prng_key):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=_id(entry))


def _check_dtypes(entry, dtype):
    skip_if_not_applicable(entry, "dtype_preserved")
    tx = make(entry)
    params = tree_for(entry, dtype)
    s0 = tx.init(params)
    step = jax.jit(tx.update)
    u, s1 = step(grads_at(params, 0), s0, params)
    u, s2 = step(grads_at(params, 1), s1, params)
    for x in jax.tree.leaves(u):
        assert x.dtype == dtype, f"{_id(entry)}: update dtype {x.dtype} for {dtype} params"
    d0 = [x.dtype for x in jax.tree.leaves(s0) if _is_array(x)]
    d2 = [x.dtype for x in jax.tree.leaves(s2) if _is_array(x)]
    assert d0 == d2, f"{_id(entry)}: state dtypes drifted"
    new = optjax.apply_updates(params, u)
    for x in jax.tree.leaves(new):
        assert x.dtype == dtype
        assert bool(jnp.all(jnp.isfinite(x.astype(jnp.float32))))
    assert step._cache_size() == 1


@params_entries
@pytest.mark.parametrize("dtype", ["bfloat16", "float32"])
def test_dtype_preserved(entry, dtype):
    _check_dtypes(entry, jnp.dtype(dtype))


@params_entries
def test_dtype_preserved_float64(entry):
    with jax.enable_x64(True):
        _check_dtypes(entry, jnp.dtype("float64"))


# ----------------------------------------------------------------------------
# inject_hyperparams


@params_entries
def test_inject_hyperparams_same_numbers(entry):
    skip_if_not_applicable(entry, "inject_hyperparams_same_numbers")
    name, kw = entry.name, entry.kw
    factory = getattr(optjax, name)
    plain = make(entry)
    # Integers steer shapes and loops (min_dim_size_to_factor, ns_steps): static;
    # so is what the registry lists in INJECT_STATIC (sgld's PRNG key).
    sig = inspect.signature(factory)
    values = {k: p.default for k, p in sig.parameters.items()}
    values.update(kw)
    static = tuple(k for k, v in values.items() if isinstance(v, int) and not isinstance(v, bool))
    unknown = set(entry.inject_static) - set(values)
    assert not unknown, f"{_id(entry)}: INJECT_STATIC names no argument of {name}: {sorted(unknown)}"
    static = tuple(dict.fromkeys(static + entry.inject_static))
    injected = optjax.inject_hyperparams(factory, static_args=static)(**kw)
    a, _ = _steps(plain, tree_for(entry), 3, jax.jit(plain.update))
    b, s = _steps(injected, tree_for(entry), 3, jax.jit(injected.update))
    assert isinstance(s, optjax.InjectHyperparamsState)
    # Equal up to float32 rounding: an injected decay b is a float32 scalar, so
    # (1 - b) is rounded once more than with a Python float (2.4e-7 relative for
    # 0.9, 1.3e-5 for 0.999 inside a bias correction).
    for (_, pa), (_, pb) in zip(a, b):
        for x, y in zip(jax.tree.leaves(pa), jax.tree.leaves(pb)):
            np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=2e-5, atol=1e-6)


# ----------------------------------------------------------------------------
# None gradients and frozen leaves


def _state_by_path(state):
    pairs, _ = jax.tree_util.tree_flatten_with_path(state)
    return {jax.tree_util.keystr(k): v for k, v in pairs}


@params_entries
def test_none_gradient_leaves_state_untouched(entry):
    skip_if_not_applicable(entry, "none_gradient_leaves_state_untouched")
    tx = make(entry)
    params = tree_for(entry)
    s0 = tx.init(params)
    g = grads_at(params, 0)
    g["vec"] = None
    u, s1 = jax.jit(tx.update)(g, s0, params)
    assert u["vec"] is None
    assert u["mat"] is not None and u["cube"] is not None
    before, after = _state_by_path(s0), _state_by_path(s1)
    touched = [k for k in before if "'vec'" in k
               and not np.array_equal(np.asarray(before[k]), np.asarray(after[k]))]
    assert not touched, f"{_id(entry)}: state of a None-gradient leaf changed: {touched}"
    new = optjax.apply_updates(params, u)
    np.testing.assert_array_equal(np.asarray(new["vec"]), np.asarray(params["vec"]))


@params_entries
def test_frozen_leaves(entry):
    skip_if_not_applicable(entry, "frozen_leaves")
    tx = optjax.freeze({"vec": True}, make(entry))
    params = tree_for(entry)
    s = tx.init(params)
    assert not any("'vec'" in k for k in _state_by_path(s.inner_states["train"])), \
        "frozen leaves must hold no optimizer state"
    step = jax.jit(tx.update)
    p = params
    for k in range(2):
        u, s = step(grads_at(p, k), s, p)
        p = optjax.apply_updates(p, u)
    np.testing.assert_array_equal(np.asarray(p["vec"]), np.asarray(params["vec"]))
    assert not np.array_equal(np.asarray(p["mat"]), np.asarray(params["mat"]))


# ----------------------------------------------------------------------------
# Sharding


def sharded_tree(matrix_only=False):
    mesh = Mesh(np.array(jax.devices()[:8]), ("x",))
    vec_shape, cube_shape = ((16, 1), (8, 4)) if matrix_only else ((16,), (8, 2, 2))
    base = {
        "mat": jnp.sin(jnp.arange(32.0)).reshape(8, 4) * 0.5,
        "vec": (jnp.cos(jnp.arange(16.0)) * 0.3).reshape(vec_shape),
        "cube": (jnp.sin(jnp.arange(32.0) + 1.0) * 0.4).reshape(cube_shape),
    }
    shard = {k: NamedSharding(mesh, P("x", *([None] * (v.ndim - 1)))) for k, v in base.items()}
    return base, {k: jax.device_put(v, shard[k]) for k, v in base.items()}, shard


@params_entries
def test_sharded_params(entry):
    skip_if_not_applicable(entry, "sharded_params")
    if len(jax.devices()) < 8:
        pytest.skip("needs 8 (simulated) devices")
    base, sharded, shard = sharded_tree(entry.matrix_only)
    tx = make(entry)
    s_sh = jax.jit(tx.init)(sharded)
    pairs, _ = jax.tree_util.tree_flatten_with_path(s_sh)
    for path, x in pairs:
        if not _is_array(x):
            continue
        for name, p in sharded.items():
            if f"'{name}'" in jax.tree_util.keystr(path) and x.shape == p.shape:
                assert x.sharding.is_equivalent_to(p.sharding, x.ndim), \
                    f"{_id(entry)}: state {jax.tree_util.keystr(path)} not sharded like its param"
    step = jax.jit(tx.update)
    u_sh, _ = step(grads_at(sharded, 0), s_sh, sharded)
    u_1, _ = step(grads_at(base, 0), tx.init(base), base)
    for name in base:
        np.testing.assert_allclose(np.asarray(u_sh[name]), np.asarray(u_1[name]), rtol=1e-6, atol=1e-7)


# ----------------------------------------------------------------------------
# Bad input


@params_entries
def test_negative_learning_rate_rejected(entry):
    skip_if_not_applicable(entry, "negative_learning_rate_rejected")
    if "learning_rate" not in entry.kw:
        pytest.skip("no learning_rate argument")
    with pytest.raises(ValueError, match="learning_rate"):
        make(entry, learning_rate=-1.0)
