"""Parameter files in MXNet's binary format: files written by real MXNet 1.9.1 load here and
files written here are byte-identical to MXNet's; names follow MXNet (structural for
``save_parameters``, prefixed for ``collect_params().save``); bad files change nothing."""

import os
import sys

import numpy as np
import pytest

import optjax.compat.mxnet as mx

HERE = os.path.join(os.path.dirname(__file__), "..", "..", "golden", "compat", "gluon")
sys.path.insert(0, HERE)
import cases  # noqa: E402

GOLDEN = np.load(os.path.join(HERE, "mxnet_gluon.npz"))
FINAL = {k[len("loop/lenet_bn/final/"):]: GOLDEN[k] for k in GOLDEN.files
         if k.startswith("loop/lenet_bn/final/")}
MX_FILE = os.path.join(HERE, "lenet_bn.params")
MX_PREFIXED = os.path.join(HERE, "lenet_bn_prefixed.params")


def _lenet(prefix=None):
    net = cases.lenet_bn(mx) if prefix is None else _lenet_with_prefix(prefix)
    net.initialize()
    with mx.autograd.pause():
        net(mx.nd.zeros((1, 1, 12, 12)))
    return net


def _lenet_with_prefix(prefix):
    nn = mx.gluon.nn
    net = nn.HybridSequential(prefix=prefix)
    with net.name_scope():
        net.add(nn.Conv2D(channels=6, kernel_size=3), nn.BatchNorm(), nn.Activation("relu"),
                nn.MaxPool2D(pool_size=2, strides=2),
                nn.Conv2D(channels=8, kernel_size=3), nn.BatchNorm(), nn.Activation("sigmoid"),
                nn.AvgPool2D(pool_size=2, strides=2),
                nn.Dense(24), nn.BatchNorm(), nn.Activation("relu"), nn.Dense(10))
    return net


def _values(net):
    return {k: p.data().asnumpy() for k, p in cases.structural_params(net).items()}


def test_load_parameters_written_by_mxnet():
    net = _lenet()
    net.load_parameters(MX_FILE)
    for k, v in _values(net).items():
        np.testing.assert_array_equal(v, FINAL[k], err_msg=k)


def test_save_parameters_is_byte_identical_to_mxnet(tmp_path):
    net = _lenet()
    cases.set_params(mx, net, FINAL)
    net.save_parameters(str(tmp_path / "net.params"))
    assert (tmp_path / "net.params").read_bytes() == open(MX_FILE, "rb").read()
    assert sorted(mx.nd.load(str(tmp_path / "net.params"))) == sorted(FINAL)


def test_prefixed_names_from_collect_params_save(tmp_path):
    prefix = str(GOLDEN["params/lenet_bn/prefix"])
    net = _lenet(prefix)
    names = sorted(mx.nd.load(MX_PREFIXED))
    assert names == sorted(net.collect_params().keys())
    net.collect_params().load(MX_PREFIXED)
    for k, v in _values(net).items():
        np.testing.assert_array_equal(v, FINAL[k], err_msg=k)
    net.collect_params().save(str(tmp_path / "p.params"))
    assert (tmp_path / "p.params").read_bytes() == open(MX_PREFIXED, "rb").read()
    # load_parameters reads the legacy layout of save_params (names without the prefix)
    net.save_params(str(tmp_path / "legacy.params"))
    assert all(not k.startswith(prefix) for k in mx.nd.load(str(tmp_path / "legacy.params")))
    other = _lenet(prefix)
    other.load_parameters(str(tmp_path / "legacy.params"))
    for k, v in _values(other).items():
        np.testing.assert_array_equal(v, FINAL[k], err_msg=k)


def test_load_parameters_into_deferred_net_completes_shapes():
    net = cases.lenet_bn(mx)
    net.initialize()
    net.load_parameters(MX_FILE)
    assert net[0].weight.shape == FINAL["0.weight"].shape
    np.testing.assert_array_equal(net[8].weight.data().asnumpy(), FINAL["8.weight"])


def _unchanged(net, before):
    for k, v in _values(net).items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)


def test_missing_extra_and_mismatched_names_change_nothing(tmp_path):
    net = _lenet()
    before = _values(net)
    small = mx.gluon.nn.HybridSequential()
    small.add(mx.gluon.nn.Dense(3, in_units=2))
    small.initialize()
    small.save_parameters(str(tmp_path / "small.params"))
    with pytest.raises(AssertionError, match=r"Parameter '1.gamma' is missing"):
        net.load_parameters(str(tmp_path / "small.params"))
    _unchanged(net, before)
    with pytest.raises(AssertionError, match=r"conv0_weight' from saved params: shape incompatible expected "
                                             r"\(6, 1, 3, 3\) vs saved \(3, 2\)"):
        net.load_parameters(str(tmp_path / "small.params"), allow_missing=True)
    _unchanged(net, before)
    conv = mx.gluon.nn.HybridSequential()
    conv.add(mx.gluon.nn.Conv2D(6, 3, in_channels=1))
    conv.initialize()
    conv_before = _values(conv)
    with pytest.raises(ValueError, match=r"Parameter '1.gamma' loaded from file .* is not "
                                         r"present in ParameterDict"):
        conv.load_parameters(MX_FILE)
    _unchanged(conv, conv_before)
    conv.load_parameters(MX_FILE, ignore_extra=True)
    np.testing.assert_array_equal(conv[0].weight.data().asnumpy(), FINAL["0.weight"])


def test_truncated_or_corrupted_file_is_an_error_and_changes_nothing(tmp_path):
    net = _lenet()
    before = _values(net)
    data = open(MX_FILE, "rb").read()
    for bad in (data[: len(data) // 2], data[:10], b"\x00" * 64, data[:-3]):
        path = tmp_path / "bad.params"
        path.write_bytes(bad)
        with pytest.raises(mx.base.MXNetError):
            net.load_parameters(str(path))
        _unchanged(net, before)
