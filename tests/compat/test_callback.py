"""mx.callback log lines against real MXNet 1.9.1's, under the same fixed clock
(tests/golden/compat/io/, gen_mxnet_io_metric.py); do_checkpoint/module_checkpoint."""

import collections
import json
import logging
import pathlib

import numpy as np
import pytest

import optjax.compat.mxnet as mx
from optjax.compat.mxnet import callback as cb_mod

GOLDEN = pathlib.Path(__file__).resolve().parents[1] / "golden" / "compat" / "io"
EXPECTED = json.loads((GOLDEN / "expected.json").read_text(encoding="utf-8"))["callback"]
INPUTS = dict(np.load(GOLDEN / "inputs.npz"))
Param = collections.namedtuple("BatchEndParams", ["epoch", "nbatch", "eval_metric", "locals"])

CALLBACKS = {
    "speedometer_auto_reset": lambda: mx.callback.Speedometer(16, 2),
    "speedometer_no_reset": lambda: mx.callback.Speedometer(16, 2, False),
    "log_train_metric": lambda: mx.callback.log_train_metric(2),
    "log_train_metric_reset": lambda: mx.callback.log_train_metric(2, True),
    "progress_bar": lambda: mx.callback.ProgressBar(total=4, length=10),
    "log_validation": lambda: mx.callback.LogValidationMetricsCallback(),
}


@pytest.fixture
def fixed_clock(monkeypatch):
    clock = [1000.0]

    def fake_time():
        clock[0] += 0.5
        return clock[0]
    monkeypatch.setattr(cb_mod.time, "time", fake_time)
    return clock


@pytest.mark.parametrize("key", sorted(CALLBACKS))
def test_log_lines_match_mxnet(key, fixed_clock, caplog):
    caplog.set_level(logging.INFO)
    cb = CALLBACKS[key]()
    metric = mx.metric.create(["acc", "ce"])
    for epoch in range(2):
        for nbatch in range(5):
            b = nbatch % 4
            metric.update([mx.nd.array(INPUTS["cls_label_%d" % b])],
                          [mx.nd.array(INPUTS["cls_pred_%d" % b])])
            cb(Param(epoch, nbatch, metric, None))
    assert [r.getMessage() for r in caplog.records] == EXPECTED[key]


def test_speedometer_without_metric(fixed_clock, caplog):
    caplog.set_level(logging.INFO)
    cb = mx.callback.Speedometer(8, 2)
    for nbatch in range(5):
        cb(Param(0, nbatch, None, None))
    assert [r.getMessage() for r in caplog.records] == EXPECTED["speedometer_no_metric"]


def test_do_checkpoint_calls_model_save_checkpoint(monkeypatch):
    import sys
    import types
    calls = []
    fake = types.ModuleType("optjax.compat.mxnet.model")
    fake.save_checkpoint = lambda *a: calls.append(a)
    monkeypatch.setitem(sys.modules, "optjax.compat.mxnet.model", fake)
    cb = mx.callback.do_checkpoint("prefix", period=2)
    for epoch in range(4):
        cb(epoch, "sym", {"w": 1}, {})
    assert calls == [("prefix", 2, "sym", {"w": 1}, {}), ("prefix", 4, "sym", {"w": 1}, {})]


def test_module_checkpoint():
    calls = []

    class Mod:
        def save_checkpoint(self, *a):
            calls.append(a)
    cb = mx.callback.module_checkpoint(Mod(), "p", period=1, save_optimizer_states=True)
    cb(0)
    cb(1)
    assert calls == [("p", 1, True), ("p", 2, True)]
