"""optjax schedules against the committed torch 2.13 and MXNet 1.9.1 goldens.

Every case is evaluated in one ``jit(vmap(schedule))`` call over its whole curve.
Tolerance: max |optjax - golden| <= TOL * max|golden| (TOL about 2 float32 ulps
of the peak value); schedules built from exact tables (step/multistep/
exponential/multiplicative/constant, MXNet factor/multifactor) must match the
golden rounded to float32 bit for bit.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.schedules import _golden as G

TOL = 2.5e-7
# LambdaLR(0.97 ** t): the user's function runs in float32 (jnp.power), not float64.
TOL_CASE = {"LambdaLR_pow": 5e-7}
EXACT_TORCH = ("StepLR", "MultiStepLR", "ExponentialLR", "MultiplicativeLR", "ConstantLR")
EXACT_MXNET = ("Factor_stop", "Factor_one", "Factor_warmup_constant", "MultiFactor")

TORCH = G.load("torch.json")["cases"]
MXNET = G.load("mxnet.json")["cases"]


def curve(sched, n):
    return np.asarray(jax.jit(jax.vmap(sched))(jnp.arange(n)))


def check(name, got, want, exact):
    want = np.asarray(want)
    assert got.shape == want.shape
    assert got.dtype == np.float32
    err = np.max(np.abs(got - want)) / np.max(np.abs(want))
    assert err <= TOL_CASE.get(name, TOL), f"{name}: relative error {err:.2e}"
    if exact:
        np.testing.assert_array_equal(got, want.astype(np.float32), err_msg=name)


def test_golden_sizes():
    assert len(TORCH) >= 30 and len(MXNET) >= 11
    assert all(len(c["lrs"]) >= 60 for c in TORCH + MXNET)


@pytest.mark.parametrize("case", TORCH, ids=[c["name"] for c in TORCH])
def test_torch_golden(case):
    sched = G.build_torch(case["spec"], case["base_lr"], len(case["lrs"]))
    check(case["name"], curve(sched, len(case["lrs"])), case["lrs"],
          case["spec"]["cls"] in EXACT_TORCH)


@pytest.mark.parametrize("case", MXNET, ids=[c["name"] for c in MXNET])
def test_mxnet_golden(case):
    sched = G.build_mxnet(case)
    assert case["num_update"][0] == 0
    check(case["name"], curve(sched, len(case["lrs"])), case["lrs"], case["name"] in EXACT_MXNET)


def test_golden_check_can_fail():
    case = next(c for c in TORCH if c["name"] == "StepLR_3_05")
    wrong = G.build_torch({"cls": "StepLR", "args": {"step_size": 4, "gamma": 0.5}},
                          case["base_lr"], 80)
    with pytest.raises(AssertionError):
        check("StepLR_3_05", curve(wrong, 80), case["lrs"], True)
