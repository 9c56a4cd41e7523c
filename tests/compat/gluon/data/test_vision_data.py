"""mx.gluon.data.vision transforms and local-file datasets against real MXNet 1.9.1
(tests/golden/compat/io/, gen_mxnet_io_metric.py)."""

import json
import pathlib
import random

import numpy as np
import pytest

import optjax.compat.mxnet as mx
from optjax.compat.mxnet.gluon.data import vision
from optjax.compat.mxnet.gluon.data.vision import transforms as T

GOLDEN = pathlib.Path(__file__).resolve().parents[3] / "golden" / "compat" / "io"
EXPECTED = json.loads((GOLDEN / "expected.json").read_text(encoding="utf-8"))["gluon_data"]
IMG = np.load(GOLDEN / "image.npz")["img"]
NIMG = mx.nd.array(IMG, dtype=np.uint8)
TR = EXPECTED["transforms"]


def test_to_tensor_normalize_compose_cast():
    np.testing.assert_allclose(T.ToTensor()(NIMG).asnumpy(), TR["to_tensor"], rtol=1e-6)
    np.testing.assert_allclose(T.ToTensor()(mx.nd.stack(NIMG, NIMG)).asnumpy(),
                               TR["to_tensor_batch"], rtol=1e-6)
    norm = T.Normalize((0.5, 0.4, 0.3), (0.2, 0.25, 0.3))(T.ToTensor()(NIMG))
    np.testing.assert_allclose(norm.asnumpy(), TR["normalize"], rtol=1e-5, atol=1e-6)
    comp = T.Compose([T.ToTensor(), T.Normalize(0.5, 0.5)])(NIMG)
    np.testing.assert_allclose(comp.asnumpy(), TR["compose"], rtol=1e-5, atol=1e-6)
    cast = T.Cast("float16")(NIMG)
    assert np.dtype(cast.dtype).name == TR["cast"][1]
    np.testing.assert_array_equal(cast.asnumpy(), TR["cast"][0])


@pytest.mark.parametrize("key,make,dtype", [
    ("resize_up_uint8", lambda: T.Resize((11, 9)), "uint8"),
    ("resize_down_uint8", lambda: T.Resize((4, 3)), "uint8"),
    ("resize_float", lambda: T.Resize((5, 7)), "float32"),
    ("resize_keep", lambda: T.Resize(3, keep_ratio=True), "float32"),
    ("resize_nearest", lambda: T.Resize((5, 9), interpolation=0), "float32"),
    ("center_crop", lambda: T.CenterCrop((4, 3)), "uint8"),
    ("center_crop_int", lambda: T.CenterCrop(5), "uint8"),
])
def test_resize_and_crop_match_opencv(key, make, dtype):
    out = make()(NIMG.astype(dtype) if dtype != "uint8" else NIMG)
    want = np.asarray(TR[key])
    assert out.shape == want.shape
    if dtype == "uint8":
        # OpenCV's fixed-point bilinear can differ by one grey level
        assert np.abs(out.asnumpy().astype(int) - want).max() <= 1
    else:
        np.testing.assert_allclose(out.asnumpy(), want, rtol=1e-4, atol=1e-3)


def test_random_transforms_are_seeded():
    random.seed(0)
    a = T.RandomResizedCrop(4)(NIMG).asnumpy()
    random.seed(0)
    b = T.RandomResizedCrop(4)(NIMG).asnumpy()
    assert a.shape == (4, 4, 3) and (a == b).all()
    mx.random.seed(1)
    flips = [T.RandomFlipLeftRight()(NIMG).asnumpy() for _ in range(6)]
    assert any((f == IMG).all() for f in flips) and any((f == IMG[:, ::-1]).all() for f in flips)


def test_mnist_from_local_files():
    want = EXPECTED["mnist"]
    ds = vision.MNIST(root=str(GOLDEN / "files"), train=True)
    assert len(ds) == want["len"]
    img, label = ds[0]
    assert list(img.shape) == want["shape"] and np.dtype(img.dtype).name == want["dtype"]
    np.testing.assert_array_equal(img.asnumpy(), want["first"][0])
    assert int(label) == want["first"][1] and int(ds[6][1]) == want["last_label"]
    ds = vision.FashionMNIST(root=str(GOLDEN / "files"),
                             transform=lambda d, l: (d.astype("float32") / 255, l))
    np.testing.assert_allclose(ds[0][0].asnumpy(), np.asarray(want["first"][0]) / 255, rtol=1e-6)


def test_cifar10_from_local_files():
    want = EXPECTED["cifar10"]
    ds = vision.CIFAR10(root=str(GOLDEN / "files" / "cifar10"), train=False)
    assert len(ds) == want["len"]
    assert list(ds[0][0].shape) == want["shape"] and np.dtype(ds[0][0].dtype).name == want["dtype"]
    np.testing.assert_array_equal(ds[0][0].asnumpy()[:2, :2], want["first_img_corner"])
    assert [int(ds[i][1]) for i in range(4)] == want["labels"]
    assert int(ds[3][0].asnumpy().astype(np.int64).sum()) == want["sum"]
    train = vision.CIFAR10(root=str(GOLDEN / "files" / "cifar10"), train=True)
    assert [int(train[i][1]) for i in range(len(train))] == want["train_labels"]
    assert int(train[4][0].asnumpy().astype(np.int64).sum()) == want["train_sum"]


def test_missing_dataset_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.gz"):
        vision.MNIST(root=str(tmp_path))
    with pytest.raises(FileNotFoundError, match="test_batch.bin"):
        vision.CIFAR10(root=str(tmp_path), train=False)


def test_bad_transform_input_is_named():
    with pytest.raises(ValueError, match="Normalize: mean has 2 values"):
        T.Normalize((0.1, 0.2), 1.0)(T.ToTensor()(NIMG))
    with pytest.raises(ValueError, match="ToTensor: expected"):
        T.ToTensor()(mx.nd.ones((3,)))
