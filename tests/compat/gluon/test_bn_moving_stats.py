"""BatchNorm's moving statistics change when real MXNet 1.9.1 changes them: in the backward pass.

The programs are ``tests/golden/compat/gluon/bn_moving_cases.py``, run here under the
shim and by ``gen_mxnet_bn_moving.py`` under real MXNet (``mxnet_bn_moving.npz``).
"""

import os
import sys

import numpy as np
import pytest

import optjax.compat.mxnet as mx

HERE = os.path.join(os.path.dirname(__file__), "..", "..", "golden", "compat", "gluon")
sys.path.insert(0, HERE)
import bn_moving_cases  # noqa: E402

GOLDEN = np.load(os.path.join(HERE, "mxnet_bn_moving.npz"))
KEYS = sorted(k for k in GOLDEN.files if not k.startswith("meta/"))


@pytest.fixture(scope="module")
def shim_values():
    return bn_moving_cases.run_all(mx)


def test_every_golden_value_is_produced(shim_values):
    assert sorted(shim_values) == KEYS


@pytest.mark.parametrize("key", KEYS)
def test_matches_real_mxnet(shim_values, key):
    # rtol 1e-4: MXNet's MKLDNN kernel (4-D inputs) stores 1/sqrt(var + eps) and converts
    # it back to the variance in its backward pass (measured relative error ~1e-7).
    np.testing.assert_allclose(shim_values[key], GOLDEN[key], rtol=1e-4, atol=1e-6, err_msg=key)


def test_forward_without_backward_leaves_the_statistics(shim_values):
    """The premise of the goldens: MXNet changes nothing at a recorded training forward."""
    for front in ("gluon_imperative", "gluon_hybrid"):
        np.testing.assert_array_equal(GOLDEN[f"{front}/record_forward/mean"], np.zeros(3))
        np.testing.assert_array_equal(GOLDEN[f"{front}/train_mode_forward/var"], np.ones(3))
    assert not np.array_equal(GOLDEN["gluon_hybrid/record_forward_backward/mean"], np.zeros(3))
