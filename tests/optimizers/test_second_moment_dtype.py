"""Issue 15, item 6: a second moment (a running mean or sum of squares) is kept in at
least float32 for bfloat16/float16 params by default; ``nu_dtype="param"`` (or
``accumulator_dtype="param"``) keeps the param's dtype. One policy:
``optjax.numerics.second_moment_dtype``."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optjax

# (factory, kwargs, the state fields that hold second moments)
SECOND_MOMENTS = [
    ("adam", {}, ("nu",)),
    ("adamw", {}, ("nu",)),
    ("amsgrad", {}, ("nu", "nu_max")),
    ("nadam", {}, ("nu",)),
    ("nadam", {"momentum_decay": 4e-3}, ("nu",)),
    ("radam", {}, ("nu",)),
    ("adamax", {}, ("nu",)),
    ("adabelief", {}, ("nu",)),
    ("rmsprop", {}, ("nu",)),
    ("adagrad", {}, ("sum_of_squares",)),
    ("adadelta", {}, ("e_g", "e_x")),
    ("lamb", {}, ("nu",)),
    ("lamb", {"bias_correction": False}, ("nu",)),
    ("adafactor", {"min_dim_size_to_factor": 2}, ("v_row", "v_col", "v")),
]
OPT_IN = {"adagrad": "accumulator_dtype", "adadelta": "accumulator_dtype"}


def _fields(state, names):
    """Every array under a state field called one of ``names``, anywhere in the state."""
    found = []

    def walk(node):
        if hasattr(node, "_fields"):
            for f in node._fields:
                v = getattr(node, f)
                if f in names:
                    found.extend(x for x in jax.tree.leaves(v) if hasattr(x, "dtype"))
                else:
                    walk(v)
        elif isinstance(node, (tuple, list)):
            for v in node:
                walk(v)
        elif isinstance(node, dict):
            for v in node.values():
                walk(v)

    walk(state)
    return found


def _params(dtype):
    return {"m": jnp.ones((3, 4), dtype), "v": jnp.ones(5, dtype)}


@pytest.mark.parametrize("name, kw, fields", SECOND_MOMENTS, ids=lambda x: str(x))
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_second_moments_are_float32_by_default(name, kw, fields, dtype):
    tx = getattr(optjax, name)(1e-2, **kw)
    params = _params(jnp.dtype(dtype))
    state = tx.init(params)
    moments = _fields(state, fields)
    assert moments, f"{name}: no field {fields} in {state}"
    assert all(x.dtype == jnp.float32 for x in moments), [x.dtype for x in moments]
    # and they stay float32 through a jitted step; the update keeps the param's dtype
    grads = jax.tree.map(lambda p: jnp.full_like(p, 0.5), params)
    u, state = jax.jit(tx.update)(grads, state, params)
    assert all(x.dtype == jnp.float32 for x in _fields(state, fields))
    assert all(x.dtype == jnp.dtype(dtype) for x in jax.tree.leaves(u))


@pytest.mark.parametrize("name, kw, fields", [e for e in SECOND_MOMENTS if e[0] != "adafactor"],
                         ids=lambda x: str(x))
def test_param_dtype_opt_in(name, kw, fields):
    kw = {**kw, OPT_IN.get(name, "nu_dtype"): "param"}
    tx = getattr(optjax, name)(1e-2, **kw)
    params = {"bf": jnp.ones(3, jnp.bfloat16), "f32": jnp.ones(3)}
    moments = _fields(tx.init(params), fields)
    assert sorted(x.dtype.name for x in moments) == sorted(["bfloat16", "float32"] * len(fields))


def test_explicit_dtype_and_float32_params_unchanged():
    s = optjax.adam(1e-3, nu_dtype=jnp.bfloat16).init({"w": jnp.ones(2)})
    assert s[0].nu["w"].dtype == jnp.bfloat16
    s = optjax.adam(1e-3).init({"w": jnp.ones(2), "c": jnp.ones(2, jnp.complex64)})
    assert s[0].nu["w"].dtype == jnp.float32 and s[0].nu["c"].dtype == jnp.complex64
    assert s[0].mu["w"].dtype == jnp.float32


def _nu_after(steps, param_dtype, **kw):
    """Adam's nu after ``steps`` updates of a fixed gradient stream (bf16-exact values)."""
    tx = optjax.scale_by_adam(**kw)
    n = 64
    params = {"w": jnp.zeros(n, param_dtype)}
    base = jnp.linspace(0.1, 3.0, n)

    def body(state, t):
        g = (base * (1.0 + 0.5 * jnp.sin(0.37 * t.astype(jnp.float32)))).astype(jnp.bfloat16)
        _, state = tx.update({"w": g.astype(param_dtype)}, state)
        return state, None

    state, _ = jax.jit(lambda s: jax.lax.scan(body, s, jnp.arange(steps)))(tx.init(params))
    return np.asarray(state.nu["w"], np.float64)


def test_bf16_adam_second_moment_stays_exact_over_10k_steps():
    # The gradients are bf16 values, so a float32 nu sees exactly what the float32
    # reference sees: bit-identical after 10k steps. A bf16 nu (the opt-in) drifts.
    ref = _nu_after(10_000, jnp.float32)
    got = _nu_after(10_000, jnp.bfloat16)
    np.testing.assert_array_equal(got, ref)
    kept = _nu_after(10_000, jnp.bfloat16, nu_dtype="param")
    assert np.max(np.abs(kept / ref - 1.0)) > 0.2  # what the default avoids
