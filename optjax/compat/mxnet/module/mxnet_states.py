"""Optimizer states in real MXNet's format (``Module.save_optimizer_states``: a pickle of
``{index: state}``), loaded into and written from the shim's
:class:`~optjax.compat.mxnet.optimizer.Updater`.

The pickle is read by :func:`optjax.compat.mxnet.legacy_pickle.load_states`, which
never runs code from the file and refuses anything but arrays, numbers, tuples,
lists and dicts. Each index's arrays then fill the optimizer's own state for that
weight: for a user optimizer (``create_state`` returning NDArrays) the NDArrays
themselves, as MXNet's unpickling gives them; for a built-in optimizer, the
weight-shaped leaves of its functional state, in MXNet's order (SGD/NAG
momentum; Adam mean, var; AdaGrad history; RMSProp ``n``). Step counters start
again from ``begin_num_update``, as they do in MXNet when a fresh optimizer loads
states. Every index is checked before any state is replaced.

:func:`dumps_for_mxnet` writes the same structure back (with
:func:`~optjax.compat.mxnet.legacy_pickle.dumps_states`), so MXNet's
``Module.load_optimizer_states`` reads the shim's files and both resume with the
same numbers (MXNet's step counters restart on load; so do the shim's).
"""

from __future__ import annotations

import numpy as np

from optjax.compat.mxnet.base import MXNetError

__all__ = ["is_mxnet_pickle", "load_into_updater", "dumps_for_mxnet"]

def is_mxnet_pickle(data: bytes) -> bool:
    """Whether ``data`` is a pickle (MXNet's format) rather than the shim's npz states."""
    return len(data) >= 2 and data[0] == 0x80


def _arrays(state) -> list:
    if state is None:
        return []
    if isinstance(state, (tuple, list)):
        out = []
        for s in state:
            out += _arrays(s)
        return out
    if isinstance(state, np.ndarray):
        return [state]
    raise MXNetError(f"unexpected {type(state).__name__} in an optimizer state")


def _to_nd(state):
    from optjax.compat.mxnet.ndarray import array
    if state is None or isinstance(state, (int, float)):
        return state
    if isinstance(state, (tuple, list)):
        return type(state)(_to_nd(s) for s in state)
    return array(state, dtype=state.dtype)


def _fill(template, state, where: str):
    """Check ``state`` (loaded numpy arrays) against ``template`` (the optimizer's own state
    for that weight: None, an NDArray, or tuples of them) and return the pairs to copy."""
    from optjax.compat.mxnet.ndarray.ndarray import NDArray
    if template is None:
        if state is not None and _arrays(state):
            raise MXNetError(f"{where}: holds arrays where the optimizer keeps no state")
        return []
    if isinstance(template, NDArray):
        if not isinstance(state, np.ndarray) or state.shape != template.shape:
            got = getattr(state, "shape", type(state).__name__)
            raise MXNetError(f"{where}: expected an array of shape {template.shape}, got {got}")
        return [(template, state)]
    if isinstance(template, (tuple, list)):
        if not isinstance(state, (tuple, list)) or len(state) != len(template):
            raise MXNetError(f"{where}: expected a tuple of {len(template)} states, got "
                             f"{type(state).__name__}")
        pairs = []
        for k, (t, v) in enumerate(zip(template, state)):
            pairs += _fill(t, v, f"{where}[{k}]")
        return pairs
    raise MXNetError(f"{where}: the optimizer's state of type {type(template).__name__} "
                     "cannot be read from MXNet's format")


def load_into_updater(updater, data: bytes, weights: dict, source: str) -> None:
    """Replace ``updater``'s states by those of MXNet's pickled ``.states`` ``data``;
    ``weights`` maps each index to its weight NDArray. The optimizer's own states
    (MXNet's structures: None, NDArrays, tuples) are created and filled; every index is
    checked before any state is replaced."""
    from optjax.compat.mxnet import legacy_pickle

    loaded = legacy_pickle.load_states(data, source=source)
    states = loaded.states
    if not isinstance(states, dict):
        raise MXNetError(f"{source}: expected a dict of index -> state, got "
                         f"{type(states).__name__}")
    optimizer = updater.optimizer
    unknown = [k for k in states if k not in weights]
    if unknown:
        raise MXNetError(f"{source}: states for indices {unknown} that the module does not "
                         f"update (its indices are {sorted(weights)})")
    new, copies = {}, []
    for idx, state in states.items():
        template = optimizer.create_state_multi_precision(idx, weights[idx])
        name = optimizer.idx2name.get(idx, idx)
        copies += _fill(template, state, f"{source}: state of index {idx} ({name!r})")
        new[idx] = template
    for box, value in copies:
        box[:] = value.astype(np.dtype(box.dtype))
    with updater._lock:
        updater.states = new
        updater.states_synced = dict.fromkeys(new, True)


def _numpy_state(state):
    from optjax.compat.mxnet.ndarray.ndarray import NDArray
    if state is None:
        return None
    if isinstance(state, NDArray):
        return state.asnumpy()
    if isinstance(state, (tuple, list)):
        parts = [_numpy_state(s) for s in state]
        return None if any(p is _UNSUPPORTED for p in parts) else type(state)(parts)
    return _UNSUPPORTED


_UNSUPPORTED = object()


def dumps_for_mxnet(updater):
    """The updater's states as MXNet's ``.states`` pickle (None, NDArrays and tuples, as
    MXNet's ``create_state`` makes them), or None when a state holds anything else."""
    from optjax.compat.mxnet import legacy_pickle
    out = {}
    for idx, state in updater.states.items():
        value = _numpy_state(state)
        if value is _UNSUPPORTED:
            return None
        out[idx] = value
    return legacy_pickle.dumps_states(out)
