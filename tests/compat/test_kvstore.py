"""mx.kv against real MXNet 1.9.1's local and device stores
(tests/golden/compat/io/, gen_mxnet_io_metric.py)."""

import json
import pathlib

import numpy as np
import pytest

import optjax.compat.mxnet as mx
from optjax.compat.mxnet.base import MXNetError

GOLDEN = pathlib.Path(__file__).resolve().parents[1] / "golden" / "compat" / "io"
EXPECTED = json.loads((GOLDEN / "expected.json").read_text(encoding="utf-8"))["kv"]


def test_local_sums_pushes_and_applies_the_optimizer():
    kv = mx.kv.create("local")
    assert [kv.type, kv.rank, kv.num_workers] == EXPECTED["local"]
    kv.init(3, mx.nd.ones((2, 2)))
    kv.push(3, [mx.nd.ones((2, 2)) * 2, mx.nd.ones((2, 2)) * 3])
    a, b = mx.nd.zeros((2, 2)), mx.nd.zeros((2, 2))
    kv.pull(3, out=[a, b])
    np.testing.assert_array_equal([a.asnumpy(), b.asnumpy()], EXPECTED["sum"])
    kv.init(4, mx.nd.ones((2,)))
    kv.set_optimizer(mx.optimizer.SGD(learning_rate=0.1, momentum=0.9))
    outs = []
    for _ in range(3):
        kv.push(4, [mx.nd.ones((2,)), mx.nd.ones((2,)) * 0.5])
        o = mx.nd.zeros((2,))
        kv.pull(4, out=o)
        outs.append(o.asnumpy())
    o = mx.nd.zeros((2,))
    kv.pushpull(4, mx.nd.ones((2,)), out=o)
    outs.append(o.asnumpy())
    np.testing.assert_allclose(outs, EXPECTED["sgd_momentum"], rtol=1e-6)


def test_device_store_with_string_keys():
    kv = mx.kvstore.create("device")
    kv.init(["w", "v"], [mx.nd.ones(2), mx.nd.ones(2) * 2])
    kv.push(["w", "v"], [[mx.nd.ones(2), mx.nd.ones(2)], [mx.nd.ones(2) * 4]])
    o1, o2 = mx.nd.zeros(2), mx.nd.zeros(2)
    kv.pull(["w", "v"], out=[o1, o2])
    assert [kv.type, o1.asnumpy().tolist(), o2.asnumpy().tolist()] == EXPECTED["device_str_keys"]


def test_errors_as_mxnet_raises_them():
    kv = mx.kv.create()
    kv.init("w", mx.nd.ones(2))
    with pytest.raises(MXNetError, match="duplicate init of key 'w'"):
        kv.init("w", mx.nd.ones(2))
    with pytest.raises(MXNetError, match="key 'z' doesn't exist"):
        kv.pull("z", out=mx.nd.zeros(2))
    with pytest.raises(MXNetError, match="mixed key types"):
        kv.init(1, mx.nd.ones(2))
    with pytest.raises(MXNetError, match="not supported"):
        mx.kv.create("dist_sync")
    with pytest.raises(ValueError, match="unknown type 'lokal'"):
        mx.kv.create("lokal")
