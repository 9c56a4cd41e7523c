"""``mx.monitor.Monitor`` on a Module against real MXNet 1.9.1
(tests/golden/compat/module/gen_mxnet_monitor.py)."""

import json
import os

import numpy as np
import pytest

import optjax.compat.mxnet as mx
from tests.golden.compat.module.module_cases import MONITOR_CASES as CASES
from tests.golden.compat.module.module_cases import monitor_rows as run

HERE = os.path.join(os.path.dirname(__file__), "..", "..", "golden", "compat", "module")

with open(os.path.join(HERE, "monitor.json")) as f:
    GOLD = json.load(f)


@pytest.mark.parametrize("case", sorted(CASES))
def test_monitor_lines_match_mxnet(case):
    rows = run(mx, CASES[case])
    want = GOLD[case]
    assert [(n, k) for n, k, _ in rows] == [(n, k) for n, k, _ in want]
    got = [float(v.strip()) for _, _, v in rows]
    np.testing.assert_allclose(got, [float(v.strip()) for _, _, v in want], rtol=1e-4, atol=1e-6)


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
