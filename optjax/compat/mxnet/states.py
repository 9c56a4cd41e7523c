"""Safe save/load of optimizer states: ``.npz`` arrays + JSON metadata, no pickle.

``dumps(states, optimizer=None) -> bytes`` writes an npz archive (loaded with
``allow_pickle=False``) holding every state leaf as an array and a JSON
document describing the indices, the number of leaves of each index and,
optionally, the optimizer's plain settings and counters (lr, wd, multipliers,
``num_update``, per-index counts, Nadam's ``m_schedule``, the scheduler's
class and attributes). Loading never runs code from the file: the optimizer
and scheduler classes are looked up by name among the registered/defined
classes and their plain attributes are restored; state arrays are poured
back into the structure the optimizer's ``create_state`` builds for the
weight when the index is next updated.
"""

from __future__ import annotations

import io
import json

import jax
import numpy as np

FORMAT = "optjax.compat.mxnet.states/1"


class Pending:
    """Leaves loaded from a file, not yet given their structure (no weight seen yet)."""

    def __init__(self, leaves):
        self.leaves = leaves


class _Skip(Exception):
    pass


def _enc(v):
    from optjax.compat.mxnet.lr_scheduler import LRScheduler
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, list):
        return [_enc(x) for x in v]
    if isinstance(v, tuple):
        return {"__tuple__": [_enc(x) for x in v]}
    if isinstance(v, dict):
        return {"__dict__": [[_enc(k), _enc(x)] for k, x in v.items()]}
    if isinstance(v, LRScheduler):
        attrs = {}
        for k, x in v.__dict__.items():
            try:
                attrs[k] = _enc(x)
            except _Skip:
                pass
        return {"__scheduler__": type(v).__name__, "attrs": attrs}
    raise _Skip(type(v).__name__)


def _subclasses(base):
    out, todo = {}, [base]
    while todo:
        c = todo.pop()
        out.setdefault(c.__name__, c)
        todo.extend(c.__subclasses__())
    return out


def _dec(v):
    from optjax.compat.mxnet.lr_scheduler import LRScheduler
    if isinstance(v, list):
        return [_dec(x) for x in v]
    if isinstance(v, dict):
        if "__tuple__" in v:
            return tuple(_dec(x) for x in v["__tuple__"])
        if "__dict__" in v:
            return {_hashable(_dec(k)): _dec(x) for k, x in v["__dict__"]}
        if "__scheduler__" in v:
            classes = _subclasses(LRScheduler)
            name = v["__scheduler__"]
            if name not in classes:
                raise ValueError(f"states file names an unknown LRScheduler class {name!r}; "
                                 "define/import it before loading")
            obj = classes[name].__new__(classes[name])
            obj.__dict__.update({k: _dec(x) for k, x in v["attrs"].items()})
            return obj
        raise ValueError(f"malformed states metadata: {v!r}")
    return v


def _hashable(k):
    return tuple(k) if isinstance(k, list) else k


def dumps(states: dict, optimizer=None) -> bytes:
    arrays = {}
    entries = []
    n = 0
    for idx, st in states.items():
        leaves = st.leaves if isinstance(st, Pending) else jax.tree_util.tree_leaves(st)
        if not isinstance(idx, (int, str)):
            raise TypeError(f"state index must be int or str, got {idx!r}")
        entries.append({"index": idx, "leaves": len(leaves)})
        for leaf in leaves:
            arrays[f"a{n}"] = np.asarray(leaf)
            n += 1
    meta = {"format": FORMAT, "states": entries}
    if optimizer is not None:
        attrs = {}
        for k, v in optimizer.__dict__.items():
            if k in ("param_dict", "sym_info"):
                continue
            try:
                attrs[k] = _enc(v)
            except _Skip:
                pass
        meta["optimizer"] = {"class": type(optimizer).__name__, "attrs": attrs}
    arrays["__meta__"] = np.array(json.dumps(meta))
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def loads(data: bytes, optimizer_base):
    """``(index -> list of arrays, optimizer or None)`` from :func:`dumps`'s bytes."""
    if isinstance(data, str):
        raise TypeError("set_states expects the bytes written by get_states")
    try:
        z = np.load(io.BytesIO(data), allow_pickle=False)
        meta = json.loads(str(z["__meta__"][()]))
    except Exception as e:  # noqa: BLE001
        raise ValueError("not an optjax MXNet-shim states file (MXNet's own pickled states "
                         "cannot be read without MXNet)") from e
    if meta.get("format") != FORMAT:
        raise ValueError(f"unknown states format {meta.get('format')!r}")
    out, n = {}, 0
    for e in meta["states"]:
        out[e["index"]] = [z[f"a{n + j}"] for j in range(e["leaves"])]
        n += e["leaves"]
    opt = None
    if "optimizer" in meta:
        classes = _subclasses(optimizer_base)
        name = meta["optimizer"]["class"]
        if name not in classes:
            raise ValueError(f"states file names an unknown optimizer class {name!r}")
        cls = classes[name]
        opt = cls.__new__(cls)
        opt.__dict__.update({k: _dec(v) for k, v in meta["optimizer"]["attrs"].items()})
        opt.param_dict = {}
        opt.sym_info = ()
        opt._index_update_count = opt._all_index_update_counts.setdefault(0, {})
    return out, opt


def restore(template, leaves, index):
    """``template``'s structure (a fresh ``create_state``) filled with the loaded ``leaves``."""
    flat, treedef = jax.tree_util.tree_flatten(template)
    if len(flat) != len(leaves):
        raise ValueError(f"state of index {index!r}: file has {len(leaves)} arrays, the optimizer "
                         f"expects {len(flat)}")
    new = []
    for t, l in zip(flat, leaves):
        if tuple(np.shape(t)) != tuple(l.shape):
            raise ValueError(f"state of index {index!r}: shape {l.shape} in the file, "
                             f"{np.shape(t)} expected")
        new.append(jax.numpy.asarray(l, dtype=getattr(t, "dtype", None)))
    return jax.tree_util.tree_unflatten(treedef, new)
