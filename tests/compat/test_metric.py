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


# --- the intent of MXNet 1.x's own tests/python/unittest/test_metric.py (formulas as there)

def test_config_round_trips_through_json():
    for args in (("acc",), ("f1",), ("mcc",), ("perplexity", -1), ("pearsonr",), ("pcc",),
                 ("nll_loss",), ("loss",), (["acc", "f1"],)):
        metric = mx.metric.create(*args)
        again = mx.metric.create(json.dumps(metric.get_config()))
        assert metric.get_config() == again.get_config()


def test_nll_loss_and_perplexity_formulas():
    pred = mx.nd.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]])
    metric = mx.metric.create("nll_loss")
    metric.update([mx.nd.array([2, 1])], [pred])
    expected = -(np.log(pred[0][2].asscalar()) + np.log(pred[1][1].asscalar())) / 2
    np.testing.assert_allclose(metric.get()[1], expected, rtol=1e-7)
    pred = mx.nd.array([[0.8, 0.2], [0.2, 0.8], [0, 1.]])
    label = mx.nd.array([0, 1, 1])
    p = pred.asnumpy()[np.arange(3), label.asnumpy().astype("int32")]
    metric = mx.metric.create("perplexity", -1)
    metric.update([label], [pred])
    np.testing.assert_allclose(metric.get()[1], np.exp(-np.log(p).sum() / 3), rtol=1e-7)


def test_binary_f1_and_mcc_formulas():
    micro, macro = mx.metric.create("f1", average="micro"), mx.metric.F1(average="macro")
    zero = ([mx.nd.array([0, 0])], [mx.nd.array([[0.9, 0.1], [0.8, 0.2]])])
    for m in (micro, macro):
        m.update(*zero)
        assert m.get()[1] == 0.0
        m.reset()
    b1 = ([mx.nd.array([1, 0]), mx.nd.array([1, 0])],
          [mx.nd.array([[0.1, 0.9], [0.5, 0.5]]), mx.nd.array([[0.85, 0.15], [1.0, 0.0]])])
    b2 = ([mx.nd.array([0]), mx.nd.array([1])],
          [mx.nd.array([[0.6, 0.4]]), mx.nd.array([[0.2, 0.8]])])
    for m in (micro, macro):
        m.update(*b1)
    assert micro.num_inst == 4 and macro.num_inst == 1  # macro counts updates (MXNet 1.x)
    np.testing.assert_almost_equal(micro.get()[1], 2. / 3)
    np.testing.assert_almost_equal(macro.get()[1], 2. / 3)
    for m in (micro, macro):
        m.update(*b2)
    np.testing.assert_almost_equal(micro.get()[1], 2. * 2 / (2 * 2 + 1))
    np.testing.assert_almost_equal(macro.get()[1], (2. / 3 + 1.) / 2)
    mcc = mx.metric.create("mcc", average="micro")
    mcc.update(*b1)
    np.testing.assert_almost_equal(mcc.get()[1], 2 / np.sqrt(1 * 2 * 2 * 3))
    mcc.update(*b2)
    tp, fp, fn, tn = 2, 0, 1, 3
    np.testing.assert_almost_equal(
        mcc.get()[1], (tp * tn - fp * fn) / np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)))


def _cm_batch(cm):
    ident = np.identity(len(cm))
    labels, preds = [], []
    for i, row in enumerate(cm):
        for j, count in enumerate(row):
            labels += [i] * count
            preds += [ident[j]] * count
    return [mx.nd.array(labels, dtype="int32")], [mx.nd.array(preds)]


def test_pcc_agrees_with_mcc_and_the_multiclass_formula():
    labels, preds = _cm_batch([[7, 3], [2, 5]])
    pcc, mcc = mx.metric.create("pcc"), mx.metric.create("mcc")
    pcc.update(labels, preds)
    mcc.update(labels, preds)
    np.testing.assert_almost_equal(pcc.get()[1], mcc.get()[1])
    pcc.reset()
    pcc.update(labels, [p.argmax(axis=1) for p in preds])
    np.testing.assert_almost_equal(pcc.get()[1], mcc.get()[1])
    cm = [[23, 13, 3], [7, 19, 11], [2, 5, 17]]
    k = range(3)
    ref = sum(cm[a][a] * cm[b][c] - cm[a][b] * cm[c][a] for a in k for b in k for c in k) / (
        sum(sum(cm[a][b] for b in k) * sum(sum(cm[f][g] for g in k) for f in k if f != a)
            for a in k)
        * sum(sum(cm[b][a] for b in k) * sum(sum(cm[f][g] for f in k) for g in k if g != a)
              for a in k)) ** 0.5
    pcc.reset()
    pcc.update(*_cm_batch(cm))
    np.testing.assert_almost_equal(pcc.get()[1], ref)


def test_single_array_input_and_2d_labels():
    pred = mx.nd.array([[1, 2, 3, 4]])
    for name, want in (("mse", 0.01), ("mae", 0.1), ("rmse", 0.1)):
        m = mx.metric.create(name)
        m.update(pred + 0.1, pred)
        np.testing.assert_almost_equal(m.get()[1], want)
    pred = mx.nd.array([[0.3, 0.7], [0, 1.], [0.4, 0.6], [0.8, 0.2], [0.3, 0.5], [0.6, 0.4]])
    label = mx.nd.array([[0, 1, 1], [1, 0, 1]])
    m = mx.metric.create("acc")
    m.update([label], [pred])
    assert m.get()[1] == (pred.asnumpy().argmax(1) == label.asnumpy().ravel()).mean()
    a, b = mx.metric.create("loss"), mx.metric.create("loss")
    a.update(None, [pred])
    b.update(None, pred)
    assert a.get() == b.get()


def test_accuracy_counts_on_the_device_like_the_host_path():
    """NDArray inputs are counted on the device and read back lazily: the same sums (exact
    float64), local/global resets included, as numpy inputs (MXNet's host path)."""
    rng = np.random.RandomState(3)
    dev, host = mx.metric.Accuracy(), mx.metric.Accuracy()
    for step in range(5):
        scores = rng.randn(6, 4).astype(np.float32)
        scores[0, :2] = 7.0  # a tie: the first maximum, as numpy
        label = rng.randint(0, 4, 6).astype(np.float32)
        dev.update([mx.nd.array(label)], [mx.nd.array(scores)])
        host.update([label], [scores])
        dev.update([mx.nd.array(label)], [mx.nd.array(label)])  # same shape: no argmax
        host.update([label], [label])
        if step == 2:
            dev.reset_local()
            host.reset_local()
        np.testing.assert_equal([dev.get(), dev.get_global()], [host.get(), host.get_global()])
        assert type(dev.sum_metric) is type(host.sum_metric)
    with pytest.raises(ValueError, match="Shape of labels"):
        dev.update([mx.nd.zeros(5)], [mx.nd.zeros((6, 4))])
    dev.reset()
    assert dev.get_global()[1] != dev.get_global()[1] and dev.sum_metric == 0.0
