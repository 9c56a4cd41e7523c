"""``mx.monitor.Monitor`` on a Module against real MXNet 1.9.1
(tests/golden/compat/module/gen_mxnet_monitor.py)."""

import json
import os

import numpy as np
import pytest

import optjax.compat.mxnet as mx
from tests.golden.compat.module.module_cases import MONITOR_CASES as CASES
from tests.golden.compat.module.module_cases import legacy_monitor_names
from tests.golden.compat.module.module_cases import monitor_rows as run

HERE = os.path.join(os.path.dirname(__file__), "..", "..", "golden", "compat", "module")

with open(os.path.join(HERE, "monitor.json")) as f:
    GOLD = json.load(f)


# MXNet computes no gradient for an input whose grad_req is 'null' (the data and the label
# of a Module bound without inputs_need_grad): its monitor shows whatever those backward
# arrays held (we show the gradient). Their names are checked, not their values.
UNDEFINED = {"softmax_backward_output1", "fc1_backward_output0", "fc_backward_output0"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_monitor_lines_match_mxnet(case):
    """Forward outputs, then each backward node's outputs in backward order, then the
    arguments and auxiliary states, with MXNet's names and statistics."""
    rows = run(mx, CASES[case])
    want = GOLD[case]
    assert [(n, k) for n, k, _ in rows] == [(n, k) for n, k, _ in want]
    assert any("_backward_output" in k for _, k, _ in rows)
    got = [float(v.strip()) for _, k, v in rows if k not in UNDEFINED]
    np.testing.assert_allclose(got, [float(v.strip()) for _, k, v in want if k not in UNDEFINED],
                               rtol=1e-4, atol=1e-6)


def test_monitor_backward_names_of_legacy_and_pass_through_operators():
    """MakeLoss and SliceChannel name their backward outputs after their inputs; an add's
    gradient passes through without a backward node (as MXNet 1.9.1 reports them)."""
    assert legacy_monitor_names(mx) == GOLD["legacy_names"]


def test_fit_with_a_monitor_runs_the_two_calls(caplog):
    rows = []
    mon = mx.mon.Monitor(1, pattern="softmax_output")
    mon.toc_print = lambda: rows.extend(mon.toc())
    X = np.random.RandomState(0).randn(16, 5).astype(np.float32)
    mod = mx.mod.Module(mx.sym.SoftmaxOutput(
        mx.sym.FullyConnected(mx.sym.Variable("data"), num_hidden=3, name="fc"), name="softmax"))
    mod.fit(mx.io.NDArrayIter(X, np.zeros(16), batch_size=8), num_epoch=1, monitor=mon)
    assert [(n, k) for n, k, _ in rows] == [(1, "softmax_output"), (2, "softmax_output")]
    assert not mod._exec._program._train_steps
