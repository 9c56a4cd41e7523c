"""Golden data of MXNet 1.9.1's ``mx.io``, ``mx.metric``, ``mx.callback``, ``mx.kv`` and
``mx.gluon.data`` (iterators, metrics, log lines, samplers, loaders, transforms, datasets).

Regenerate from the repository root, with a virtual environment holding the real
MXNet 1.9.1 (numpy<1.24, no jax) made by ``tools/mxnet-venv.sh``::

    tools/mxnet-venv.sh ../mxvenv
    ../mxvenv/bin/python tests/golden/compat/io/gen_mxnet_io_metric.py

It writes, next to this script:

- ``files/``: tiny inputs it creates (CSV files, MNIST idx files plain and gzipped,
  CIFAR-10 binary batches, an indexed RecordIO file), read by real MXNet here and by optjax in the tests;
- ``inputs.npz``: the seeded metric inputs;
- ``expected.json``: what real MXNet produced: ``NDArrayIter`` batches, pads and
  ``provide_data``/``provide_label`` for every ``last_batch_handle`` over two epochs
  (shuffled under ``numpy.random.seed``, dict and list inputs, pad longer than the
  data), ``ResizeIter``, ``CSVIter`` (``round_batch`` on and off, three epochs),
  ``MNISTIter`` (unshuffled, flat, shuffled with seeds), every metric's ``get()``/``get_global()`` after
  each batch (with a ``reset_local`` in the middle), the callbacks' log lines under
  a fixed clock, sampler and ``BatchSampler`` index sequences, ``Dataset``
  ``shard``/``take``/``filter``, ``RecordFileDataset`` records (payloads holding
  RecordIO's magic number, which it splits), ``DataLoader`` batches, ``mx.kv`` push/pull results,
  vision transforms' outputs and the gluon MNIST/CIFAR10 datasets' samples.
"""

import collections
import gzip
import json
import logging
import os
import struct

import numpy as np
import mxnet as mx

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = os.path.join(HERE, "files")
OUT = {}


def tolist(x):
    if isinstance(x, mx.nd.NDArray):
        x = x.asnumpy()
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    if isinstance(x, (list, tuple)):
        return [tolist(i) for i in x]
    return x


def summary(d):
    """Shape, float64 sum and every 97th value of an image batch (keeps the file small)."""
    a = d.asnumpy()
    return {"shape": list(a.shape), "sum": float(a.astype(np.float64).sum()),
            "every97": a.ravel()[::97].tolist()}


def batches(it, epochs=2, summarize=False):
    out = []
    for _ in range(epochs):
        ep = []
        for b in it:
            ep.append({"data": [summary(d) if summarize else tolist(d) for d in b.data],
                       "label": [tolist(lab) for lab in (b.label or [])],
                       "pad": b.pad,
                       "index": None if b.index is None else tolist(b.index)})
        out.append(ep)
        it.reset()
    return out


def descs(ds):
    return [[d.name, list(d.shape), np.dtype(d.dtype).name] for d in ds]


# ---------------------------------------------------------------- mx.io
def gen_io():
    data = np.arange(20, dtype=np.float32).reshape(10, 2)
    label = np.arange(10, dtype=np.float32)
    res = {}
    for handle in ("pad", "discard", "roll_over"):
        for bs in (3, 4):
            it = mx.io.NDArrayIter(data, label, batch_size=bs, last_batch_handle=handle)
            res["%s_%d" % (handle, bs)] = {"batches": batches(it, 3),
                                           "provide_data": descs(it.provide_data),
                                           "provide_label": descs(it.provide_label)}
        np.random.seed(7)
        it = mx.io.NDArrayIter(data, label, batch_size=3, shuffle=True, last_batch_handle=handle)
        res["%s_shuffle" % handle] = {"batches": batches(it, 3)}
    it = mx.io.NDArrayIter(data[:3], label[:3], batch_size=8, last_batch_handle="pad")
    res["pad_longer"] = {"batches": batches(it, 1)}
    it = mx.io.NDArrayIter({"b": data, "a": data * 2}, {"y": label}, batch_size=4)
    res["dict"] = {"batches": batches(it, 1), "provide_data": descs(it.provide_data),
                   "provide_label": descs(it.provide_label)}
    it = mx.io.NDArrayIter([data, data + 1], [label], batch_size=5, data_name="x",
                           label_name="lab")
    res["list"] = {"batches": batches(it, 1), "provide_data": descs(it.provide_data),
                   "provide_label": descs(it.provide_label)}
    it = mx.io.NDArrayIter(data, None, batch_size=5)
    res["nolabel"] = {"batches": batches(it, 1), "provide_label": descs(it.provide_label)}
    it = mx.io.ResizeIter(mx.io.NDArrayIter(data, label, batch_size=4,
                                            last_batch_handle="discard"), 5)
    res["resize"] = {"batches": batches(it, 2)}
    OUT["ndarrayiter"] = res

    os.makedirs(FILES, exist_ok=True)
    csv_data = os.path.join(FILES, "data.csv")
    csv_label = os.path.join(FILES, "label.csv")
    np.savetxt(csv_data, np.arange(21).reshape(7, 3) * 0.5, delimiter=",", fmt="%g")
    np.savetxt(csv_label, np.arange(7) % 3, delimiter=",", fmt="%g")
    res = {}
    for rb in (True, False):
        it = mx.io.CSVIter(data_csv=csv_data, data_shape=(3,), label_csv=csv_label,
                           batch_size=3, round_batch=rb)
        res["round_%s" % rb] = {"batches": batches(it, 3), "provide_data": descs(it.provide_data),
                                "provide_label": descs(it.provide_label)}
    int_data = os.path.join(FILES, "int_data.csv")
    int_label = os.path.join(FILES, "int_label.csv")
    np.savetxt(int_data, np.arange(12).reshape(4, 3) + 200000001, delimiter=",", fmt="%d")
    np.savetxt(int_label, np.arange(4) * 7, delimiter=",", fmt="%d")
    for dt in ("int32", "int64"):
        it = mx.io.CSVIter(data_csv=int_data, data_shape=(3,), label_csv=int_label,
                           batch_size=3, dtype=dt)
        res[dt] = {"batches": batches(it, 1), "provide_data": descs(it.provide_data),
                   "provide_label": descs(it.provide_label)}
    # fewer examples than a batch: wrapped once (pad 1)
    it = mx.io.CSVIter(data_csv=csv_data, data_shape=(3,), batch_size=8)
    res["short"] = {"batches": batches(it, 2)}
    it = mx.io.CSVIter(data_csv=csv_data, data_shape=(3, 1), batch_size=2)
    res["nolabel"] = {"batches": batches(it, 1), "provide_data": descs(it.provide_data),
                      "provide_label": descs(it.provide_label)}
    OUT["csviter"] = res

    rng = np.random.RandomState(0)
    imgs = rng.randint(0, 256, size=(7, 28, 28)).astype(np.uint8)
    labs = rng.randint(0, 10, size=7).astype(np.uint8)
    for prefix in ("train",):
        img_raw = struct.pack(">IIII", 2051, 7, 28, 28) + imgs.tobytes()
        lab_raw = struct.pack(">II", 2049, 7) + labs.tobytes()
        with open(os.path.join(FILES, "%s-images-idx3-ubyte" % prefix), "wb") as f:
            f.write(img_raw)
        with open(os.path.join(FILES, "%s-labels-idx1-ubyte" % prefix), "wb") as f:
            f.write(lab_raw)
        for name, raw in (("images-idx3", img_raw), ("labels-idx1", lab_raw)):
            with open(os.path.join(FILES, "%s-%s-ubyte.gz" % (prefix, name)), "wb") as f:
                # mtime 0: the same bytes at every regeneration
                with gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as gz:
                    gz.write(raw)
    res = {}
    for flat in (False, True):
        it = mx.io.MNISTIter(image=os.path.join(FILES, "train-images-idx3-ubyte"),
                             label=os.path.join(FILES, "train-labels-idx1-ubyte"),
                             batch_size=3, shuffle=False, flat=flat, silent=True)
        res["flat_%s" % flat] = {"batches": batches(it, 2, True),
                                 "provide_data": descs(it.provide_data),
                                 "provide_label": descs(it.provide_label)}
    it = mx.io.MNISTIter(image=os.path.join(FILES, "train-images-idx3-ubyte"),
                         label=os.path.join(FILES, "train-labels-idx1-ubyte"),
                         batch_size=3, shuffle=True, seed=1, silent=True)
    res["shuffled"] = {"batches": batches(it, 2, True)}
    # a longer file whose label i marks example i: the whole shuffled order
    n = 200
    with open(os.path.join(FILES, "order-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 2051, n, 1, 1) + bytes(range(n)))
    with open(os.path.join(FILES, "order-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 2049, n) + bytes(range(n)))
    res["order"] = {}
    for seed in (0, 3):
        it = mx.io.MNISTIter(image=os.path.join(FILES, "order-images-idx3-ubyte"),
                             label=os.path.join(FILES, "order-labels-idx1-ubyte"),
                             batch_size=n, shuffle=True, seed=seed, silent=True)
        res["order"][str(seed)] = tolist(next(it).label[0])
    # MNIST's size (where libstdc++'s division and multiplication samplers differ): the
    # example indices are encoded in two pixels of a temporary file, not committed
    import tempfile
    n = 60000
    idx = np.arange(n)
    with tempfile.TemporaryDirectory() as tmp:
        img, lab = os.path.join(tmp, "img"), os.path.join(tmp, "lab")
        with open(img, "wb") as f:
            f.write(struct.pack(">IIII", 2051, n, 1, 2)
                    + np.stack([idx // 256, idx % 256], 1).astype(np.uint8).tobytes())
        with open(lab, "wb") as f:
            f.write(struct.pack(">II", 2049, n) + (idx % 256).astype(np.uint8).tobytes())
        it = mx.io.MNISTIter(image=img, label=lab, batch_size=n, shuffle=True, seed=0,
                             silent=True, flat=True)
        d = np.rint(next(it).data[0].asnumpy() * 256).astype(np.int64)
    order = d[:, 0] * 256 + d[:, 1]
    res["order_60000_seed0"] = {"first": order[:20].tolist(), "last": order[-20:].tolist(),
                                "weighted_sum": int((order * idx).sum())}
    OUT["mnistiter"] = res


# ---------------------------------------------------------------- mx.metric
METRICS = [
    ("acc", "acc", {}, "cls"),
    ("acc_same_shape", "acc", {}, "cls_label_shaped"),
    ("top_k", "top_k_accuracy", {"top_k": 3}, "cls"),
    ("f1_macro", "f1", {}, "bin"),
    ("f1_micro", "f1", {"average": "micro"}, "bin"),
    ("mcc_macro", "mcc", {}, "bin"),
    ("mcc_micro", "mcc", {"average": "micro"}, "bin"),
    ("perplexity", "perplexity", {"ignore_label": None}, "cls"),
    ("perplexity_ignore", "perplexity", {"ignore_label": 0}, "cls"),
    ("mae", "mae", {}, "reg"),
    ("mse", "mse", {}, "reg"),
    ("rmse", "rmse", {}, "reg"),
    ("ce", "ce", {}, "cls"),
    ("nll_loss", "nll_loss", {}, "cls"),
    ("pearsonr_macro", "pearsonr", {}, "reg"),
    ("pearsonr_micro", "pearsonr", {"average": "micro"}, "reg"),
    ("pcc", "pcc", {}, "cls"),
    ("loss", "loss", {}, "loss"),
    ("composite", ["acc", "ce", "mse"], {}, "cls"),
]


def gen_metric_inputs():
    rng = np.random.RandomState(42)
    inputs = {}
    for b in range(4):
        logits = rng.randn(8, 5).astype(np.float32)
        prob = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        inputs["cls_pred_%d" % b] = prob.astype(np.float32)
        inputs["cls_label_%d" % b] = rng.randint(0, 5, size=8).astype(np.float32)
        inputs["cls_label_shaped_pred_%d" % b] = rng.randint(0, 5, size=8).astype(np.float32)
        bl = rng.rand(10, 2).astype(np.float32)
        inputs["bin_pred_%d" % b] = (bl / bl.sum(1, keepdims=True)).astype(np.float32)
        inputs["bin_label_%d" % b] = rng.randint(0, 2, size=10).astype(np.float32)
        inputs["reg_pred_%d" % b] = rng.randn(6, 3).astype(np.float32)
        inputs["reg_label_%d" % b] = rng.randn(6, 3).astype(np.float32)
        inputs["loss_pred_%d" % b] = rng.rand(7).astype(np.float32)
    np.savez(os.path.join(HERE, "inputs.npz"), **inputs)
    return inputs


def pair(inputs, kind, b):
    if kind == "cls_label_shaped":
        return inputs["cls_label_%d" % b], inputs["cls_label_shaped_pred_%d" % b]
    if kind == "loss":
        return inputs["loss_pred_%d" % b], inputs["loss_pred_%d" % b]
    return inputs["%s_label_%d" % (kind, b)], inputs["%s_pred_%d" % (kind, b)]


def gen_metric():
    inputs = gen_metric_inputs()
    res = {}
    for key, name, kwargs, kind in METRICS:
        m = mx.metric.create(name, **kwargs)
        steps = []
        for b in range(4):
            label, pred = pair(inputs, kind, b)
            m.update([mx.nd.array(label)], [mx.nd.array(pred)])
            steps.append({"get": tolist(list(m.get())), "get_global": tolist(list(m.get_global())),
                          "name_value": tolist(m.get_name_value())})
            if b == 1:
                m.reset_local()
        m.reset()
        res[key] = {"steps": steps, "after_reset": tolist(list(m.get())),
                    "name": tolist(m.get()[0])}
    # two label arrays per update (a list of several outputs)
    m = mx.metric.create("acc")
    m.update([mx.nd.array(inputs["cls_label_0"]), mx.nd.array(inputs["cls_label_1"])],
             [mx.nd.array(inputs["cls_pred_0"]), mx.nd.array(inputs["cls_pred_1"])])
    res["acc_two_outputs"] = tolist(list(m.get()))
    m = mx.metric.create("mse")
    m.update([mx.nd.array(inputs["reg_label_0"]), mx.nd.array(inputs["reg_label_1"])],
             [mx.nd.array(inputs["reg_pred_0"]), mx.nd.array(inputs["reg_pred_1"])])
    res["mse_two_outputs"] = tolist(list(m.get()))

    def feval(label, pred):
        return float(np.abs(label - pred.argmax(1)).sum()), len(label)
    m = mx.metric.np(feval)
    m2 = mx.metric.CustomMetric(lambda label, pred: float((pred.argmax(1) == label).mean()))
    for b in range(3):
        label, pred = pair(inputs, "cls", b)
        m.update([mx.nd.array(label)], [mx.nd.array(pred)])
        m2.update([mx.nd.array(label)], [mx.nd.array(pred)])
    res["custom_np"] = tolist(list(m.get()))
    res["custom_lambda"] = tolist(list(m2.get()))
    res["config_acc"] = mx.metric.Accuracy(axis=1).get_config()
    comp = mx.metric.create(["acc", "mse"])
    label, pred = pair(inputs, "cls", 0)
    comp.update_dict({"softmax_label": mx.nd.array(label)}, {"out": mx.nd.array(pred)})
    res["composite_update_dict"] = tolist(list(comp.get()))
    res["_spec"] = METRICS  # the tests replay these (key, create name, kwargs, inputs)
    OUT["metric"] = res


# ---------------------------------------------------------------- mx.callback
class Capture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def gen_callback():
    import mxnet.callback as cb_mod
    clock = [1000.0]

    def fake_time():
        clock[0] += 0.5
        return clock[0]
    cb_mod.time.time = fake_time
    Param = collections.namedtuple("BatchEndParams", ["epoch", "nbatch", "eval_metric", "locals"])
    handler = Capture()
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    inputs = dict(np.load(os.path.join(HERE, "inputs.npz")))
    res = {}
    for key, make in (("speedometer_auto_reset", lambda: mx.callback.Speedometer(16, 2)),
                      ("speedometer_no_reset", lambda: mx.callback.Speedometer(16, 2, False)),
                      ("log_train_metric", lambda: mx.callback.log_train_metric(2)),
                      ("log_train_metric_reset", lambda: mx.callback.log_train_metric(2, True)),
                      ("progress_bar", lambda: mx.callback.ProgressBar(total=4, length=10)),
                      ("log_validation", lambda: mx.callback.LogValidationMetricsCallback())):
        handler.lines = []
        clock[0] = 1000.0
        cb = make()
        metric = mx.metric.create(["acc", "ce"])
        for epoch in range(2):
            for nbatch in range(0, 5):
                b = nbatch % 4
                metric.update([mx.nd.array(inputs["cls_label_%d" % b])],
                              [mx.nd.array(inputs["cls_pred_%d" % b])])
                cb(Param(epoch, nbatch, metric, None))
        res[key] = handler.lines
    handler.lines = []
    clock[0] = 1000.0
    cb = mx.callback.Speedometer(8, 2)
    for nbatch in range(5):
        cb(Param(0, nbatch, None, None))
    res["speedometer_no_metric"] = handler.lines
    root.removeHandler(handler)
    OUT["callback"] = res


# ---------------------------------------------------------------- gluon.data
def gen_gluon_data():
    from mxnet.gluon import data as gdata
    from mxnet.gluon.contrib.data import IntervalSampler
    res = {}
    res["sequential"] = list(gdata.SequentialSampler(5, start=2))
    np.random.seed(3)
    rs = gdata.RandomSampler(9)
    res["random"] = [tolist(list(rs)), tolist(list(rs))]
    for lb in ("keep", "discard", "rollover"):
        bs = gdata.BatchSampler(gdata.SequentialSampler(10), 4, lb)
        res["batch_" + lb] = [tolist(list(bs)), tolist(list(bs)), tolist(list(bs)), len(bs)]
    res["interval"] = list(IntervalSampler(13, 3))
    res["interval_no_rollover"] = list(IntervalSampler(13, 3, rollover=False))
    ds = gdata.SimpleDataset(list(range(10)))
    res["shard"] = [list(ds.shard(3, i)) for i in range(3)]
    res["take"] = list(ds.take(4))
    res["take_none"] = list(ds.take(None))
    res["filter"] = list(ds.filter(lambda x: x % 3 == 0))
    res["transform"] = list(ds.transform(lambda x: x * 10))
    ads = gdata.ArrayDataset(np.arange(10), np.arange(10) * 2)
    res["transform_first"] = [list(t) for t in ads.transform_first(lambda x: x + 100)]
    res["sample"] = list(ds.sample(gdata.SequentialSampler(3, 4)))

    rec_path = os.path.join(FILES, "records.rec")
    writer = mx.recordio.MXIndexedRecordIO(os.path.join(FILES, "records.idx"), rec_path, "w")
    magic = struct.pack("<I", 0xCED7230A)
    # dmlc splits a payload at a 4-byte-aligned magic number (flags 1, 2, 3)
    payloads = [b"", b"abc", b"x" * 9, b"a" + magic + b"bc" + magic, magic,
                b"abcd" + magic + b"efgh" + magic + magic + b"ij"]
    for i, p in enumerate(payloads):
        writer.write_idx(i * 3, p)
    writer.close()
    rds = gdata.RecordFileDataset(rec_path)
    res["record_file"] = [len(rds)] + [list(bytearray(rds[i])) for i in range(len(rds))]

    X = np.arange(30, dtype=np.float32).reshape(10, 3)
    y = np.arange(10, dtype=np.float32)
    loaders = {}
    for lb in ("keep", "discard", "rollover"):
        dl = gdata.DataLoader(gdata.ArrayDataset(X, y), batch_size=4, last_batch=lb)
        loaders[lb] = [[[tolist(x), tolist(t), np.dtype(x.dtype).name] for x, t in dl]
                       for _ in range(2)] + [len(dl)]
    np.random.seed(5)
    dl = gdata.DataLoader(gdata.ArrayDataset(X, y), batch_size=3, shuffle=True)
    loaders["shuffle"] = [[[tolist(x), tolist(t)] for x, t in dl] for _ in range(2)]
    dl = gdata.DataLoader(gdata.ArrayDataset(mx.nd.array(X), y), batch_size=6)
    loaders["ndarray_items"] = [[tolist(x), tolist(t), np.dtype(x.dtype).name,
                                 np.dtype(t.dtype).name] for x, t in dl]
    dl = gdata.DataLoader(gdata.SimpleDataset([(np.ones((2, 2), np.float32) * i, i)
                                               for i in range(5)]), batch_size=2)
    loaders["tuple_items"] = [[tolist(x), tolist(t), np.dtype(x.dtype).name,
                               np.dtype(t.dtype).name] for x, t in dl]
    dl = gdata.DataLoader(gdata.ArrayDataset(X, y), batch_sampler=gdata.BatchSampler(
        gdata.SequentialSampler(10), 5, "discard"))
    loaders["batch_sampler"] = [[tolist(x), tolist(t)] for x, t in dl]
    res["dataloader"] = loaders

    from mxnet.gluon.data.vision import transforms as T
    rng = np.random.RandomState(1)
    img = rng.randint(0, 256, size=(6, 8, 3)).astype(np.uint8)
    np.savez(os.path.join(HERE, "image.npz"), img=img)
    nimg = mx.nd.array(img, dtype=np.uint8)
    tr = {}
    tr["to_tensor"] = tolist(T.ToTensor()(nimg))
    tr["to_tensor_batch"] = tolist(T.ToTensor()(mx.nd.stack(nimg, nimg)))
    tr["normalize"] = tolist(T.Normalize((0.5, 0.4, 0.3), (0.2, 0.25, 0.3))(T.ToTensor()(nimg)))
    tr["compose"] = tolist(T.Compose([T.ToTensor(), T.Normalize(0.5, 0.5)])(nimg))
    tr["cast"] = [tolist(T.Cast("float16")(nimg)), np.dtype(T.Cast("float16")(nimg).dtype).name]
    tr["resize_up_uint8"] = tolist(T.Resize((11, 9))(nimg))
    tr["resize_down_uint8"] = tolist(T.Resize((4, 3))(nimg))
    tr["resize_float"] = tolist(T.Resize((5, 7))(nimg.astype("float32")))
    tr["resize_keep"] = tolist(T.Resize(3, keep_ratio=True)(nimg.astype("float32")))
    tr["resize_nearest"] = tolist(T.Resize((5, 9), interpolation=0)(nimg.astype("float32")))
    tr["center_crop"] = tolist(T.CenterCrop((4, 3))(nimg))
    tr["center_crop_int"] = tolist(T.CenterCrop(5)(nimg))
    res["transforms"] = tr

    from mxnet.gluon.data.vision import MNIST, CIFAR10
    from mxnet.gluon.data.vision import datasets as vds
    # the tiny files have other checksums than the real datasets: read them as they are,
    # never download
    vds.download = lambda url, path=None, sha1_hash=None: os.path.join(path, url.split("/")[-1])
    vds.check_sha1 = lambda filename, sha1_hash: True
    ds = MNIST(root=FILES, train=True)
    res["mnist"] = {"len": len(ds), "first": [tolist(ds[0][0]), tolist(ds[0][1])],
                    "last_label": tolist(ds[6][1]), "dtype": np.dtype(ds[0][0].dtype).name,
                    "shape": list(ds[0][0].shape)}
    rec = np.concatenate([rng.randint(0, 10, size=(4, 1)),
                          rng.randint(0, 256, size=(4, 3072))], axis=1).astype(np.uint8)
    cdir = os.path.join(FILES, "cifar10")
    os.makedirs(cdir, exist_ok=True)
    with open(os.path.join(cdir, "test_batch.bin"), "wb") as f:
        f.write(rec.tobytes())
    train_labels = []
    for i in range(1, 6):
        one = np.concatenate([[i], rng.randint(0, 256, size=3072)]).astype(np.uint8)
        with open(os.path.join(cdir, "data_batch_%d.bin" % i), "wb") as f:
            f.write(one.tobytes())
    train = CIFAR10(root=cdir, train=True)
    train_labels = [tolist(train[i][1]) for i in range(len(train))]
    ds = CIFAR10(root=cdir, train=False)
    res["cifar10"] = {"len": len(ds), "first_img_corner": tolist(ds[0][0][:2, :2]),
                      "labels": [tolist(ds[i][1]) for i in range(4)],
                      "shape": list(ds[0][0].shape), "dtype": np.dtype(ds[0][0].dtype).name,
                      "sum": int(ds[3][0].asnumpy().astype(np.int64).sum()),
                      "train_labels": train_labels,
                      "train_sum": int(train[4][0].asnumpy().astype(np.int64).sum())}
    OUT["gluon_data"] = res


# ---------------------------------------------------------------- mx.kv
def gen_kv():
    res = {}
    kv = mx.kv.create("local")
    res["local"] = [kv.type, kv.rank, kv.num_workers]
    kv.init(3, mx.nd.ones((2, 2)))
    kv.push(3, [mx.nd.ones((2, 2)) * 2, mx.nd.ones((2, 2)) * 3])
    a, b = mx.nd.zeros((2, 2)), mx.nd.zeros((2, 2))
    kv.pull(3, out=[a, b])
    res["sum"] = [tolist(a), tolist(b)]
    kv.init(4, mx.nd.ones((2,)))
    kv.set_optimizer(mx.optimizer.SGD(learning_rate=0.1, momentum=0.9))
    outs = []
    for _ in range(3):
        kv.push(4, [mx.nd.ones((2,)), mx.nd.ones((2,)) * 0.5])
        o = mx.nd.zeros((2,))
        kv.pull(4, out=o)
        outs.append(tolist(o))
    o = mx.nd.zeros((2,))
    kv.pushpull(4, mx.nd.ones((2,)), out=o)
    outs.append(tolist(o))
    res["sgd_momentum"] = outs
    kv = mx.kv.create("device")
    kv.init(["w", "v"], [mx.nd.ones(2), mx.nd.ones(2) * 2])
    kv.push(["w", "v"], [[mx.nd.ones(2), mx.nd.ones(2)], [mx.nd.ones(2) * 4]])
    o1, o2 = mx.nd.zeros(2), mx.nd.zeros(2)
    kv.pull(["w", "v"], out=[o1, o2])
    res["device_str_keys"] = [kv.type, tolist(o1), tolist(o2)]
    OUT["kv"] = res


if __name__ == "__main__":
    gen_io()
    gen_metric()
    gen_callback()
    gen_gluon_data()
    gen_kv()
    OUT["mxnet_version"] = mx.__version__
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(OUT, f, indent=None, sort_keys=True,
                  default=lambda o: o.item() if hasattr(o, "item") else str(o))
        f.write("\n")
