"""Edge cases where optax's schedules are the reference: zero-step transitions give a
constant (a config with ``warmup_steps=0``), huge step counts do not overflow under jit."""

import jax
import numpy as np
import pytest

import optjax

optax = pytest.importorskip("optax")

ZERO_STEPS = [
    ("linear_schedule", dict(init_value=0.3, end_value=1.0, transition_steps=0)),
    ("linear_schedule", dict(init_value=0.3, end_value=1.0, transition_steps=0, transition_begin=5)),
    ("polynomial_schedule", dict(init_value=0.3, end_value=1.0, power=2, transition_steps=0)),
    ("exponential_decay", dict(init_value=0.3, transition_steps=0, decay_rate=0.5)),
    ("exponential_decay", dict(init_value=0.3, transition_steps=10, decay_rate=0.0)),
    ("exponential_decay", dict(init_value=0.3, transition_steps=0, decay_rate=0.5, staircase=True)),
]


@pytest.mark.parametrize("name, kw", ZERO_STEPS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(ZERO_STEPS)])
def test_zero_transition_steps_is_constant_as_optax(name, kw):
    ours, theirs = getattr(optjax, name)(**kw), getattr(optax, name)(**kw)
    for t in (0, 1, 7, 100):
        np.testing.assert_allclose(np.asarray(ours(t)), np.float32(theirs(t)), rtol=0)
        np.testing.assert_allclose(np.asarray(jax.jit(ours)(t)), kw["init_value"], rtol=1e-7)


@pytest.mark.parametrize("make, arg", [
    (lambda: optjax.linear_schedule(0.3, 1.0, -1), "transition_steps"),
    (lambda: optjax.polynomial_schedule(0.3, 1.0, 2, -1), "transition_steps"),
    (lambda: optjax.exponential_decay(0.3, -1, 0.5), "transition_steps"),
    (lambda: optjax.exponential_decay(0.3, 1, -0.5), "decay_rate"),
])
def test_negative_steps_still_raise(make, arg):
    with pytest.raises(ValueError, match=arg):
        make()


BIG = 10**10
HUGE = [
    ("cosine_decay_schedule", dict(init_value=1.0, decay_steps=BIG)),
    ("cosine_decay_schedule", dict(init_value=1.0, decay_steps=BIG, alpha=0.1, exponent=2.0)),
    ("linear_schedule", dict(init_value=1.0, end_value=0.0, transition_steps=BIG, transition_begin=BIG)),
    ("polynomial_schedule", dict(init_value=1.0, end_value=0.0, power=2, transition_steps=BIG)),
    ("exponential_decay", dict(init_value=1.0, transition_steps=BIG, decay_rate=0.5)),
    ("warmup_cosine_decay_schedule", dict(init_value=0.0, peak_value=1.0, warmup_steps=BIG,
                                          decay_steps=3 * BIG)),
]


@pytest.mark.parametrize("name, kw", HUGE, ids=[f"{n}-{i}" for i, (n, _) in enumerate(HUGE)])
def test_huge_step_counts_under_jit(name, kw):
    s = getattr(optjax, name)(**kw)
    for t in (0, 5, BIG // 2, 2 * BIG, 4 * BIG):
        eager = float(s(t))
        jitted = float(jax.jit(s)(np.float32(t)))
        assert np.isfinite(jitted)
        np.testing.assert_allclose(jitted, eager, atol=1e-6)


def test_cosine_decay_huge_steps_matches_optax():
    ours = optjax.cosine_decay_schedule(1.0, BIG)
    theirs = optax.cosine_decay_schedule(1.0, BIG)
    for t in (0, 5, BIG // 2, BIG):
        np.testing.assert_allclose(float(jax.jit(ours)(np.float32(t))), float(theirs(t)), atol=1e-6)
