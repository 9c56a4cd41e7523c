"""Safe save/load of optimizer states: ``.npz`` arrays + JSON metadata, no pickle.

``dumps(states, optimizer=None) -> bytes`` writes an npz archive (loaded with
``allow_pickle=False``) holding every state array and a JSON document giving
each index's structure as MXNet's ``create_state`` made it (None, an array, a
tuple or list of those) and, optionally, the optimizer's plain settings and
counters (lr, wd, multipliers, ``num_update``, per-index counts, Nadam's
``m_schedule``, the scheduler's class and attributes). Loading never runs code
from the file: the optimizer and scheduler classes are looked up by name
among the registered/defined classes and their plain attributes are restored;
the states come back as NDArrays in the same structure.
"""

from __future__ import annotations

import io
import json

import numpy as np

FORMAT = "optjax.compat.mxnet.states/2"


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
    if hasattr(v, "asnumpy"):  # an NDArray kept on the optimizer (LBSGD's cumgrads)
        a = v.asnumpy()
        return {"__ndarray__": a.tolist(), "dtype": a.dtype.name, "shape": list(a.shape)}
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
        if "__ndarray__" in v:
            from optjax.compat.mxnet.ndarray import array
            a = np.asarray(v["__ndarray__"], v["dtype"]).reshape(v["shape"])
            return array(a, dtype=a.dtype)
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


def _structure(state, arrays: dict):
    """JSON for one index's state, its arrays appended to ``arrays`` as ``a<n>``."""
    if state is None:
        return None
    if isinstance(state, (tuple, list)):
        return {"tuple" if isinstance(state, tuple) else "list":
                [_structure(s, arrays) for s in state]}
    if not hasattr(state, "asnumpy"):
        raise TypeError(f"cannot save a state of type {type(state).__name__} (NDArrays, tuples, "
                        "lists and None can be saved)")
    name = f"a{len(arrays)}"
    arrays[name] = state.asnumpy()
    return name


def _rebuild(spec, z):
    from optjax.compat.mxnet.ndarray import array
    if spec is None:
        return None
    if isinstance(spec, str):
        value = z[spec]
        return array(value, dtype=value.dtype)
    if isinstance(spec, dict) and len(spec) == 1 and ("tuple" in spec or "list" in spec):
        kind, items = next(iter(spec.items()))
        items = [_rebuild(s, z) for s in items]
        return tuple(items) if kind == "tuple" else items
    raise ValueError(f"malformed states metadata: {spec!r}")


def dumps(states: dict, optimizer=None) -> bytes:
    """The states (index -> None/NDArray/tuple) and optionally the optimizer, as bytes."""
    arrays: dict = {}
    entries = []
    for idx, st in states.items():
        if not isinstance(idx, (int, str)):
            raise TypeError(f"state index must be int or str, got {idx!r}")
        entries.append({"index": idx, "state": _structure(st, arrays)})
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
    """``(index -> state of NDArrays, optimizer or None)`` from :func:`dumps`'s bytes, or
    from a ``.states`` pickle written by MXNet itself (read by
    :mod:`optjax.compat.mxnet.legacy_pickle`, which never runs code from the file)."""
    if isinstance(data, str):
        raise TypeError("set_states expects the bytes written by get_states")
    if not bytes(data[:2]) == b"PK":  # not an npz archive: MXNet's pickle
        return _from_mxnet(bytes(data), optimizer_base)
    try:
        z = np.load(io.BytesIO(data), allow_pickle=False)
        meta = json.loads(str(z["__meta__"][()]))
    except Exception as e:  # noqa: BLE001
        raise ValueError("not a states file written by the shim's get_states") from e
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        got = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise ValueError(f"unknown states format {got!r}")
    try:
        return _from_meta(meta, z, optimizer_base)
    except (KeyError, TypeError, AttributeError, IndexError) as e:
        # A file edited by hand, or truncated: one clear error before anything is set.
        raise ValueError(f"malformed states metadata ({type(e).__name__}: {e}); was this file "
                         "written by get_states/save_states and left unedited?") from e


# Optimizer attributes that are plain numbers (checked on load, so an edited
# file fails here rather than inside the first update).
_NUMERIC_ATTRS = ("lr", "wd", "rescale_grad", "num_update", "begin_num_update", "momentum",
                  "beta1", "beta2", "epsilon")


def _from_meta(meta: dict, z, optimizer_base):
    out = {}
    for e in meta["states"]:
        if not isinstance(e["index"], (int, str)):
            raise TypeError(f"state index must be int or str, got {e['index']!r}")
        out[e["index"]] = _rebuild(e["state"], z)
    opt = None
    if "optimizer" in meta:
        classes = _subclasses(optimizer_base)
        name = meta["optimizer"]["class"]
        if not isinstance(name, str) or name not in classes:
            raise ValueError(f"states file names an unknown optimizer class {name!r}")
        cls = classes[name]
        opt = cls.__new__(cls)
        attrs = {k: _dec(v) for k, v in meta["optimizer"]["attrs"].items()}
        for k in ("_all_index_update_counts", "lr_mult", "wd_mult", "idx2name"):
            if k in attrs and not isinstance(attrs[k], dict):
                raise TypeError(f"optimizer attribute {k} must be a dict, got {type(attrs[k]).__name__}")
        for k in _NUMERIC_ATTRS:
            v = attrs.get(k)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                raise TypeError(f"optimizer attribute {k} must be a number, got {v!r}")
        opt.__dict__.update(attrs)
        opt.param_dict = {}
        opt.sym_info = ()
        opt._index_update_count = opt._all_index_update_counts.setdefault(0, {})
    return out, opt


def _from_mxnet(data: bytes, optimizer_base):
    """MXNet's pickled states as the shim's: NDArrays in the same structure; the dumped
    optimizer (and its scheduler) as the shim's class of the same name with the pickled
    attributes."""
    from optjax.compat.mxnet import legacy_pickle
    from optjax.compat.mxnet.lr_scheduler import LRScheduler
    from optjax.compat.mxnet.ndarray import array

    loaded = legacy_pickle.load_states(data)

    def value(v):
        if isinstance(v, np.ndarray):
            return array(v, dtype=v.dtype)
        if isinstance(v, np.generic):
            return v.item()
        if isinstance(v, tuple):
            return tuple(value(x) for x in v)
        if isinstance(v, list):
            return [value(x) for x in v]
        if isinstance(v, dict):
            return {k: value(x) for k, x in v.items()}
        if isinstance(v, legacy_pickle.PickledObject):
            base = LRScheduler if v.module == "mxnet.lr_scheduler" else optimizer_base
            classes = _subclasses(base)
            if v.name not in classes:
                raise ValueError(f"states file names an MXNet class {v.qualname!r} the shim "
                                 "does not have")
            obj = classes[v.name].__new__(classes[v.name])
            obj.__dict__.update({k: value(x) for k, x in v.attrs.items()})
            return obj
        return v

    states = {k: value(v) for k, v in loaded.states.items()}
    opt = None
    if loaded.optimizer is not None:
        opt = value(loaded.optimizer)
        opt.param_dict = {}
        opt.sym_info = ()
        opt._index_update_count = opt._all_index_update_counts.setdefault(0, {})
    return states, opt
