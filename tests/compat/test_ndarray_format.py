"""optjax.compat.mxnet.ndarray_format against files written by real MXNet 1.9.1.

The files, their expected contents (what MXNet itself loads) and the generator are in
tests/golden/compat/formats/ (gen_mxnet_formats.py, run in an MXNet venv, also checks
that MXNet loads what this module writes).
"""

import json
import pathlib
import struct

import ml_dtypes
import numpy as np
import pytest

from optjax.compat.mxnet import ndarray_format as fmt
from optjax.compat.mxnet.base import MXNetError
from optjax.compat.mxnet.ndarray_format import MXNetFormatError

GOLDEN = pathlib.Path(__file__).resolve().parents[1] / "golden" / "compat" / "formats"
MANIFEST = json.loads((GOLDEN / "manifest.json").read_text(encoding="utf-8"))
EXPECTED = np.load(GOLDEN / "expected.npz", allow_pickle=False)
NDARRAY_FILES = sorted(MANIFEST["ndarray_files"])


def expected_array(entry):
    a = EXPECTED[entry["key"]]
    return a.view(ml_dtypes.bfloat16) if entry["dtype"] == "bfloat16" else a


def expected_data(name):
    spec = MANIFEST["ndarray_files"][name]
    if spec["kind"] == "dict":
        return {e["name"]: expected_array(e) for e in spec["entries"]}
    return [expected_array(e) for e in spec["entries"]]


def assert_same_arrays(got, want):
    """Same container, names in order, dtypes, shapes and bytes (NaN payloads, -0.0 too)."""
    assert type(got) is type(want)
    if isinstance(want, dict):
        assert list(got) == list(want)
        got, want = list(got.values()), list(want.values())
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert isinstance(g, np.ndarray)
        assert g.dtype == w.dtype and g.shape == w.shape
        assert g.tobytes() == w.tobytes()


@pytest.mark.parametrize("name", NDARRAY_FILES)
def test_mxnet_written_file_loads_exactly(name):
    got = fmt.load(GOLDEN / name)
    assert_same_arrays(got, expected_data(name))
    for a in got.values() if isinstance(got, dict) else got:
        assert a.flags.writeable  # the shim may update loaded arrays in place


def test_every_mxnet_dtype_is_covered():
    dtypes = {e["dtype"] for e in MANIFEST["ndarray_files"]["dtypes.params"]["entries"]}
    assert dtypes == set(fmt.DTYPE_FLAGS.values())
    names = [e["name"] for e in MANIFEST["ndarray_files"]["dtypes.params"]["entries"]]
    assert "ünïcødé/权重" in names and "" in names


@pytest.mark.parametrize("name", [n for n in NDARRAY_FILES
                                  if MANIFEST["ndarray_files"][n]["dumps_identical"]])
def test_dumps_writes_mxnets_bytes(name, tmp_path):
    np_shape = MANIFEST["ndarray_files"][name]["np_shape"]
    want = (GOLDEN / name).read_bytes()
    assert fmt.dumps(expected_data(name), np_shape=np_shape) == want
    fmt.save(tmp_path / name, expected_data(name), np_shape=np_shape)
    assert (tmp_path / name).read_bytes() == want


def test_loads_matches_load():
    raw = (GOLDEN / "dtypes.params").read_bytes()
    assert_same_arrays(fmt.loads(raw), fmt.load(GOLDEN / "dtypes.params"))
    assert_same_arrays(fmt.loads(bytearray(raw)), fmt.load(GOLDEN / "dtypes.params"))


def test_single_array_and_empty_list():
    a = np.arange(4, dtype=np.float32)
    assert fmt.dumps(a) == fmt.dumps([a])  # as mx.nd.save: a bare array is a list of one
    assert fmt.load(GOLDEN / "single.nd")[0].shape == (2, 2)
    assert fmt.load(GOLDEN / "empty.nd") == []
    assert fmt.loads(fmt.dumps({})) == []  # MXNet: no names -> a list


def test_zero_d_arrays():
    # MXNet 1.9.1 writes a legacy-mode 0-d array it cannot read back; it loads here
    got = fmt.load(GOLDEN / "zero_d_legacy.nd")
    assert got["scalar"].shape == () and got["scalar"] == 3.0
    assert got["after"].tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="'s' is 0-d.*np_shape=True"):
        fmt.dumps({"s": np.float32(1.0)})
    np_shape = fmt.load(GOLDEN / "np_shape.nd")
    assert np_shape["scalar"].shape == () and np_shape["empty_2d"].shape == (0, 3)
    buf = fmt.dumps({"s": np.float32(1.5)}, np_shape=True)
    assert fmt.loads(buf)["s"].shape == () and fmt.loads(buf)["s"] == 1.5


class FakeNDArray:
    def __init__(self, a):
        self.a = a

    def asnumpy(self):
        return self.a


def test_round_trip_of_inputs_mxnet_cannot_make(tmp_path):
    import jax.numpy as jnp

    data = {
        "zero_size": np.zeros((0, 3), np.float32),
        "strided": np.arange(12, dtype=np.int64).reshape(3, 4)[:, ::2],
        "big_endian": np.arange(5, dtype=">f8"),
        "bool": np.array([True, False, True]),
        "bfloat16": np.array([1.5, -2.25, np.inf], ml_dtypes.bfloat16),
        "mxnet_bfloat16": np.array([0x3FC0], np.uint16).view([("bfloat16", "<u2")]),
        "asnumpy": FakeNDArray(np.ones((2, 2), np.float16)),
        "jax": jnp.arange(3, dtype=jnp.int32),
    }
    fmt.save(tmp_path / "x.params", data)
    got = fmt.load(tmp_path / "x.params")
    assert list(got) == list(data)
    for k in ["zero_size", "strided", "bool", "bfloat16"]:
        assert got[k].dtype == data[k].dtype and np.array_equal(got[k], data[k])
    assert got["big_endian"].dtype == np.float64 and got["big_endian"].tolist() == [0, 1, 2, 3, 4]
    assert got["mxnet_bfloat16"].dtype == ml_dtypes.bfloat16 and got["mxnet_bfloat16"][0] == 1.5
    assert got["asnumpy"].dtype == np.float16 and got["jax"].tolist() == [0, 1, 2]


@pytest.mark.parametrize("bad, error, match", [
    ({"w": np.zeros(2, np.int16)}, TypeError, "'w' has dtype int16"),
    ([np.zeros(2, np.uint64)], TypeError, "array 0 has dtype uint64"),
    ({"w": np.array(["a"])}, TypeError, "dtype <U1"),
    ({1: np.zeros(2, np.float32)}, TypeError, "names must be str"),
    ({"w": np.float32(2.0)}, ValueError, "0-d"),
    ((np.zeros(2), np.ones(2)), TypeError, "data must be an array, a list of arrays or a dict"),
    ([[1.0, 2.0]], TypeError, "array 0 is a list, expected an array"),
    ({"w": 3.0}, TypeError, "array 'w' is a float"),
])
def test_save_refuses_what_mxnet_cannot_hold(bad, error, match, tmp_path):
    with pytest.raises(error, match=match):
        fmt.save(tmp_path / "bad.params", bad)
    assert not (tmp_path / "bad.params").exists()


@pytest.mark.parametrize("name, match", sorted(MANIFEST["refused_files"].items()))
def test_sparse_files_are_refused(name, match):
    with pytest.raises(MXNetFormatError, match=f"{name}.*{match}.*not supported"):
        fmt.load(GOLDEN / name)


# ------------------------------------------------------------------ corrupted input

HEADER = struct.pack("<QQ", 0x112, 0)


def record(*, magic=0xF993FAC9, stype=0, shape=(2,), flag=0, data=b"\0" * 8):
    return (struct.pack(f"<Iii{len(shape)}q", magic, stype, len(shape), *shape)
            + struct.pack("<iii", 1, 0, flag) + data)


def file_of(*records, names=None):
    out = HEADER + struct.pack("<Q", len(records)) + b"".join(records)
    names = names or []
    out += struct.pack("<Q", len(names))
    for n in names:
        out += struct.pack("<Q", len(n)) + n
    return out


@pytest.mark.parametrize("buf, match", [
    (b"", "truncated: header magic needs 8 bytes at offset 0, only 0 left"),
    (b"PK\x03\x04" + b"\0" * 40, "not an MXNet NDArray file: header magic 0x4034B50"),
    (file_of(record())[:-3], "truncated: name count"),
    (file_of(record(flag=8)), "unknown type flag 8"),
    (file_of(record(flag=-1)), "unknown type flag -1"),
    (file_of(record(stype=1)), "array 0 has row_sparse storage, which is not supported"),
    (file_of(record(stype=7)), "unknown storage type 7"),
    (file_of(record(shape=(2, -1))), "negative dimension in shape"),
    (file_of(record(shape=(2**40, 2**40))), r"array 0 data \(float32\[1099511627776, "),
    (HEADER + struct.pack("<Q", 2**63) + record(), "truncated: array 1 magic"),
    (file_of(record(magic=0xF994_0AC9)), r"has ndim 4187228873 \(expected 0\.\.32"),
    (file_of(record(magic=0xF993FAC8)), "empty \\(none\\) NDArray"),  # V1: ndim field = stype 0
    (file_of(record(), names=[b"a", b"b"]), "2 names for 1 arrays"),
    (file_of(record(), record(), names=[b"a", b"a"]), "name 'a' appears twice"),
    (file_of(record(), names=[b"\xff"]), "name 0 is not UTF-8"),
    (file_of(record()) + b"\0", "1 unexpected bytes after the last record"),
    (HEADER + struct.pack("<QQ", 0, 2**64 - 1), "18446744073709551615 names for 0 arrays"),
    (file_of(record())[:-8] + struct.pack("<QQ", 1, 2**62) + b"a",
     "truncated: name 0 needs 4611686018427387904 bytes"),
], ids=["empty", "zip_file", "truncated_names", "flag_int16", "flag_negative", "row_sparse",
        "stype_unknown", "negative_dim", "huge_shape", "huge_count", "bad_magic", "v1_none",
        "name_count", "duplicate_names", "non_utf8_name", "trailing_bytes", "huge_name_count",
        "huge_name_length"])
def test_malformed_buffers_raise_clear_errors(buf, match):
    with pytest.raises(MXNetFormatError, match=match):
        fmt.loads(buf)


def test_errors_name_the_file(tmp_path):
    path = tmp_path / "broken.params"
    path.write_bytes((GOLDEN / "gluon.params").read_bytes()[:100])
    with pytest.raises(MXNetFormatError, match=r"MXNet NDArray file '.*broken\.params': truncated"):
        fmt.load(path)
    assert issubclass(MXNetFormatError, ValueError)
    assert issubclass(MXNetFormatError, MXNetError)  # what scripts catch around mx.nd.load


@pytest.mark.parametrize("name", ["dtypes.params", "np_shape.nd", "legacy_v0.nd", "list.nd"])
def test_every_truncation_raises(name):
    raw = (GOLDEN / name).read_bytes()
    for n in range(len(raw)):
        with pytest.raises(MXNetFormatError):
            fmt.loads(raw[:n])


@pytest.mark.parametrize("name", ["dtypes.params", "checkpoint-0003.params", "legacy_v1.nd"])
def test_flipped_bytes_raise_or_load(name):
    raw = (GOLDEN / name).read_bytes()
    want = fmt.loads(raw)
    rng = np.random.default_rng(0)
    for pos in range(len(raw)):
        for mask in (0xFF, 0x01, 0x80, int(rng.integers(1, 256))):
            buf = bytearray(raw)
            buf[pos] ^= mask
            try:
                got = fmt.loads(bytes(buf))
            except MXNetFormatError:
                continue
            # a flip that still parses: same container and names, arrays of sane size
            assert type(got) is type(want) and len(got) == len(want)
            for a in got.values() if isinstance(got, dict) else got:
                assert isinstance(a, np.ndarray) and a.nbytes <= len(raw)


def test_loads_array_reads_one_record():
    a = np.arange(6, dtype=np.float64).reshape(3, 2)
    rec = fmt.dumps_array(a)
    assert fmt.dumps([a]) == HEADER + struct.pack("<Q", 1) + rec + struct.pack("<Q", 0)
    assert np.array_equal(fmt.loads_array(rec), a)
    with pytest.raises(MXNetFormatError, match="NDArray record: 1 unexpected bytes"):
        fmt.loads_array(rec + b"\0")
    with pytest.raises(MXNetFormatError, match="NDArray record: truncated: array data"):
        fmt.loads_array(rec[:-1])
