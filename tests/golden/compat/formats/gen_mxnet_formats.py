"""Golden files of MXNet 1.9.1's NDArray file format and optimizer ``.states`` pickles.

Regenerate from the repository root, with a virtual environment holding the real
MXNet 1.9.1 (numpy<1.24, no jax) made by ``tools/mxnet-venv.sh``::

    tools/mxnet-venv.sh ../mxvenv
    ../mxvenv/bin/python tests/golden/compat/formats/gen_mxnet_formats.py

Real MXNet writes, next to this script:

- ``*.nd``/``*.params``: ``mx.nd.save`` of every dtype MXNet saves (bfloat16 too),
  lists, dicts, a single array, an empty list, unicode and empty names, arrays
  saved under np-shape semantics (0-d, zero-size), a legacy-mode 0-d array
  (which MXNet writes but cannot read back), ``save_parameters``,
  ``save_checkpoint``, and sparse arrays (which optjax refuses); plus records
  crafted in the V0 and V1 layouts and on a GPU context, which MXNet loads;
- ``*.states``: optimizer states from ``Module.save_optimizer_states`` (SGD with
  momentum, plain SGD: ``None`` states), ``Trainer.save_states`` (Adam with a
  FactorScheduler, states plus the pickled optimizer; the same pickled with
  protocols 0, 2 and 5), and ``Updater.get_states(dump_optimizer=True)`` of
  multi-precision SGD on float16 weights (``(weight32, momentum)`` states, a
  numpy-scalar learning rate);
- ``expected.npz`` and ``manifest.json``: what MXNet itself loads from each file
  (names, dtypes, values; the structure of each ``.states`` file with its
  arrays in the npz), and the files optjax must refuse.

It then checks the other direction with optjax's own modules (imported from this
checkout without jax): ``ndarray_format.dumps`` of the expected data is byte for
byte each MXNet file; data only optjax writes (zero-size, strided, big-endian
arrays) loads in MXNet; and for each ``.states`` file, ``dumps_states`` of what
``load_states`` read loads in MXNet's ``pickle.loads`` to the same states and
optimizer, and ``Module.load_optimizer_states``/``Trainer.load_states``/
``Updater.set_states`` from it resume training to the same weights as from
MXNet's own file.
"""

import json
import os
import pathlib
import pickle
import struct
import sys
import tempfile
import types

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[3]
BF16 = np.dtype([("bfloat16", np.uint16)])  # MXNet's numpy stand-in for bfloat16
# Files whose bytes optjax's dumps does not reproduce: a legacy 0-d array (refused: MXNet
# cannot read it back) and records in older layouts or another context (optjax writes V2 on
# cpu(0), as MXNet 1.9.1 saves CPU arrays).
NOT_AS_OPTJAX_WRITES = {"zero_d_legacy.nd", "legacy_v0.nd", "legacy_v1.nd", "context_gpu.nd"}


def optjax_formats():
    """optjax.compat.mxnet's ndarray_format and legacy_pickle, without the packages' jax imports."""
    for pkg in ("optjax", "optjax.compat", "optjax.compat.mxnet"):
        if pkg not in sys.modules:
            mod = types.ModuleType(pkg)
            mod.__path__ = [str(ROOT.joinpath(*pkg.split(".")))]
            sys.modules[pkg] = mod
    from optjax.compat.mxnet import legacy_pickle, ndarray_format
    return ndarray_format, legacy_pickle


# ---------------------------------------------------------------- NDArray files

def dtype_arrays():
    """name -> numpy array (bfloat16 as MXNet's structured uint16 dtype), deterministic."""
    rs = np.random.RandomState(0)
    special = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1.0, -1.5]
    out = {}
    for dt, shape in [("float32", (2, 3)), ("float64", (4,)), ("float16", (1, 2, 3))]:
        out[dt] = rs.standard_normal(shape).astype(dt)
        info = np.finfo(dt)
        extra = [info.max, info.min, info.tiny, info.tiny * info.eps]  # incl. a subnormal
        out[dt + "_special"] = np.array(special + extra, dtype=dt)
    for dt, shape in [("uint8", (2, 1, 2, 2)), ("int8", (5,)), ("int32", (3, 2)),
                      ("int64", (2, 2))]:
        info = np.iinfo(dt)
        a = rs.randint(info.min, info.max, size=shape, dtype=dt)
        a.flat[0], a.flat[1] = info.min, info.max
        out[dt] = a
    out["int64"].flat[2] = 2**53 + 1  # not a float64
    out["bool"] = rs.rand(2, 3) > 0.5
    f32 = np.concatenate([rs.standard_normal(5).astype(np.float32),
                          np.array([np.inf, -np.inf, -0.0, 3e38], np.float32)])
    out["bfloat16"] = ((f32.view(np.uint32) >> 16).astype(np.uint16)).view(BF16)
    out["ünïcødé/权重"] = np.arange(3, dtype=np.float32)
    out["arg:fc_weight"] = np.ones((1, 1), np.float32)
    out[""] = np.zeros(1, np.float32)  # an empty name
    return out


def to_mx(a):
    if a.dtype == BF16:
        f32 = (a.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
        return mx.nd.array(f32, dtype=np.float32).astype(BF16)
    return mx.nd.array(a, dtype=a.dtype)


def to_np(nd):
    a = nd.asnumpy()
    return a.view(BF16) if nd.dtype == BF16 else a


def ndarray_files(tmp):
    """file name -> (data as saved, np_shape flag); each file is written by MXNet."""
    dts = dtype_arrays()
    rs = np.random.RandomState(1)
    files = {
        "dtypes.params": ({k: v for k, v in dts.items()}, False),
        "list.nd": ([rs.standard_normal(3).astype(np.float32), np.arange(4).reshape(2, 2),
                     np.full((1, 1, 1, 1), 0.5, np.float16)], False),
        "single.nd": ([rs.standard_normal((2, 2))], False),
        "empty.nd": ([], False),
        "np_shape.nd": ({"scalar": np.array(2.5, np.float32), "empty": np.zeros(0, np.float32),
                         "empty_2d": np.zeros((0, 3), np.int32),
                         "matrix": rs.standard_normal((2, 3))}, True),
    }
    for name, (data, np_shape) in files.items():
        path = str(HERE / name)
        with mx.util.np_shape(np_shape):
            if name == "single.nd":
                mx.nd.save(path, to_mx(data[0]))  # a bare NDArray: saved as a list of one
            elif isinstance(data, dict):
                mx.nd.save(path, {k: to_mx(v) for k, v in data.items()})
            else:
                mx.nd.save(path, [to_mx(v) for v in data])
            loaded = mx.nd.load(path)
        if isinstance(data, dict):
            assert list(loaded) == list(data), name
            got = list(loaded.values())
        else:
            got = loaded
        for want, nd in zip(data.values() if isinstance(data, dict) else data, got):
            have = to_np(nd)
            assert have.dtype == want.dtype and have.shape == want.shape, (name, have, want)
            assert have.tobytes() == want.tobytes(), name

    # A 0-d array in legacy mode: MXNet writes ndim 0 plus the data, then reads ndim 0
    # as an empty array and misparses the rest, so it cannot load this file.
    data = {"scalar": np.array(3.0, np.float32), "after": np.ones(2, np.float32)}
    mx.nd.save(str(HERE / "zero_d_legacy.nd"), {k: mx.nd.array(v) for k, v in data.items()})
    try:
        mx.nd.load(str(HERE / "zero_d_legacy.nd"))
        raise AssertionError("MXNet learned to load a legacy 0-d array: revisit ndarray_format")
    except mx.base.MXNetError:
        pass
    files["zero_d_legacy.nd"] = (data, False)

    # Records as older MXNet versions or GPU arrays have them: V0 (no magic, uint32 dims),
    # V1 (int64 dims, no storage type), and a V2 record on gpu(1). Crafted here; MXNet
    # 1.9.1 loads them (on the CPU), and what it loads is the expected data.
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    records = {"legacy_v0.nd": struct.pack("<IIIiiI", 2, 2, 3, 1, 0, 0),
               "legacy_v1.nd": struct.pack("<IiqqiiI", 0xF993FAC8, 2, 2, 3, 1, 0, 0),
               "context_gpu.nd": struct.pack("<IiiqqiiI", 0xF993FAC9, 0, 2, 2, 3, 2, 1, 0)}
    for name, head in records.items():
        (HERE / name).write_bytes(struct.pack("<QQQ", 0x112, 0, 1) + head + data.tobytes()
                                  + struct.pack("<Q", 0))
        got = mx.nd.load(str(HERE / name))
        assert len(got) == 1 and got[0].asnumpy().tobytes() == data.tobytes(), name
        files[name] = ([got[0].asnumpy()], False)

    # save_parameters (structural names) and save_checkpoint ('arg:'/'aux:' prefixes)
    net, _ = small_net()
    net.save_parameters(str(HERE / "gluon.params"))
    loaded = mx.nd.load(str(HERE / "gluon.params"))
    files["gluon.params"] = ({k: to_np(v) for k, v in loaded.items()}, False)
    mod = small_module(mx.optimizer.SGD(learning_rate=0.1))
    prefix = os.path.join(tmp, "checkpoint")
    arg, aux = mod.get_params()
    mx.model.save_checkpoint(prefix, 3, mod.symbol, arg, aux)
    os.replace(prefix + "-0003.params", HERE / "checkpoint-0003.params")
    files["checkpoint-0003.params"] = (
        {k: to_np(v) for k, v in mx.nd.load(str(HERE / "checkpoint-0003.params")).items()}, False)
    assert set(files["checkpoint-0003.params"][0]) == {"arg:fc_weight", "arg:fc_bias",
                                                       "arg:bn_gamma", "arg:bn_beta",
                                                       "aux:bn_moving_mean", "aux:bn_moving_var"}
    return files


def sparse_files():
    rsp = mx.nd.sparse.row_sparse_array((np.ones((1, 2)), [1]), shape=(3, 2))
    mx.nd.save(str(HERE / "sparse_row_sparse.nd"), [rsp])
    mx.nd.save(str(HERE / "sparse_csr.nd"), {"m": mx.nd.sparse.csr_matrix(np.eye(2))})
    return {"sparse_row_sparse.nd": "row_sparse storage", "sparse_csr.nd": "csr storage"}


# ---------------------------------------------------------------- .states files

def small_net(dtype="float32"):
    net = gluon.nn.HybridSequential()
    net.add(gluon.nn.Dense(3, in_units=4), gluon.nn.BatchNorm(in_channels=3))
    net.initialize()
    rs = np.random.RandomState(2)
    for p in net.collect_params().values():
        p.set_data(mx.nd.array(rs.uniform(0.5, 1.5, p.shape)))
    if dtype != "float32":
        net.cast(dtype)
    return net, rs


def trainer_steps(net, trainer, steps, dtype="float32", seed=3):
    rs = np.random.RandomState(seed)
    for _ in range(steps):
        x = mx.nd.array(rs.standard_normal((5, 4)), dtype=dtype)
        with autograd.record():
            loss = (net(x) ** 2).sum()
        loss.backward()
        trainer.step(5)


def small_module(optimizer):
    data = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data, num_hidden=3, name="fc")
    net = mx.sym.BatchNorm(net, name="bn")
    net = mx.sym.SoftmaxOutput(net, name="softmax")
    mod = mx.mod.Module(net)
    mod.bind(data_shapes=[("data", (5, 4))], label_shapes=[("softmax_label", (5,))])
    rs = np.random.RandomState(4)
    arg = {k: mx.nd.array(rs.uniform(-1, 1, s)) for k, s in
           zip(net.list_arguments(), net.infer_shape(data=(5, 4))[0]) if k in ("fc_weight",
                                                                              "fc_bias",
                                                                              "bn_gamma",
                                                                              "bn_beta")}
    mod.init_params(arg_params=arg, allow_missing=True)
    mod.init_optimizer(optimizer=optimizer)
    return mod


def module_steps(mod, steps, seed=5):
    rs = np.random.RandomState(seed)
    for _ in range(steps):
        batch = mx.io.DataBatch([mx.nd.array(rs.standard_normal((5, 4)))],
                                [mx.nd.array(rs.randint(0, 3, 5))])
        mod.forward(batch, is_train=True)
        mod.backward()
        mod.update()


def module_case(optimizer):
    mod = small_module(optimizer)
    module_steps(mod, 2)
    return mod


def trainer_case(opt, params, dtype="float32"):
    net, _ = small_net(dtype)
    trainer = gluon.Trainer(net.collect_params(), opt, params)
    trainer_steps(net, trainer, 2, dtype)
    return net, trainer


def module_resume_weights(optimizer_factory, states_path):
    mod = module_case(optimizer_factory())
    mod.load_optimizer_states(states_path)
    module_steps(mod, 1, seed=6)
    return {k: v.asnumpy() for k, v in mod.get_params()[0].items()}


def trainer_resume_weights(opt, params, dtype, states_path):
    net, trainer = trainer_case(opt, params, dtype)
    trainer.load_states(states_path)
    trainer_steps(net, trainer, 1, dtype, seed=7)
    return {str(i): v.data().asnumpy() for i, v in enumerate(net.collect_params().values())}


def states_cases(tmp):
    """file name -> (resume function of a states path); each file is written by MXNet."""
    cases = {}

    def sgd_mom():
        return mx.optimizer.SGD(learning_rate=0.1, momentum=0.9, wd=1e-3, rescale_grad=0.2)

    def sgd():
        return mx.optimizer.SGD(learning_rate=0.1)

    for name, factory in [("module_sgd_momentum.states", sgd_mom), ("module_sgd.states", sgd)]:
        mod = module_case(factory())
        mod.save_optimizer_states(str(HERE / name))
        cases[name] = (lambda path, f=factory: module_resume_weights(f, path))

    adam = ("adam", {"learning_rate": 0.01, "wd": 1e-4,
                     "lr_scheduler": mx.lr_scheduler.FactorScheduler(step=1, factor=0.5)},
            "float32")
    for name, (opt, params, dtype) in [("trainer_adam.states", adam)]:
        net, trainer = trainer_case(opt, dict(params), dtype)
        trainer.save_states(str(HERE / name))
        cases[name] = (lambda path, o=opt, p=params, d=dtype:
                       trainer_resume_weights(o, dict(p), d, path))
        if name == "trainer_adam.states":
            updater = trainer._updaters[0]
            for protocol in (0, 2, 5):
                pname = f"trainer_adam_protocol{protocol}.states"
                with open(HERE / pname, "wb") as f:  # what get_states(True) writes, other protocol
                    f.write(pickle.dumps((updater.states, updater.optimizer), protocol=protocol))
                cases[pname] = cases[name]

    # float16 weights, multi-precision SGD: states (weight32, momentum); CPU MXNet has no
    # float16 FullyConnected, so the Updater that Trainer and Module use is driven directly.
    name = "updater_sgd_multi_precision.states"
    weights, updater = updater_case()
    with open(HERE / name, "wb") as f:
        f.write(updater.get_states(dump_optimizer=True))
    cases[name] = updater_resume_weights
    return cases


def updater_case():
    # a learning rate given as a numpy scalar pickles as one
    opt = mx.optimizer.SGD(learning_rate=np.float32(0.1), momentum=0.9, multi_precision=True,
                           wd=1e-3)
    updater = mx.optimizer.get_updater(opt)
    rs = np.random.RandomState(8)
    weights = [mx.nd.array(rs.standard_normal(s), dtype="float16") for s in [(2, 3), (3,)]]
    updater_steps(updater, weights, 2, rs)
    return weights, updater


def updater_steps(updater, weights, steps, rs):
    for _ in range(steps):
        for i, w in enumerate(weights):
            updater(i, mx.nd.array(rs.standard_normal(w.shape), dtype="float16"), w)


def updater_resume_weights(states_path):
    weights, updater = updater_case()
    with open(states_path, "rb") as f:
        updater.set_states(f.read())
    updater_steps(updater, weights, 1, np.random.RandomState(9))
    return {str(i): w.asnumpy() for i, w in enumerate(weights)}


# ---------------------------------------------------------------- manifest

class Arrays:
    """Collects expected arrays for expected.npz under generated keys."""

    def __init__(self):
        self.arrays = {}

    def add(self, prefix, a):
        key = f"{prefix}__{len(self.arrays)}"
        self.arrays[key] = a.view(np.uint16) if a.dtype == BF16 else a
        dtype = "bfloat16" if a.dtype == BF16 else a.dtype.name
        return {"key": key, "dtype": dtype, "shape": list(a.shape)}


def encode(obj, arrays, prefix):
    """MXNet's unpickled states as JSON, arrays moved into ``arrays``."""
    if isinstance(obj, mx.nd.NDArray):
        return {"array": arrays.add(prefix, to_np(obj))}
    if isinstance(obj, tuple):
        return {"tuple": [encode(x, arrays, prefix) for x in obj]}
    if isinstance(obj, list):
        return {"list": [encode(x, arrays, prefix) for x in obj]}
    if isinstance(obj, dict):
        return {"dict": [[encode(k, arrays, prefix), encode(v, arrays, prefix)]
                         for k, v in obj.items()]}
    if isinstance(obj, np.generic):
        return {"numpy": obj.dtype.str, "value": obj.item()}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    state = obj.__getstate__() if hasattr(type(obj), "__getstate__") else vars(obj)
    if not isinstance(state, dict):  # Python 3.11's object.__getstate__ returns vars or None
        state = vars(obj)
    cls = type(obj)
    return {"object": f"{cls.__module__}.{cls.__name__}", "attrs": encode(state, arrays, prefix)}


def same(a, b):
    """Deep equality of unpickled states: types, structure, array dtypes, shapes and bytes."""
    if type(a) is not type(b):
        return False
    if isinstance(a, mx.nd.NDArray):
        return (a.dtype == b.dtype and a.shape == b.shape
                and to_np(a).tobytes() == to_np(b).tobytes())
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if a is None or isinstance(a, (bool, int, float, str, np.generic)):
        return a == b or (a != a and b != b)
    return same(vars(a), vars(b))


def main():
    np_fmt, lp = optjax_formats()
    mx.random.seed(0)
    manifest = {"mxnet": mx.__version__, "ndarray_files": {}, "refused_files": {},
                "states_files": {}}
    arrays = Arrays()
    with tempfile.TemporaryDirectory() as tmp:
        files = ndarray_files(tmp)
        manifest["refused_files"] = sparse_files()
        for name, (data, np_shape) in files.items():
            is_dict = isinstance(data, dict)
            items = data.items() if is_dict else enumerate(data)
            identical = name not in NOT_AS_OPTJAX_WRITES
            manifest["ndarray_files"][name] = {
                "kind": "dict" if is_dict else "list", "np_shape": np_shape,
                "dumps_identical": identical,
                "entries": [dict(name=k if is_dict else None, **arrays.add(name, v))
                            for k, v in items]}
            if not identical:
                continue
            # optjax writes the same bytes as MXNet
            mine = np_fmt.dumps(data, np_shape=np_shape)
            theirs = (HERE / name).read_bytes()
            assert mine == theirs, f"ndarray_format.dumps differs from MXNet's {name}"

        # data only optjax writes loads in MXNet: zero-size (legacy V2), strided, big-endian
        extra = {"zero_size": np.zeros((0, 3), np.float32),
                 "strided": np.arange(12, dtype=np.int64).reshape(3, 4)[:, ::2],
                 "big_endian": np.arange(5, dtype=">f8"), "bool": np.array([True, False]),
                 "bfloat16": np.array([0x3FC0, 0xC010], np.uint16).view(BF16)}
        path = os.path.join(tmp, "optjax.nd")
        np_fmt.save(path, extra)
        back = mx.nd.load(path)
        for k, want in extra.items():
            have = to_np(back[k])
            assert have.shape == want.shape and have.dtype == want.dtype.newbyteorder("="), k
            assert np.array_equal(have.view(np.uint8), np.ascontiguousarray(
                want.astype(want.dtype.newbyteorder("="))).view(np.uint8)), k

        for name, resume in states_cases(tmp).items():
            raw = (HERE / name).read_bytes()
            theirs = pickle.loads(raw)
            states, opt = theirs if isinstance(theirs, tuple) else (theirs, None)
            manifest["states_files"][name] = {
                "states": encode(states, arrays, name),
                "optimizer": None if opt is None else encode(opt, arrays, name)}
            # optjax reads it and writes it back; MXNet loads ours to the same objects
            ours = lp.load_states(raw, source=name)
            blob = lp.dumps_states(ours.states, ours.optimizer)
            assert same(pickle.loads(blob), theirs), name
            mine_path = os.path.join(tmp, "optjax.states")
            with open(mine_path, "wb") as f:
                f.write(blob)
            w_theirs, w_mine = resume(str(HERE / name)), resume(mine_path)
            for k in w_theirs:
                assert np.array_equal(w_theirs[k], w_mine[k]), (name, k)
    np.savez(HERE / "expected.npz", **arrays.arrays)
    with open(HERE / "manifest.json", "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("wrote", len(manifest["ndarray_files"]), "NDArray files,",
          len(manifest["states_files"]), "states files and checked both directions")


if __name__ == "__main__":
    main()
