"""mx.io iterators against real MXNet 1.9.1 (tests/golden/compat/io/expected.json,
written by gen_mxnet_io_metric.py in an MXNet venv)."""

import json
import pathlib

import numpy as np
import pytest

import optjax.compat.mxnet as mx
from optjax.compat.mxnet.base import MXNetError
from optjax.compat.mxnet.io.files import mxnet_std_shuffle

GOLDEN = pathlib.Path(__file__).resolve().parents[2] / "golden" / "compat" / "io"
EXPECTED = json.loads((GOLDEN / "expected.json").read_text(encoding="utf-8"))
FILES = GOLDEN / "files"
DATA = np.arange(20, dtype=np.float32).reshape(10, 2)
LABEL = np.arange(10, dtype=np.float32)


def run_epochs(it, epochs, summarize=False):
    out = []
    for _ in range(epochs):
        ep = []
        for b in it:
            ep.append({"data": [summary(d) if summarize else d.asnumpy().tolist() for d in b.data],
                       "label": [lab.asnumpy().tolist() for lab in (b.label or [])],
                       "pad": b.pad,
                       "index": None if b.index is None else np.asarray(b.index).tolist()})
        out.append(ep)
        it.reset()
    return out


def summary(d):
    a = d.asnumpy()
    return {"shape": list(a.shape), "sum": float(a.astype(np.float64).sum()),
            "every97": a.ravel()[::97].tolist()}


def assert_batches(got, want):
    assert len(got) == len(want)
    for ep_got, ep_want in zip(got, want):
        assert len(ep_got) == len(ep_want)
        for g, w in zip(ep_got, ep_want):
            assert g["pad"] == w["pad"]
            assert g["index"] == w["index"]
            for key in ("data", "label"):
                assert len(g[key]) == len(w[key])
                for a, b in zip(g[key], w[key]):
                    if isinstance(b, dict):
                        assert a["shape"] == b["shape"]
                        np.testing.assert_allclose(a["sum"], b["sum"], rtol=1e-6)
                        np.testing.assert_allclose(a["every97"], b["every97"], rtol=1e-6)
                    else:
                        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=0, atol=0)


def descs(ds):
    return [[d.name, list(d.shape), np.dtype(d.dtype).name] for d in ds]


@pytest.mark.parametrize("handle", ["pad", "discard", "roll_over"])
@pytest.mark.parametrize("bs", [3, 4])
def test_ndarrayiter_last_batch_handles(handle, bs):
    want = EXPECTED["ndarrayiter"]["%s_%d" % (handle, bs)]
    it = mx.io.NDArrayIter(DATA, LABEL, batch_size=bs, last_batch_handle=handle)
    assert descs(it.provide_data) == want["provide_data"]
    assert descs(it.provide_label) == want["provide_label"]
    assert_batches(run_epochs(it, 3), want["batches"])


@pytest.mark.parametrize("handle", ["pad", "discard", "roll_over"])
def test_ndarrayiter_shuffle_repeats_mxnet_order_under_numpy_seed(handle):
    np.random.seed(7)
    it = mx.io.NDArrayIter(DATA, LABEL, batch_size=3, shuffle=True, last_batch_handle=handle)
    assert_batches(run_epochs(it, 3), EXPECTED["ndarrayiter"]["%s_shuffle" % handle]["batches"])


def test_ndarrayiter_pad_longer_than_data():
    it = mx.io.NDArrayIter(DATA[:3], LABEL[:3], batch_size=8, last_batch_handle="pad")
    assert_batches(run_epochs(it, 1), EXPECTED["ndarrayiter"]["pad_longer"]["batches"])


@pytest.mark.parametrize("key", ["dict", "list", "nolabel"])
def test_ndarrayiter_dict_list_and_unlabelled_inputs(key):
    want = EXPECTED["ndarrayiter"][key]
    if key == "dict":
        it = mx.io.NDArrayIter({"b": DATA, "a": DATA * 2}, {"y": LABEL}, batch_size=4)
    elif key == "list":
        it = mx.io.NDArrayIter([DATA, DATA + 1], [LABEL], batch_size=5, data_name="x",
                               label_name="lab")
    else:
        it = mx.io.NDArrayIter(DATA, None, batch_size=5)
    for attr in ("provide_data", "provide_label"):
        if attr in want:
            assert descs(getattr(it, attr)) == want[attr]
    assert_batches(run_epochs(it, 1), want["batches"])


def test_ndarrayiter_accepts_ndarrays_and_getindex():
    it = mx.io.NDArrayIter(mx.nd.array(DATA), mx.nd.array(LABEL), batch_size=5)
    batch = next(iter(it))
    np.testing.assert_array_equal(batch.data[0].asnumpy(), DATA[:5])
    assert batch.index is None and it.getindex() is None
    assert "data shapes: [(5, 2)]" in str(batch)


def test_resize_iter():
    it = mx.io.ResizeIter(mx.io.NDArrayIter(DATA, LABEL, batch_size=4,
                                            last_batch_handle="discard"), 5)
    assert_batches(run_epochs(it, 2), EXPECTED["ndarrayiter"]["resize"]["batches"])


def test_prefetching_iter_joins_and_renames():
    it1 = mx.io.NDArrayIter({"data": DATA}, {"softmax_label": LABEL}, batch_size=4)
    it2 = mx.io.NDArrayIter({"data": DATA * 2}, {"softmax_label": LABEL + 1}, batch_size=4)
    pit = mx.io.PrefetchingIter([it1, it2], rename_data=[{"data": "d1"}, {"data": "d2"}])
    assert [d.name for d in pit.provide_data] == ["d1", "d2"]
    assert pit.batch_size == 4
    for _ in range(2):
        got = [(b.data[0].asnumpy(), b.data[1].asnumpy(), b.label[1].asnumpy(), b.pad)
               for b in pit]
        assert [g[3] for g in got] == [0, 0, 2]
        np.testing.assert_array_equal(got[0][0], DATA[:4])
        np.testing.assert_array_equal(got[1][1], DATA[4:8] * 2)
        np.testing.assert_array_equal(got[2][2], np.r_[LABEL[8:], LABEL[:2]] + 1)
        pit.reset()


@pytest.mark.parametrize("round_batch", [True, False])
def test_csviter(round_batch):
    want = EXPECTED["csviter"]["round_%s" % round_batch]
    it = mx.io.CSVIter(data_csv=str(FILES / "data.csv"), data_shape=(3,),
                       label_csv=str(FILES / "label.csv"), batch_size=3, round_batch=round_batch)
    assert descs(it.provide_data) == want["provide_data"]
    assert descs(it.provide_label) == want["provide_label"]
    assert_batches(run_epochs(it, 3), want["batches"])


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_csviter_integer_dtypes(dtype):
    want = EXPECTED["csviter"][dtype]
    it = mx.io.CSVIter(data_csv=str(FILES / "int_data.csv"), data_shape=(3,),
                       label_csv=str(FILES / "int_label.csv"), batch_size=3, dtype=dtype)
    # int64 is held as int32 here (JAX without 64-bit types); the values are MXNet's
    held = [[name, shape, "int32"] for name, shape, _ in want["provide_data"]]
    assert descs(it.provide_data) == held
    got = run_epochs(it, 1)
    assert_batches(got, want["batches"])
    assert all(b.data[0].dtype == np.int32 for b in it)


def test_csviter_with_fewer_examples_than_a_batch():
    it = mx.io.CSVIter(data_csv=str(FILES / "data.csv"), data_shape=(3,), batch_size=8)
    assert_batches(run_epochs(it, 2), EXPECTED["csviter"]["short"]["batches"])


def test_csviter_without_labels():
    want = EXPECTED["csviter"]["nolabel"]
    it = mx.io.CSVIter(data_csv=str(FILES / "data.csv"), data_shape=(3, 1), batch_size=2)
    assert descs(it.provide_data) == want["provide_data"]
    assert descs(it.provide_label) == want["provide_label"]
    assert_batches(run_epochs(it, 1), want["batches"])


@pytest.mark.parametrize("flat", [False, True])
def test_mnistiter(flat):
    want = EXPECTED["mnistiter"]["flat_%s" % flat]
    it = mx.io.MNISTIter(image=str(FILES / "train-images-idx3-ubyte"),
                         label=str(FILES / "train-labels-idx1-ubyte"), batch_size=3,
                         shuffle=False, flat=flat, silent=True)
    assert descs(it.provide_data) == want["provide_data"]
    assert descs(it.provide_label) == want["provide_label"]
    assert_batches(run_epochs(it, 2, summarize=True), want["batches"])


def test_mnistiter_shuffle_is_mxnets_order():
    it = mx.io.MNISTIter(image=str(FILES / "train-images-idx3-ubyte"),
                         label=str(FILES / "train-labels-idx1-ubyte.gz"), batch_size=3, seed=1)
    assert_batches(run_epochs(it, 2, summarize=True),
                   EXPECTED["mnistiter"]["shuffled"]["batches"])
    for seed, want in EXPECTED["mnistiter"]["order"].items():
        it = mx.io.MNISTIter(image=str(FILES / "order-images-idx3-ubyte"),
                             label=str(FILES / "order-labels-idx1-ubyte"), batch_size=200,
                             seed=int(seed))
        assert next(it).label[0].asnumpy().tolist() == want
    want = EXPECTED["mnistiter"]["order_60000_seed0"]
    order = mxnet_std_shuffle(60000, 0)
    assert order[:20].tolist() == want["first"] and order[-20:].tolist() == want["last"]
    assert int((order * np.arange(60000)).sum()) == want["weighted_sum"]


def test_missing_files_are_named(tmp_path):
    with pytest.raises(MXNetError, match="nope.csv"):
        mx.io.CSVIter(data_csv=str(tmp_path / "nope.csv"), data_shape=(3,), batch_size=2)
    with pytest.raises(MXNetError, match="train-images-idx3-ubyte"):
        mx.io.MNISTIter(image=str(tmp_path / "train-images-idx3-ubyte"),
                        label=str(FILES / "train-labels-idx1-ubyte"))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="batch_size"):
        mx.io.NDArrayIter(DATA, LABEL, batch_size=0)
    with pytest.raises(ValueError, match="last_batch_handle"):
        mx.io.NDArrayIter(DATA, LABEL, batch_size=2, last_batch_handle="keep")
    with pytest.raises(ValueError, match="softmax_label: 9"):
        mx.io.NDArrayIter(DATA, LABEL[:9], batch_size=2)
    with pytest.raises(TypeError, match="Input must be"):
        mx.io.NDArrayIter(3, batch_size=2)
    with pytest.raises(MXNetError, match="dtype float64 is not supported"):
        mx.io.CSVIter(data_csv=str(FILES / "data.csv"), data_shape=(3,), batch_size=2,
                      dtype="float64")
    it = mx.io.CSVIter(data_csv=str(FILES / "data.csv"), data_shape=(3,), batch_size=15)
    with pytest.raises(MXNetError, match="number of input must be bigger than batch size"):
        next(it)
    with pytest.raises(MXNetError, match="holds 4 rows .* holds 7; they must match"):
        mx.io.CSVIter(data_csv=str(FILES / "data.csv"), data_shape=(3,), batch_size=2,
                      label_csv=str(FILES / "int_data.csv"), label_shape=(3,))
    with pytest.raises(MXNetError, match="not an idx file"):
        mx.io.MNISTIter(image=str(FILES / "data.csv"), label=str(FILES / "label.csv"))


def test_databatch_and_datadesc():
    desc = mx.io.DataDesc("data", (2, 3))
    assert desc == ("data", (2, 3)) and desc.layout == "NCHW" and desc.dtype == np.float32
    assert mx.io.DataDesc.get_batch_axis("TNC") == 1
    assert mx.io.DataDesc.get_list([("a", (1,))], [("a", np.int32)])[0].dtype == np.int32
    with pytest.raises(TypeError, match="data must be a list"):
        mx.io.DataBatch(mx.nd.ones((2,)))


# --- the intent of MXNet 1.x's tests/python/unittest/test_io.py (test_NDArrayIter)

def _iter_data(kind):
    data = np.ones((1000, 2, 2), np.float32) * (np.arange(1000) / 100)[:, None, None]
    labels = (np.arange(1000) / 100).reshape(1000, 1).astype(np.float32)
    if kind == "NDArray":
        return mx.nd.array(data), mx.nd.array(labels)
    return data, labels


@pytest.mark.parametrize("kind", ["NDArray", "ndarray"])
@pytest.mark.parametrize("variant", ["single", "list", "list_nolabel", "dict", "empty_label"])
def test_mxnet_last_batch_handle_counts(kind, variant):
    data, labels = _iter_data(kind)
    if variant == "list":
        data = [data, data]
    elif variant == "list_nolabel":
        data, labels = [data, data], None
    elif variant == "dict":
        data = {"data1": data, "data2": data}
    elif variant == "empty_label":
        labels = []
    labelled = labels is not None and len(labels) != 0
    label_counts = {"pad": (124, 100), "discard": (100, 96), "roll_over": (100, 96)}
    batch_counts = {"pad": 8, "discard": 7, "roll_over": 7}
    cache = None
    for handle in ("pad", "discard", "roll_over"):
        it = mx.io.NDArrayIter(data, labels, 128, False, last_batch_handle=handle)
        count = 0
        counts = [0] * 10
        for batch in it:
            if isinstance(data, (list, dict)):
                assert len(batch.data) == 2
            if labelled:
                label = batch.label[0].asnumpy().flatten()
                assert (batch.data[0].asnumpy()[:, 0, 0] == label).all()
                for v in label:
                    counts[int(v)] += 1
            else:
                assert not batch.label
            count += 1
            if handle == "pad" and count == batch_counts["pad"]:
                cache = batch.data[0].asnumpy()
        if labelled:
            assert (counts[0], counts[8]) == label_counts[handle], handle
        assert count == batch_counts[handle]
    it.reset()  # roll_over: the first batch of the next epoch is the padded last batch
    np.testing.assert_array_equal(it.next().data[0].asnumpy(), cache)


@pytest.mark.parametrize("variant", ["single", "list", "dict_nolabel"])
def test_mxnet_shuffle_maps_through_idx(variant):
    data, labels = _iter_data("ndarray")
    data, labels = data[:40], labels[:40]
    if variant == "list":
        data = [data, data]
    elif variant == "dict_nolabel":
        data, labels = {"data1": data, "data2": data}, None
    plain = [b.data[0].asnumpy() for b in mx.io.NDArrayIter(data, labels, 1, False)]
    it = mx.io.NDArrayIter(data, labels, 1, True)
    for i, batch in enumerate(it):
        np.testing.assert_array_equal(batch.data[0].asnumpy(), plain[it.idx[i]])


def test_ndarrayiter_one_call_window_matches_per_input_slices_and_honours_overrides():
    """A full batch is sliced for every input in one compiled call: the same arrays as
    ``getdata()``/``getlabel()``; a subclass's own ``getdata`` is still what ``next`` reads."""
    it = mx.io.NDArrayIter({"a": DATA, "b": DATA * 2}, LABEL, batch_size=4)
    b = it.next()
    assert [d.asnumpy().tolist() for d in b.data] == [d.asnumpy().tolist() for d in it.getdata()]
    assert b.label[0].asnumpy().tolist() == it.getlabel()[0].asnumpy().tolist()

    class Doubled(mx.io.NDArrayIter):
        def getdata(self):
            return [d * 2 for d in super().getdata()]

    b = Doubled(DATA, LABEL, batch_size=4).next()
    np.testing.assert_array_equal(b.data[0].asnumpy(), DATA[:4] * 2)
