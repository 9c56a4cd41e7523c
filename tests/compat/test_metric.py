"""mx.metric against real MXNet 1.9.1: every metric's get()/get_global() after each of
four seeded batches, with reset_local() after the second (tests/golden/compat/io/,
gen_mxnet_io_metric.py)."""

import json
import math
import pathlib

import numpy as np
import pytest

import optjax.compat.mxnet as mx

GOLDEN = pathlib.Path(__file__).resolve().parents[1] / "golden" / "compat" / "io"
EXPECTED = json.loads((GOLDEN / "expected.json").read_text(encoding="utf-8"))["metric"]
INPUTS = dict(np.load(GOLDEN / "inputs.npz"))

# (key, name given to mx.metric.create, kwargs, kind of inputs), as the generator ran them
METRICS = [tuple(m) for m in EXPECTED["_spec"]]


def pair(kind, b):
    if kind == "cls_label_shaped":
        return INPUTS["cls_label_%d" % b], INPUTS["cls_label_shaped_pred_%d" % b]
    if kind == "loss":
        return INPUTS["loss_pred_%d" % b], INPUTS["loss_pred_%d" % b]
    return INPUTS["%s_label_%d" % (kind, b)], INPUTS["%s_pred_%d" % (kind, b)]


def assert_value(got, want):
    name_got, value_got = got
    name_want, value_want = want
    assert name_got == name_want
    if isinstance(value_want, list):
        assert len(value_got) == len(value_want)
        for g, w in zip(value_got, value_want):
            assert_value((None, g), (None, w))
    elif value_want is None or (isinstance(value_want, float) and math.isnan(value_want)):
        assert math.isnan(float(value_got))
    else:
        np.testing.assert_allclose(float(value_got), value_want, rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("key,name,kwargs,kind", METRICS, ids=[m[0] for m in METRICS])
def test_metric_local_and_global_values_match_mxnet(key, name, kwargs, kind):
    m = mx.metric.create(name, **kwargs)
    want = EXPECTED[key]
    for b in range(4):
        label, pred = pair(kind, b)
        m.update([mx.nd.array(label)], [mx.nd.array(pred)])
        step = want["steps"][b]
        assert_value(m.get(), step["get"])
        assert_value(m.get_global(), step["get_global"])
        got_nv = m.get_name_value()
        assert [n for n, _ in got_nv] == [n for n, _ in step["name_value"]]
        if b == 1:
            m.reset_local()
    m.reset()
    assert_value(m.get(), want["after_reset"])


def test_several_outputs_per_update():
    m = mx.metric.create("acc")
    m.update([mx.nd.array(INPUTS["cls_label_0"]), mx.nd.array(INPUTS["cls_label_1"])],
             [mx.nd.array(INPUTS["cls_pred_0"]), mx.nd.array(INPUTS["cls_pred_1"])])
    assert_value(m.get(), EXPECTED["acc_two_outputs"])
    m = mx.metric.create("mse")
    m.update([mx.nd.array(INPUTS["reg_label_0"]), mx.nd.array(INPUTS["reg_label_1"])],
             [mx.nd.array(INPUTS["reg_pred_0"]), mx.nd.array(INPUTS["reg_pred_1"])])
    assert_value(m.get(), EXPECTED["mse_two_outputs"])


def test_custom_metrics():
    def feval(label, pred):
        return float(np.abs(label - pred.argmax(1)).sum()), len(label)
    m = mx.metric.np(feval)
    m2 = mx.metric.CustomMetric(lambda label, pred: float((pred.argmax(1) == label).mean()))
    m3 = mx.metric.create(feval)
    for b in range(3):
        label, pred = pair("cls", b)
        for metric in (m, m2, m3):
            metric.update([mx.nd.array(label)], [mx.nd.array(pred)])
    assert_value(m.get(), EXPECTED["custom_np"])
    assert_value(m3.get(), EXPECTED["custom_np"])
    assert_value(m2.get(), EXPECTED["custom_lambda"])
    with pytest.raises(NotImplementedError):
        m.get_config()


def test_config_and_update_dict():
    assert mx.metric.Accuracy(axis=1).get_config() == EXPECTED["config_acc"]
    comp = mx.metric.create(["acc", "mse"])
    label, pred = pair("cls", 0)
    comp.update_dict({"softmax_label": mx.nd.array(label)}, {"out": mx.nd.array(pred)})
    assert_value(comp.get(), EXPECTED["composite_update_dict"])
    again = mx.metric.create(mx.metric.Accuracy(axis=1).get_config())
    assert isinstance(again, mx.metric.Accuracy)


def test_register_alias_and_create_forms():
    @mx.metric.register
    @mx.metric.alias("mine")
    class MyMetric(mx.metric.EvalMetric):
        def __init__(self, name="mine"):
            super().__init__(name)

        def update(self, labels, preds):
            self.sum_metric += 1
            self.num_inst += 2

    m = mx.metric.create("MINE")
    m.update(None, None)
    assert m.get() == ("mine", 0.5) and m.get_global() == ("mine", 0.5)
    assert isinstance(mx.metric.create("mymetric"), MyMetric)
    acc = mx.metric.Accuracy()
    assert mx.metric.create(acc) is acc
    assert isinstance(mx.metric.create('["top_k_acc", {"top_k": 2}]'), mx.metric.TopKAccuracy)
    assert mx.metric.create("top_k_accuracy", top_k=5).name == "top_k_accuracy_5"


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="unknown metric 'accuracyy'.*acc, accuracy"):
        mx.metric.create("accuracyy")
    with pytest.raises(ValueError, match="Shape of labels 2 does not match"):
        mx.metric.Accuracy().update([mx.nd.ones(2), mx.nd.ones(2)], [mx.nd.ones(2)])
    with pytest.raises(ValueError, match="top_k must be > 1"):
        mx.metric.TopKAccuracy(top_k=1)
    with pytest.raises(ValueError, match="binary"):
        mx.metric.F1().update([mx.nd.array([0, 1, 2])], [mx.nd.ones((3, 2))])
    with pytest.raises(ValueError, match="average"):
        mx.metric.F1(average="weighted")
    with pytest.raises(TypeError):
        mx.metric.create("perplexity")  # ignore_label is required, as in MXNet


def test_nan_before_updates():
    for name in ("acc", "mse", "f1"):
        assert math.isnan(mx.metric.create(name).get()[1])
        assert math.isnan(mx.metric.create(name).get_global()[1])
