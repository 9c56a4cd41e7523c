"""Schedules: agreement with optax, huge and odd-dtype steps, bad input, legacy MXNet code's call."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optjax
from optjax.schedules import mxnet_lr, torch_lr

STEPS = jnp.arange(120)

OPTAX_PAIRS = {
    "constant": ("constant_schedule", dict(value=0.3)),
    "polynomial": ("polynomial_schedule", dict(init_value=1.0, end_value=0.01, power=2.5,
                                               transition_steps=70, transition_begin=10)),
    "linear": ("linear_schedule", dict(init_value=0.0, end_value=0.5, transition_steps=40,
                                       transition_begin=5)),
    "exp": ("exponential_decay", dict(init_value=0.1, transition_steps=7, decay_rate=0.6,
                                      transition_begin=3)),
    "exp_stair_end": ("exponential_decay", dict(init_value=0.1, transition_steps=7, decay_rate=0.6,
                                                staircase=True, end_value=0.003)),
    "cosine": ("cosine_decay_schedule", dict(init_value=0.5, decay_steps=90, alpha=0.1)),
    "cosine_exp2": ("cosine_decay_schedule", dict(init_value=0.5, decay_steps=90, exponent=2.0)),
    "piecewise_constant": ("piecewise_constant_schedule",
                           dict(init_value=0.1, boundaries_and_scales={10: 0.5, 40: 0.1, 41: 3.0})),
    "interp_linear": ("piecewise_interpolate_schedule",
                      dict(interpolate_type="linear", init_value=0.1,
                           boundaries_and_scales={10: 5.0, 60: 0.1})),
    "interp_cosine": ("piecewise_interpolate_schedule",
                      dict(interpolate_type="cosine", init_value=0.1,
                           boundaries_and_scales={10: 5.0, 60: 0.1})),
    "warmup_constant": ("warmup_constant_schedule", dict(init_value=0.0, peak_value=1.0,
                                                         warmup_steps=17)),
    "warmup_cosine": ("warmup_cosine_decay_schedule",
                      dict(init_value=0.01, peak_value=1.0, warmup_steps=10, decay_steps=100,
                           end_value=0.05)),
    "warmup_exp": ("warmup_exponential_decay_schedule",
                   dict(init_value=0.0, peak_value=1.0, warmup_steps=10, transition_steps=5,
                        decay_rate=0.8)),
    "linear_onecycle": ("linear_onecycle_schedule", dict(transition_steps=100, peak_value=1.0)),
    "cosine_onecycle": ("cosine_onecycle_schedule", dict(transition_steps=100, peak_value=1.0,
                                                         pct_start=0.25)),
}


@pytest.mark.parametrize("key", sorted(OPTAX_PAIRS))
def test_matches_optax(key):
    optax = pytest.importorskip("optax")
    name, kwargs = OPTAX_PAIRS[key]
    got = np.asarray(jax.jit(jax.vmap(getattr(optjax, name)(**kwargs)))(STEPS))
    theirs = getattr(optax, name)(**kwargs)
    f = jax.vmap(lambda t: jnp.asarray(theirs(t), jnp.float32))
    # optax 0.2.8's polynomial_schedule gives nan under jit once 0 ** power is reached
    # (optjax gives end_value): compare with optax run op by op there.
    want = np.asarray(f(STEPS) if key == "polynomial" else jax.jit(f)(STEPS))
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=2e-7 * np.max(np.abs(want)))


def test_sgdr_and_join_match_optax():
    optax = pytest.importorskip("optax")
    kw = [dict(init_value=0.0, peak_value=1.0, warmup_steps=5, decay_steps=30),
          dict(init_value=0.5, peak_value=0.5, warmup_steps=0, decay_steps=60, end_value=0.1)]
    np.testing.assert_allclose(jax.jit(optjax.sgdr_schedule(kw))(STEPS),
                               jax.jit(optax.sgdr_schedule(kw))(STEPS), rtol=2e-6, atol=2e-7)
    parts = [dict(init_value=1.0, end_value=0.2, transition_steps=10), dict(value=0.2)]
    mine = optjax.join_schedules([optjax.linear_schedule(**parts[0]),
                                  optjax.constant_schedule(**parts[1])], [10])
    theirs = optax.join_schedules([optax.linear_schedule(**parts[0]),
                                   optax.constant_schedule(**parts[1])], [10])
    np.testing.assert_allclose(jax.jit(mine)(STEPS), jax.jit(jax.vmap(theirs))(STEPS), rtol=2e-6)


def all_schedules():
    """One instance of every schedule, with the value it must settle to (None: periodic)."""
    return {
        "constant": (optjax.constant_schedule(0.1), 0.1),
        "polynomial": (optjax.polynomial_schedule(1.0, 0.1, 2, 100), 0.1),
        "exp": (optjax.exponential_decay(1.0, 10, 0.5, end_value=0.01), 0.01),
        "exp_stair": (optjax.exponential_decay(1.0, 10, 0.5, staircase=True), 0.0),
        "cosine": (optjax.cosine_decay_schedule(1.0, 100, 0.1), 0.1),
        "inverse_time": (optjax.inverse_time_decay(1.0, 10, 0.5), 0.0),
        "piecewise": (optjax.piecewise_constant_schedule(1.0, {10: 0.1}), 0.1),
        "interp": (optjax.piecewise_interpolate_schedule("cosine", 1.0, {10: 0.1}), 0.1),
        "warmup_cosine": (optjax.warmup_cosine_decay_schedule(0.0, 1.0, 10, 100, 0.01), 0.01),
        "onecycle": (optjax.onecycle_schedule(100, 1.0), 1.0 / 25 / 1e4),
        "lambda": (optjax.lambda_schedule(1.0, lambda t: 1.0 / (t + 1)), 0.0),
        "multiplicative": (optjax.multiplicative_schedule(1.0, lambda i: 0.9, 50), 0.9**50),
        "add_warmup_exp": (optjax.add_warmup(optjax.constant_schedule(1.0), 10, 0.01,
                                             mode="exponential"), 1.0),
        "mx_factor": (mxnet_lr.factor_scheduler(3, 0.5, stop_factor_lr=1e-3, base_lr=1.0,
                                                warmup_steps=4), 1e-3),
        "mx_multifactor": (mxnet_lr.multi_factor_scheduler([5, 9], 0.1, base_lr=1.0), 0.01),
        "mx_poly": (mxnet_lr.poly_scheduler(50, 1.0, warmup_steps=5), 0.0),
        "mx_cosine": (mxnet_lr.cosine_scheduler(50, 1.0, 0.1, warmup_steps=5), 0.1),
        "torch_step": (torch_lr.step_lr(1.0, 3, 0.5), 0.0),
        "torch_exponential": (torch_lr.exponential_lr(1.0, 0.999), 0.0),
        "torch_multistep": (torch_lr.multi_step_lr(1.0, [3, 8], 0.5), 0.25),
        "torch_linear": (torch_lr.linear_lr(1.0, 0.1, 1.0, 10), 1.0),
        "torch_constant": (torch_lr.constant_lr(1.0, 0.5, 10), 1.0),
        "torch_poly": (torch_lr.polynomial_lr(1.0, 10, 2.0), 0.0),
        "torch_cosine": (torch_lr.cosine_annealing_lr(1.0, 10, 0.1), None),
        "warm_restarts_1": (optjax.cosine_warm_restarts_schedule(1.0, 7), None),
        "warm_restarts_2": (optjax.cosine_warm_restarts_schedule(1.0, 5, 2, 0.01), None),
        "cyclic": (optjax.cyclic_schedule(0.1, 1.0, 5, 3), None),
        "cyclic_exp": (optjax.cyclic_schedule(0.1, 1.0, 5, mode="exp_range", gamma=0.99), 0.1),
        "torch_sequential": (torch_lr.sequential_lr(
            [torch_lr.linear_lr(1.0, 0.1, 1.0, 5), torch_lr.exponential_lr(1.0, 0.9)], [5]), 0.0),
        "torch_chained": (torch_lr.chained_scheduler(
            [torch_lr.constant_lr(1.0, 0.1, 3), torch_lr.exponential_lr(1.0, 0.9)], 1.0), 0.0),
    }


BIG = [2**31 - 1, 2**31 + 5, 2**40, np.int32(2**31 - 1), np.uint32(2**32 - 1),
       np.int64(2**33), np.float64(3e9)]


@pytest.mark.parametrize("name", sorted(all_schedules()))
def test_jit_vmap_and_huge_steps(name):
    """One jitted, vmapped curve per schedule; scalar steps of every dtype and size
    (eager: Python ints past 2**31 cannot enter jit as int32) never wrap."""
    sched, limit = all_schedules()[name]
    curve = np.asarray(jax.jit(jax.vmap(sched))(jnp.arange(200)))
    assert curve.shape == (200,) and curve.dtype == np.float32
    jitted = jax.jit(sched)
    # jit may fuse differently from op-by-op: equal to a float32 ulp or so.
    np.testing.assert_allclose(np.asarray(sched(10)), curve[10], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(np.asarray(jitted(jnp.int32(10))), curve[10], rtol=1e-6, atol=1e-7)
    vals = [np.asarray(sched(s)) for s in BIG]
    vals.append(np.asarray(jitted(jnp.int32(2**31 - 1))))
    vals.append(np.asarray(jitted(optjax.numerics.safe_increment(jnp.int32(2**31 - 1)))))
    lo, hi = float(curve.min()) - 1e-6, float(curve.max()) + 1e-6
    for v in vals:
        assert v.dtype == np.float32 and v.shape == ()
        assert np.isfinite(v)
        if limit is None:
            assert lo <= float(v) <= hi
        else:
            np.testing.assert_allclose(float(v), limit, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("step", [-1, np.int32(-5), np.array([0, -2]), -0.5])
def test_negative_step_rejected(step):
    for sched in (optjax.constant_schedule(1.0), torch_lr.step_lr(0.1, 3),
                  mxnet_lr.factor_scheduler(3, 0.5)):
        with pytest.raises(ValueError, match="step"):
            sched(step)


BAD = [
    (lambda: torch_lr.multi_step_lr(0.1, [5, 3]), "milestones"),
    (lambda: mxnet_lr.multi_factor_scheduler([3, 3], 0.5), "step"),
    (lambda: mxnet_lr.multi_factor_scheduler([0, 3], 0.5), "step"),
    (lambda: optjax.join_schedules([optjax.constant_schedule(1.0)] * 3, [5, 2]), "boundaries"),
    (lambda: torch_lr.sequential_lr([optjax.constant_schedule(1.0)] * 2, [3, 4]), "boundaries"),
    (lambda: torch_lr.step_lr(0.1, 0), "step_size"),
    (lambda: mxnet_lr.factor_scheduler(0), "step"),
    (lambda: optjax.exponential_decay(0.1, -1, 0.5), "transition_steps"),
    (lambda: optjax.cosine_decay_schedule(0.1, 0), "decay_steps"),
    (lambda: optjax.polynomial_schedule(0.1, 0.0, 1, -3), "transition_steps"),
    (lambda: optjax.cyclic_schedule(0.1, 1.0, 0), "step_size_up"),
    (lambda: optjax.onecycle_schedule(0, 1.0), "total_steps"),
    (lambda: optjax.cosine_warm_restarts_schedule(1.0, 0), "t_0"),
    (lambda: optjax.cosine_warm_restarts_schedule(1.0, 3, 0), "t_mult"),
    (lambda: mxnet_lr.poly_scheduler(0), "max_update"),
    (lambda: mxnet_lr.cosine_scheduler(5, warmup_steps=5), "max_update"),
    (lambda: mxnet_lr.factor_scheduler(3, factor=1.5), "factor"),
    (lambda: mxnet_lr.multi_factor_scheduler([3], factor=2.0), "factor"),
    (lambda: torch_lr.linear_lr(0.1, start_factor=0.0), "start_factor"),
    (lambda: torch_lr.linear_lr(0.1, end_factor=1.5), "end_factor"),
    (lambda: torch_lr.constant_lr(0.1, factor=1.2), "factor"),
    (lambda: optjax.exponential_decay(0.1, 3, -0.5), "decay_rate"),
    (lambda: optjax.cyclic_schedule(0.1, 1.0, 5, mode="sine"), "mode"),
    (lambda: optjax.add_warmup(optjax.constant_schedule(1.0), 5, mode="cubic"), "mode"),
    (lambda: mxnet_lr.factor_scheduler(3, warmup_mode="exp"), "warmup_mode"),
    (lambda: mxnet_lr.factor_scheduler(3, base_lr=0.1, warmup_begin_lr=0.2), "warmup_begin_lr"),
    (lambda: optjax.onecycle_schedule(10, 1.0, anneal_strategy="cubic"), "anneal_strategy"),
    (lambda: optjax.piecewise_constant_schedule(1.0, {5: -0.1}), "boundaries_and_scales"),
    (lambda: mxnet_lr.multi_factor_scheduler([1, 2], [0.1]), "factor"),
]


@pytest.mark.parametrize("make, name", BAD, ids=[f"{i}-{n}" for i, (_, n) in enumerate(BAD)])
def test_bad_input_names_argument(make, name):
    with pytest.raises(ValueError, match=name):
        make()


def test_legacy_multifactor_with_list_of_factors():
    """Legacy code's MultiFactorScheduler([1, 2, 3], [0.001, 0.003, 0.0003]) with lr 0.001."""
    legacy = mxnet_lr.multi_factor_scheduler([1, 2, 3], [0.001, 0.003, 0.0003], base_lr=0.001)
    plain = optjax.piecewise_constant_schedule(0.001, {2: 0.001, 3: 0.003, 4: 0.0003})
    steps = jnp.arange(8)
    np.testing.assert_array_equal(legacy(steps), plain(steps))
    want = [0.001, 0.001, 0.001 * 0.001, 0.001 * 0.001 * 0.003, 0.001 * 0.001 * 0.003 * 0.0003]
    np.testing.assert_array_equal(legacy(jnp.arange(5)), np.asarray(want, np.float32))


def test_step_convention_mxnet_first_update_is_one():
    """MXNet's optimizer asks for num_update 1 on its first update: the first decay
    of FactorScheduler(step=3) is seen on the 4th update."""
    s = mxnet_lr.factor_scheduler(3, 0.5, base_lr=1.0)
    assert [float(s(n)) for n in range(1, 8)] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]


@pytest.mark.parametrize("staircase", [False, True])
def test_inverse_time_decay_formula(staircase):
    t = np.arange(100)
    p = np.floor(t / 7) if staircase else t / 7
    want = 0.3 / (1 + 0.4 * p)
    got = jax.jit(optjax.inverse_time_decay(0.3, 7, 0.4, staircase))(jnp.arange(100))
    np.testing.assert_allclose(got, want, rtol=3e-7)
    with pytest.raises(ValueError, match="decay_steps"):
        optjax.inverse_time_decay(0.3, 0, 0.4)
