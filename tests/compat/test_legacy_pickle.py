"""optjax.compat.mxnet.legacy_pickle against optimizer .states files written by real MXNet 1.9.1.

Files and expected contents (what MXNet's own pickle.loads returns) come from
tests/golden/compat/formats/gen_mxnet_formats.py, which also checks that real MXNet
loads what dumps_states writes and resumes training from it to the same weights.
"""

import json
import os
import pathlib
import pickle
import pickletools
import struct

import ml_dtypes
import numpy as np
import pytest

from optjax.compat.mxnet import legacy_pickle as lp
from optjax.compat.mxnet import ndarray_format
from optjax.compat.mxnet.legacy_pickle import MXNetFormatError, PickledObject

GOLDEN = pathlib.Path(__file__).resolve().parents[1] / "golden" / "compat" / "formats"
MANIFEST = json.loads((GOLDEN / "manifest.json").read_text(encoding="utf-8"))
EXPECTED = np.load(GOLDEN / "expected.npz", allow_pickle=False)
STATES_FILES = sorted(MANIFEST["states_files"])


def decode(node):
    """The manifest's JSON description of MXNet's unpickled states, as load_states returns it."""
    if isinstance(node, dict):
        if "array" in node:
            a = EXPECTED[node["array"]["key"]]
            return a.view(ml_dtypes.bfloat16) if node["array"]["dtype"] == "bfloat16" else a
        if "tuple" in node:
            return tuple(decode(x) for x in node["tuple"])
        if "list" in node:
            return [decode(x) for x in node["list"]]
        if "dict" in node:
            return {decode(k): decode(v) for k, v in node["dict"]}
        if "numpy" in node:
            return np.dtype(node["numpy"]).type(node["value"])
        module, _, name = node["object"].rpartition(".")
        return PickledObject(module, name, decode(node["attrs"]))
    return node


def assert_same(got, want, path="states"):
    assert type(got) is type(want), (path, type(got), type(want))
    if isinstance(want, np.ndarray):
        assert got.dtype == want.dtype and got.shape == want.shape, path
        assert got.tobytes() == want.tobytes(), path
    elif isinstance(want, (tuple, list)):
        assert len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, f"{path}[{i}]")
    elif isinstance(want, dict):
        assert list(got) == list(want), path
        for k in want:
            assert_same(got[k], want[k], f"{path}[{k!r}]")
    elif isinstance(want, PickledObject):
        assert (got.module, got.name) == (want.module, want.name), path
        assert_same(got.attrs, want.attrs, f"{path}.attrs")
    else:
        assert got == want or (got != got and want != want), path


def golden(name):
    return (GOLDEN / name).read_bytes()


@pytest.mark.parametrize("name", STATES_FILES)
def test_mxnet_states_load_exactly(name):
    got = lp.load_states(golden(name), source=name)
    spec = MANIFEST["states_files"][name]
    assert_same(got.states, decode(spec["states"]))
    if spec["optimizer"] is None:
        assert got.optimizer is None
    else:
        assert_same(got.optimizer, decode(spec["optimizer"]), "optimizer")


def test_state_structures_of_the_optimizers():
    mom = lp.load_states(golden("module_sgd_momentum.states"))
    assert mom.optimizer is None and sorted(mom.states) == [0, 1, 2, 3]
    assert all(isinstance(s, np.ndarray) and s.dtype == np.float32 for s in mom.states.values())

    plain = lp.load_states(golden("module_sgd.states"))
    assert plain.states == {0: None, 1: None, 2: None, 3: None}

    adam = lp.load_states(golden("trainer_adam.states"))
    assert all(isinstance(s, tuple) and len(s) == 2 for s in adam.states.values())
    opt = adam.optimizer
    assert opt.qualname == "mxnet.optimizer.optimizer.Adam" and opt.attrs["beta1"] == 0.9
    assert "param_dict" not in opt.attrs  # Optimizer.__getstate__ drops it
    sched = opt.attrs["lr_scheduler"]
    assert sched.qualname == "mxnet.lr_scheduler.FactorScheduler" and sched.attrs["factor"] == 0.5
    # MXNet's pickle shares one dict between these two attributes; so does the loaded data
    assert opt.attrs["_index_update_count"] is opt.attrs["_all_index_update_counts"][0]

    mp = lp.load_states(golden("updater_sgd_multi_precision.states"))
    for weight32, momentum in mp.states.values():
        assert weight32.dtype == np.float32 and momentum.dtype == np.float32
    assert mp.optimizer.name == "SGD" and mp.optimizer.attrs["multi_precision"] is True
    assert type(mp.optimizer.attrs["lr"]) is np.float32


@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_every_pickle_protocol_reads_the_same(protocol):
    want = lp.load_states(golden("trainer_adam.states"))
    got = lp.load_states(golden(f"trainer_adam_protocol{protocol}.states"))
    assert_same(got.states, want.states)
    assert_same(got.optimizer, want.optimizer, "optimizer")


def ndarray_payloads(data):
    """The array records inside a pickle's byte strings, in order."""
    magic = struct.pack("<I", ndarray_format.V2_MAGIC)
    args = [arg.encode("latin-1") if isinstance(arg, str) else arg  # protocols 0-2: latin-1 text
            for op, arg, _ in pickletools.genops(data) if isinstance(arg, (str, bytes, bytearray))]
    return [bytes(a) for a in args if a[:4] == magic]


def array_leaves(tree):
    if isinstance(tree, np.ndarray):
        return [tree]
    if isinstance(tree, (tuple, list)):
        return [a for x in tree for a in array_leaves(x)]
    if isinstance(tree, dict):
        return [a for x in tree.values() for a in array_leaves(x)]
    return []


@pytest.mark.parametrize("name", STATES_FILES)
def test_dumps_states_round_trip_and_array_records_are_mxnets(name):
    loaded = lp.load_states(golden(name))
    blob = lp.dumps_states(loaded.states, loaded.optimizer)
    again = lp.load_states(blob)
    assert_same(again.states, loaded.states)
    if loaded.optimizer is not None:
        assert_same(again.optimizer, loaded.optimizer, "optimizer")
        assert again.optimizer.attrs["_index_update_count"] is \
            again.optimizer.attrs["_all_index_update_counts"][0]
    # each array is pickled with the exact record MXNet's NDArray.__getstate__ writes
    theirs = ndarray_payloads(golden(name))
    assert len(theirs) == len(array_leaves(loaded.states))
    assert ndarray_payloads(blob) == theirs
    globals_ = {arg for op, arg, _ in pickletools.genops(blob) if op.name == "GLOBAL"}
    allowed = {"mxnet.ndarray.ndarray NDArray", "builtins bytearray",
               "mxnet.optimizer.optimizer Adam", "mxnet.optimizer.optimizer SGD",
               "mxnet.lr_scheduler FactorScheduler", "numpy dtype", "numpy.core.multiarray scalar"}
    assert globals_ <= allowed


def test_dumps_states_of_numpy_scalars_and_lists():
    scalars = [np.float32(0.5), np.float64(0.1), np.int64(-3), np.uint8(7), np.bool_(True),
               np.float16(1.5), 0.25, 3, True]
    states = {0: scalars, "name": "x", 2: 10**20, 3: {"nested": (None, [])}}
    got = lp.load_states(lp.dumps_states(states)).states
    assert got == states
    assert [type(x) for x in got[0]] == [type(x) for x in scalars]
    # numpy's own pickles of scalars load as the same scalars
    for x in scalars[:6]:
        for protocol in (0, 2, 4):
            back = lp.load_states(pickle.dumps({0: x}, protocol=protocol)).states[0]
            assert type(back) is type(x) and back == x


@pytest.mark.parametrize("bad, match", [
    ([1, 2], "states must be a dict"),
    ({0: object()}, "cannot write object"),
    ({0: np.zeros(2, np.int16)}, "dtype int16"),
])
def test_dumps_states_refuses_other_types(bad, match):
    with pytest.raises(TypeError, match=match):
        lp.dumps_states(bad)
    with pytest.raises(TypeError, match="optimizer must be a PickledObject"):
        lp.dumps_states({}, optimizer={"lr": 0.1})


# ------------------------------------------------------------------ hostile input

class RunsCommand:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.system, (f"touch {self.path}",)


class CallsEval:
    def __reduce__(self):
        return eval, ("1 + 1",)


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_malicious_pickle_is_refused_and_nothing_runs(tmp_path, protocol):
    marker = tmp_path / "pwned"
    for payload in [RunsCommand(marker), {0: RunsCommand(marker)},
                    ({0: None}, RunsCommand(marker))]:
        data = pickle.dumps(payload, protocol=protocol)
        with pytest.raises(MXNetFormatError,
                           match=r"evil\.states: refusing to load global (posix|nt|os)\.system"):
            lp.load_states(data, source="evil.states")
    assert not marker.exists()
    with pytest.raises(MXNetFormatError, match=r"refusing to load global (__)?builtin(s|__)\.eval"):
        lp.load_states(pickle.dumps({0: CallsEval()}, protocol=protocol))


def test_user_classes_are_refused_unless_allowed_and_then_only_read():
    blob = lp.dumps_states({0: None}, PickledObject("__main__", "MyOptimizer", {"lr": 0.1}))
    with pytest.raises(MXNetFormatError, match=r"global __main__\.MyOptimizer.*allowed_classes"):
        lp.load_states(blob)
    got = lp.load_states(blob, allowed_classes=["__main__.MyOptimizer"])
    assert got.optimizer == PickledObject("__main__", "MyOptimizer", {"lr": 0.1})


HANDLE = b"}X\x06\x00\x00\x00handle"


@pytest.mark.parametrize("data, match", [
    # bytearray(2**30): a huge allocation, refused before it happens
    (b"\x80\x02cbuiltins\nbytearray\nJ\x00\x00\x00\x40\x85R.", "bytearray called with"),
    # a memo index of 2**32 - 1 would make the C unpickler allocate 64 GiB of memo
    (b"\x80\x02]r\xff\xff\xff\xff.", "memo index 4294967295 at offset 3 is out of range"),
    (b"\x80\x02X\x01\x00\x00\x00aQ.", "opcode BINPERSID"),
    (b"\x80\x02\x82\x01.", "opcode EXT1"),
    (b"\x80\x02cmxnet.optimizer.optimizer\nSGD\nK\x01\x85R.", "SGD pickled with constructor"),
    (b"\x80\x03cmxnet.ndarray.ndarray\nNDArray\nN\x85R" + HANDLE + b"Ns" + b"b}.",
     "NDArray's pickled state is not"),
    (b"\x80\x03cmxnet.ndarray.ndarray\nNDArray\nN\x85R.", "an NDArray without data"),
    (b"\x80\x03]q\x00(K\x01K\x02e.", "holds list, expected a dict"),
    (b"\x80\x03}K\x05\x86.", "second item of \\(states, optimizer\\) is int"),
    (b"\x80\x03cbuiltins\nset\n](]e\x85R.", "TypeError: unhashable"),
    (b"\x80\x03cnumpy\ndtype\nX\x02\x00\x00\x00O8\x89\x88\x87R.", "not a plain number type"),
    (b"\x80\x03cnumpy\ndtype\nX\x02\x00\x00\x00f4\x89\x88\x87R(K\x03X\x01\x00\x00\x00<"
     b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x01tb.", "not a plain number type's"),
    (b"\x80\x03cnumpy.core.multiarray\nscalar\nK\x01K\x02\x86R.", "numpy scalar pickled"),
    (b"\x80\x03}", "not a valid MXNet .states pickle"),
    (b"", "not a valid MXNet .states pickle"),
], ids=["bytearray_bomb", "memo_bomb", "persistent_id", "extension", "stub_args",
        "ndarray_no_handle", "ndarray_no_state", "not_a_dict", "bad_pair", "unhashable",
        "object_dtype", "dtype_flags", "scalar_args", "truncated", "empty"])
def test_crafted_pickles_raise_clear_errors(data, match):
    with pytest.raises(MXNetFormatError, match=match):
        lp.load_states(data)


def test_sparse_and_corrupt_ndarray_payloads_are_refused():
    record = golden("sparse_row_sparse.nd")[24:-8]  # the file's one array record
    data = (b"\x80\x03cmxnet.ndarray.sparse\nRowSparseNDArray\nN\x85R" + HANDLE + b"B"
            + struct.pack("<I", len(record)) + record + b"sb}.")
    with pytest.raises(MXNetFormatError, match="row_sparse storage, which is not supported"):
        lp.load_states(data, source="x.states")
    blob = bytearray(lp.dumps_states({0: np.ones(3, np.float32)}))
    blob[blob.index(struct.pack("<I", ndarray_format.V2_MAGIC)) + 12] = 9  # ndim 9: too short
    with pytest.raises(MXNetFormatError, match="x.states: an NDArray in it is malformed: "
                                               "NDArray record: truncated"):
        lp.load_states(bytes(blob), source="x.states")


@pytest.mark.parametrize("name", ["module_sgd_momentum.states", "trainer_adam.states",
                                  "trainer_adam_protocol0.states"])
def test_every_truncation_raises(name):
    raw = golden(name)
    for n in range(len(raw)):
        with pytest.raises(MXNetFormatError):
            lp.load_states(raw[:n])


@pytest.mark.parametrize("name", ["module_sgd_momentum.states", "trainer_adam.states",
                                  "updater_sgd_multi_precision.states"])
def test_flipped_bytes_raise_or_load(name):
    raw = golden(name)
    for pos in range(len(raw)):
        for mask in (0xFF, 0x01, 0x20):
            buf = bytearray(raw)
            buf[pos] ^= mask
            try:
                got = lp.load_states(bytes(buf))
            except MXNetFormatError:
                continue
            assert isinstance(got.states, dict)
            for a in array_leaves(got.states):
                assert a.nbytes <= len(raw)
