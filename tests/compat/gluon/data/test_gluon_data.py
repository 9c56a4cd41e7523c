"""mx.gluon.data samplers, datasets and DataLoader against real MXNet 1.9.1
(tests/golden/compat/io/, gen_mxnet_io_metric.py)."""

import json
import pathlib

import numpy as np
import pytest

import optjax.compat.mxnet as mx
from optjax.compat.mxnet import gluon
from optjax.compat.mxnet.gluon import data as gdata

GOLDEN = pathlib.Path(__file__).resolve().parents[3] / "golden" / "compat" / "io"
EXPECTED = json.loads((GOLDEN / "expected.json").read_text(encoding="utf-8"))["gluon_data"]
X = np.arange(30, dtype=np.float32).reshape(10, 3)
Y = np.arange(10, dtype=np.float32)


def test_package_layout_matches_mxnet():
    from optjax.compat.mxnet.gluon.data import dataloader, dataset, sampler, vision  # noqa: F401
    assert gluon.data.DataLoader is dataloader.DataLoader
    assert gdata.vision.transforms.ToTensor and gdata.vision.MNIST


def test_samplers():
    assert list(gdata.SequentialSampler(5, start=2)) == EXPECTED["sequential"]
    np.random.seed(3)
    rs = gdata.RandomSampler(9)
    assert [[int(i) for i in rs], [int(i) for i in rs]] == EXPECTED["random"]
    for lb in ("keep", "discard", "rollover"):
        bs = gdata.BatchSampler(gdata.SequentialSampler(10), 4, lb)
        assert [list(bs), list(bs), list(bs), len(bs)] == EXPECTED["batch_" + lb], lb
    assert list(gdata.IntervalSampler(13, 3)) == EXPECTED["interval"]
    assert list(gdata.IntervalSampler(13, 3, rollover=False)) == EXPECTED["interval_no_rollover"]


def test_dataset_methods():
    ds = gdata.SimpleDataset(list(range(10)))
    assert [list(ds.shard(3, i)) for i in range(3)] == EXPECTED["shard"]
    assert list(ds.take(4)) == EXPECTED["take"]
    assert list(ds.take(None)) == EXPECTED["take_none"]
    assert list(ds.filter(lambda x: x % 3 == 0)) == EXPECTED["filter"]
    assert list(ds.transform(lambda x: x * 10)) == EXPECTED["transform"]
    assert list(ds.transform(lambda x: x * 10, lazy=False)) == EXPECTED["transform"]
    ads = gdata.ArrayDataset(np.arange(10), np.arange(10) * 2)
    assert [[int(v) for v in t] for t in ads.transform_first(lambda x: x + 100)] \
        == EXPECTED["transform_first"]
    assert list(ds.sample(gdata.SequentialSampler(3, 4))) == EXPECTED["sample"]


def test_record_file_dataset():
    ds = gdata.RecordFileDataset(str(GOLDEN / "files" / "records.rec"))
    want = EXPECTED["record_file"]
    assert [len(ds)] + [list(bytearray(ds[i])) for i in range(len(ds))] == want
    with pytest.raises(FileNotFoundError, match="nothere.rec"):
        gdata.RecordFileDataset(str(GOLDEN / "files" / "nothere.rec"))


def batches(dl, with_dtype=False):
    out = []
    for x, t in dl:
        row = [x.asnumpy().tolist(), t.asnumpy().tolist()]
        if with_dtype:
            row.append(np.dtype(x.dtype).name)
        out.append(row)
    return out


@pytest.mark.parametrize("lb", ["keep", "discard", "rollover"])
def test_dataloader_last_batch(lb):
    dl = gdata.DataLoader(gdata.ArrayDataset(X, Y), batch_size=4, last_batch=lb)
    want = EXPECTED["dataloader"][lb]
    assert [batches(dl, True), batches(dl, True), len(dl)] == want


def test_dataloader_shuffle_repeats_mxnet_order_under_numpy_seed():
    np.random.seed(5)
    dl = gdata.DataLoader(gdata.ArrayDataset(X, Y), batch_size=3, shuffle=True)
    assert [batches(dl), batches(dl)] == EXPECTED["dataloader"]["shuffle"]


def test_dataloader_item_kinds_and_batch_sampler():
    dl = gdata.DataLoader(gdata.ArrayDataset(mx.nd.array(X), Y), batch_size=6)
    got = [[x.asnumpy().tolist(), t.asnumpy().tolist(), np.dtype(x.dtype).name,
            np.dtype(t.dtype).name] for x, t in dl]
    assert got == EXPECTED["dataloader"]["ndarray_items"]
    items = gdata.SimpleDataset([(np.ones((2, 2), np.float32) * i, i) for i in range(5)])
    for num_workers in (0, 2):
        dl = gdata.DataLoader(items, batch_size=2, num_workers=num_workers, pin_memory=True)
        got = [[x.asnumpy().tolist(), t.asnumpy().tolist(), np.dtype(x.dtype).name]
               for x, t in dl]
        want = EXPECTED["dataloader"]["tuple_items"]
        assert got == [w[:3] for w in want]
        # MXNet makes int64 labels; JAX here has no 64-bit types: int32
        assert [np.dtype(t.dtype).name for _, t in dl] == ["int32"] * len(want)
    dl = gdata.DataLoader(gdata.ArrayDataset(X, Y), batch_sampler=gdata.BatchSampler(
        gdata.SequentialSampler(10), 5, "discard"))
    assert batches(dl) == EXPECTED["dataloader"]["batch_sampler"]


def test_dataloader_custom_batchify_and_transform():
    ds = gdata.ArrayDataset(X, Y).transform_first(lambda x: x * 2)
    dl = gdata.DataLoader(ds, batch_size=5, batchify_fn=lambda items: len(items))
    assert list(dl) == [5, 5]
    x, t = next(iter(gdata.DataLoader(ds, batch_size=5)))
    np.testing.assert_array_equal(x.asnumpy(), X[:5] * 2)


# --- the intent of MXNet 1.x's tests/python/unittest/test_gluon_data.py

def test_mxnet_list_and_multi_worker_datasets():
    for num_workers in range(3):
        loader = gdata.DataLoader([([1, 2], 0), ([3, 4], 1)], batch_size=1,
                                  num_workers=num_workers)
        assert [(d.asnumpy().tolist(), lab.asnumpy().tolist()) for d, lab in loader] \
            == [([[1, 2]], [0]), ([[3, 4]], [1])]

    class Full(gdata.Dataset):
        def __len__(self):
            return 20

        def __getitem__(self, key):
            return mx.nd.full((10,), key)
    for thread_pool in (True, False):
        loader = gdata.DataLoader(Full(), batch_size=1, num_workers=5, thread_pool=thread_pool)
        assert all((batch.asnumpy() == i).all() for i, batch in enumerate(loader))
    first = next(iter(gdata.DataLoader(np.random.rand(99, 20), batch_size=8, num_workers=8)))
    assert first.shape == (8, 20)
    item = next(iter(gdata.DataLoader(mx.nd.ones(5), batchify_fn=lambda a: a, num_workers=1,
                                      batch_size=2)))
    assert item is not None


def test_mxnet_dataloader_context():
    dataset = gdata.ArrayDataset(np.random.uniform(size=(10, 20)))
    assert all(x.context == mx.cpu(0) for x in gdata.DataLoader(dataset, 8))
    assert all(x.context == mx.cpu_pinned(0)
               for x in gdata.DataLoader(dataset, 8, pin_memory=True))
    assert all(x.context == mx.cpu_pinned(1)
               for x in gdata.DataLoader(dataset, 8, pin_memory=True, pin_device_id=1))


def test_bad_arguments_are_named():
    ds = gdata.ArrayDataset(X, Y)
    with pytest.raises(ValueError, match="batch_size must be specified"):
        gdata.DataLoader(ds)
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        gdata.DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="last_batch must be one of"):
        gdata.DataLoader(ds, batch_size=2, last_batch="drop")
    with pytest.raises(ValueError, match="shuffle must not be specified"):
        gdata.DataLoader(ds, batch_size=2, shuffle=True, sampler=gdata.SequentialSampler(10))
    with pytest.raises(ValueError, match="must not be specified if batch_sampler"):
        gdata.DataLoader(ds, batch_size=2, batch_sampler=gdata.BatchSampler(
            gdata.SequentialSampler(10), 2))
    with pytest.raises(ValueError, match="array\\[1\\] has 9"):
        gdata.ArrayDataset(X, Y[:9])
    with pytest.raises(TypeError, match="Invalid sampler type"):
        gdata.SimpleDataset([1]).sample([0])
    with pytest.raises(ValueError, match="shard: index"):
        gdata.SimpleDataset([1]).shard(2, 2)
