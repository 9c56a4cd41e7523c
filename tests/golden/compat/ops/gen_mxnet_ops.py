"""Golden forward and backward values of MXNet 1.9.1's operators, for the shim's op registry.

Run with the MXNet virtual environment built by ``tools/mxnet-venv.sh DIR``, from
the repository root::

    DIR/bin/python tests/golden/compat/ops/gen_mxnet_ops.py

For every case in ``cases.py`` it draws the inputs from a numpy RandomState
seeded by the case id, runs the operator with ``mx.nd`` under
``autograd.record(train_mode=case['train'])``, then ``autograd.backward`` (same
``train_mode``) with a random head gradient (output operators apply MXNet's own gradient and ignore
it), and writes ``mxnet_ops.npz`` (inputs, head gradients, outputs, input
gradients, auxiliary states after backward) and ``mxnet_ops.json`` (case list,
output dtypes, MXNet's version, and for operators with weights the shapes
``mx.sym``'s ``infer_shape`` gives them from the data shape alone). It runs every case a second time in a child
process with ``MXNET_MKLDNN_ENABLED=0`` (MXNet's reference CPU kernels) and
records, per case, the largest relative difference between the two kernels
(where it exceeds 1e-3 the reference kernels' values are stored too, as ``<id>/ref/...``)
(``null`` for the cases where the MKLDNN kernel fails: their values come from the
reference kernels).
"""

import json
import os
import subprocess
import sys
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cases import CASES, PARAM_OPS  # noqa: E402


def draw(spec, rng):
    kind = spec[0]
    if kind == "v":
        return np.asarray(spec[1], dtype=spec[2] if len(spec) > 2 else "float32")
    shape, dtype = tuple(spec[1]), spec[-1]
    if kind == "n":
        return rng.standard_normal(shape).astype(dtype)
    if kind == "p":
        return rng.uniform(0.5, 2.0, shape).astype(dtype)
    if kind == "u":
        return rng.uniform(spec[2], spec[3], shape).astype(dtype)
    if kind == "i":
        return rng.randint(spec[2], spec[3], shape).astype(dtype)
    raise ValueError(kind)


def case_inputs(case):
    rng = np.random.RandomState(zlib.crc32(case["id"].encode()))
    return {name: draw(spec, rng) for name, spec in case["inputs"]}


def attrs_of(case):
    return {k: tuple(v) if isinstance(v, list) else v for k, v in case["attrs"].items()}


def run_case(mx, case):
    from mxnet import autograd, nd
    ins = case_inputs(case)
    rng = np.random.RandomState(zlib.crc32(case["id"].encode()) + 1)
    arrays = {k: nd.array(a, dtype=a.dtype) for k, a in ins.items()}
    grad_names = [k for k, a in ins.items() if k not in case["nograd"]
                  and k not in ("moving_mean", "moving_var") and a.dtype.kind == "f"]
    if case["backward"]:
        for k in grad_names:
            arrays[k].attach_grad()
    fn = getattr(nd, case["op"], None) or getattr(nd._internal, case["op"], None) or getattr(
        nd.linalg, case["op"].replace("linalg_", ""))
    with autograd.record(train_mode=case["train"]):
        out = fn(*arrays.values(), **attrs_of(case))
    outs = out if isinstance(out, (list, tuple)) else [out]
    res = {"out": [o.asnumpy() for o in outs]}
    if case["backward"]:
        heads = [rng.standard_normal(o.shape).astype(o.dtype) for o in outs]
        if case["heads"] == "first":
            heads = [heads[0]] + [np.zeros(o.shape, o.dtype) for o in outs[1:]]
        autograd.backward(outs, head_grads=[nd.array(h, dtype=h.dtype) for h in heads],
                          train_mode=case["train"])
        res["head"] = heads
        res["grad"] = {k: arrays[k].grad.asnumpy() for k in grad_names}
    res["aux"] = {k: arrays[k].asnumpy() for k in ("moving_mean", "moving_var") if k in arrays}
    return ins, res


def inferred_shapes(mx, case):
    """``{input or aux name: shape}`` from ``mx.sym.<op>(data, ...).infer_shape(data=shape)``."""
    data_shape = case_inputs(case)[case["inputs"][0][0]].shape
    sym = getattr(mx.sym, case["op"])(mx.sym.Variable("data"), name="op", **attrs_of(case))
    args, _, aux = sym.infer_shape(data=data_shape)
    names = sym.list_arguments() + sym.list_auxiliary_states()
    return {n[len("op_"):]: list(s) for n, s in zip(names, args + aux) if n != "data"}


def max_rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-6)))


def main():
    import mxnet as mx
    raw = sys.argv[2] if len(sys.argv) > 2 and sys.argv[1] == "--raw" else None
    other = os.path.join(HERE, ".mkldnn_off.npz")
    if not raw:
        env = dict(os.environ, MXNET_MKLDNN_ENABLED="0", MXNET_STORAGE_FALLBACK_LOG_VERBOSE="0")
        subprocess.run([sys.executable, __file__, "--raw", other], check=True, env=env,
                       stderr=subprocess.DEVNULL)
        ref = dict(np.load(other))
        os.remove(other)
    arrays, meta = {}, []
    for case in CASES:
        if case["mkldnn_error"] and not raw:  # values from the reference kernels (child run)
            arrays.update({k: a for k, a in ref.items() if k.startswith(case["id"] + "/")})
            meta.append(dict(case, out_dtypes=[str(ref[f"{case['id']}/out/{j}"].dtype)
                                               for j in range(sum(
                                                   k.startswith(case["id"] + "/out/") for k in ref))],
                             grads=sorted(k.split("/")[-1] for k in ref
                                          if k.startswith(case["id"] + "/grad/"))))
            continue
        ins, res = run_case(mx, case)
        cid = case["id"]
        for k, a in ins.items():
            arrays[f"{cid}/in/{k}"] = a
        for j, o in enumerate(res["out"]):
            arrays[f"{cid}/out/{j}"] = o
        for j, h in enumerate(res.get("head", [])):
            arrays[f"{cid}/head/{j}"] = h
        for k, g in res.get("grad", {}).items():
            arrays[f"{cid}/grad/{k}"] = g
        for k, a in res["aux"].items():
            arrays[f"{cid}/aux/{k}"] = a
        meta.append(dict(case, out_dtypes=[str(o.dtype) for o in res["out"]],
                         grads=sorted(res.get("grad", {}))))
        if case["op"] in PARAM_OPS and not raw:
            meta[-1]["param_shapes"] = inferred_shapes(mx, case)
    if raw:
        np.savez(raw, **arrays)
        return
    for m in meta:
        if m["mkldnn_error"]:
            m["mkldnn_off_max_rel_diff"] = None
            continue
        keys = [k for k in arrays if k.startswith(m["id"] + "/") and "/in/" not in k
                and "/head/" not in k]
        m["mkldnn_off_max_rel_diff"] = max([max_rel(arrays[k], ref[k]) for k in keys] or [0.0])
        if m["mkldnn_off_max_rel_diff"] > 1e-3:  # keep the reference kernels' values too
            for k in keys:
                arrays[k.replace("/", "/ref/", 1)] = ref[k]
    np.savez_compressed(os.path.join(HERE, "mxnet_ops.npz"), **arrays)
    with open(os.path.join(HERE, "mxnet_ops.json"), "w") as f:
        json.dump(dict(mxnet=mx.__version__, mkldnn=mx.runtime.Features().is_enabled("MKLDNN"),
                       cases=meta), f, separators=(",", ":"))
        f.write("\n")
    worst = sorted(meta, key=lambda m: -(m["mkldnn_off_max_rel_diff"] or 0))[:8]
    print(len(meta), "cases; largest MKLDNN on/off differences:",
          [(m["id"], m["mkldnn_off_max_rel_diff"]) for m in worst])


if __name__ == "__main__":
    main()
