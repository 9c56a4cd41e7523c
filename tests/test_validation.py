"""Bad hyperparameters are errors at construction, naming the argument.

The sweeps build every public factory of ``optjax`` with one bad value at a
time (NaN for each float argument, a string, None or an array for the
learning rate), so a factory added later is checked as well.
"""

from __future__ import annotations

import inspect
import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optjax

# Values for required arguments, so each factory can be built with one bad value.
FILL = dict(
    learning_rate=0.1, decay=0.9, max_norm=1.0, init_value=1.0, peak_value=1.0, end_value=0.0,
    warmup_steps=10, decay_steps=100, transition_steps=10, decay_rate=0.5, max_linesearch_steps=5,
    key=0, weight_decay=1e-4, boundaries_and_scales={10: 0.5}, step_size=0.1, min_norm=0.0,
    total_steps=100, max_delta=1.0, threshold=1.0, power=1.0, max_backtracking_steps=5,
    t_0=10, base_value=0.1, max_value=1.0,
)

# (factory, argument): checked, but the error names the peer's word for it.
NAMED_OTHERWISE = {("trace", "decay"): "momentum"}

# Factories whose learning_rate may be None (optax's contract: a relative step
# size, or a line search).
OPTIONAL_LR = {"adadelta", "adafactor", "scale_by_adafactor", "lbfgs", "decoupled_weight_decay"}


def _factories():
    out = []
    for name in sorted(dir(optjax)):
        f = getattr(optjax, name)
        if name.startswith("_") or not inspect.isfunction(f):
            continue
        sig = inspect.signature(f)
        required = {p.name for p in sig.parameters.values()
                    if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
        if not required <= set(FILL):
            continue
        base = {k: FILL[k] for k in required}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                f(**base)
        except Exception:  # noqa: BLE001 - not a factory buildable from FILL
            continue
        out.append((name, f, sig, base))
    return out


FACTORIES = _factories()

FLOAT_ARGS = [
    (name, arg)
    for name, f, sig, base in FACTORIES
    for arg, p in sig.parameters.items()
    if isinstance(p.default if p.default is not p.empty else base.get(arg), float)
]

LR_FACTORIES = [name for name, f, sig, base in FACTORIES if "learning_rate" in sig.parameters]


def _build(name, **bad):
    f, base = next((f, base) for n, f, _, base in FACTORIES if n == name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(**{**base, **bad})


def test_sweeps_cover_the_catalogue():
    assert len(FACTORIES) > 90 and len(FLOAT_ARGS) > 250 and len(LR_FACTORIES) > 40


@pytest.mark.parametrize("name,arg", FLOAT_ARGS, ids=[f"{n}-{a}" for n, a in FLOAT_ARGS])
def test_nan_hyperparameter_is_a_value_error_naming_it(name, arg):
    with pytest.raises(ValueError, match=NAMED_OTHERWISE.get((name, arg), arg)):
        _build(name, **{arg: math.nan})


@pytest.mark.parametrize("name", LR_FACTORIES)
def test_string_learning_rate_is_a_type_error(name):
    with pytest.raises(TypeError, match="learning_rate must be a number or a schedule, got str"):
        _build(name, learning_rate="0.1")


@pytest.mark.parametrize("name", LR_FACTORIES)
def test_none_learning_rate_is_an_error_at_construction(name):
    if name in OPTIONAL_LR:
        _build(name, learning_rate=None)
        return
    with pytest.raises((TypeError, ValueError), match="learning_rate"):
        _build(name, learning_rate=None)


@pytest.mark.parametrize("name", LR_FACTORIES)
def test_array_learning_rate_is_a_value_error(name):
    with pytest.raises(ValueError, match=r"learning_rate must be a scalar, got an array of shape \(3,\)"):
        _build(name, learning_rate=jnp.full(3, 0.1))


@pytest.mark.parametrize("factory,kwargs,arg", [
    (optjax.rmsprop, {"learning_rate": 0.1, "initial_scale": -1.0}, "initial_scale"),
    (optjax.radam, {"learning_rate": 0.1, "threshold": -1.0}, "threshold"),
    (optjax.adafactor, {"decay_offset": math.nan}, "decay_offset"),
    (optjax.asgd, {"t0": math.nan}, "t0"),
    (optjax.lbsgd, {"rescale_grad": math.inf}, "rescale_grad"),
    (optjax.lbsgd, {"rescale_grad": 0.0}, "rescale_grad"),
    (optjax.adan, {"learning_rate": 0.1, "b3": 1.5}, "b3"),
    (optjax.yogi, {"learning_rate": 0.1, "eps": -1.0}, "eps"),
    (optjax.noisy_sgd, {"learning_rate": 0.1, "eta": -1.0, "key": 0}, "eta"),
    (optjax.sgd, {"learning_rate": 0.1, "dampening": 2.0}, "dampening"),
    (optjax.muon, {"learning_rate": 0.1, "adam_b1": -1.0}, "adam_b1"),
    (optjax.muon, {"learning_rate": 0.1, "adam_b2": 1.0}, "adam_b2"),
    (optjax.muon, {"learning_rate": 0.1, "adam_eps": -1.0}, "adam_eps"),
    (optjax.polyak_sgd, {"scaling": -1.0}, "scaling"),
])
def test_hyperparameter_that_makes_nan_is_rejected(factory, kwargs, arg):
    with pytest.raises(ValueError, match=f"^{arg} must be"):
        factory(**kwargs)


def test_schedule_is_checked_beyond_step_0():
    bad_later = lambda t: jnp.where(t >= 50, jnp.nan, 1e-3)  # noqa: E731
    with pytest.raises(ValueError, match=r"learning_rate \(a schedule, at step 100\) must be a finite"):
        optjax.adam(bad_later)
    negative_later = optjax.linear_schedule(1e-3, -1e-3, 1000)
    with pytest.raises(ValueError, match=r"learning_rate \(a schedule, at step 1000\) must be >= 0"):
        optjax.sgd(negative_later)


def test_schedule_that_needs_tracing_is_not_checked():
    traced_only = lambda t: jax.lax.cond(t > 0, lambda: 1e-3, lambda: 1e-3)  # noqa: E731
    optjax.adam(traced_only)  # builds: it is evaluated inside the step


@pytest.mark.parametrize("schedule,kwargs,arg", [
    (optjax.linear_schedule, {"init_value": math.nan, "end_value": 0.0, "transition_steps": 10}, "init_value"),
    (optjax.cosine_decay_schedule, {"init_value": math.inf, "decay_steps": 10}, "init_value"),
    (optjax.warmup_constant_schedule, {"init_value": 0.0, "peak_value": math.nan, "warmup_steps": 5},
     "peak_value"),
    (optjax.warmup_constant_schedule, {"init_value": 0.0, "peak_value": 1.0, "warmup_steps": -1}, "warmup_steps"),
    (optjax.cosine_onecycle_schedule, {"transition_steps": 100, "peak_value": 1.0, "div_factor": 0.0},
     "div_factor"),
    (optjax.linear_onecycle_schedule, {"transition_steps": 100, "peak_value": 1.0, "final_div_factor": 0.0},
     "final_div_factor"),
    (optjax.piecewise_interpolate_schedule, {"interpolate_type": "linear", "init_value": 1.0,
                                             "boundaries_and_scales": {5: math.nan}}, "boundaries_and_scales"),
    (optjax.cyclic_schedule, {"base_value": math.nan, "max_value": 1.0}, "base_value"),
])
def test_schedule_values_are_checked(schedule, kwargs, arg):
    with pytest.raises(ValueError, match=f"^{arg}"):
        schedule(**kwargs)


def test_warmup_constant_schedule_zero_warmup_is_optax_constant():
    ours = optjax.warmup_constant_schedule(0.1, 1.0, 0)
    theirs = optax.warmup_constant_schedule(0.1, 1.0, 0)
    for t in (0, 1, 100):
        assert float(ours(t)) == pytest.approx(float(theirs(t)))


def test_linear_schedule_beyond_int32_steps_works_on_every_call():
    s = optjax.linear_schedule(1.0, 0.0, 2**31 + 100)
    np.testing.assert_allclose([float(s(0)), float(s(5)), float(jax.jit(s)(5))], [1.0, 1.0, 1.0], rtol=1e-6)
    assert float(s(2**31 + 100)) == 0.0
