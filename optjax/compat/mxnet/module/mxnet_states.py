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

import jax
import numpy as np

from optjax.compat.mxnet.base import MXNetError

__all__ = ["is_mxnet_pickle", "load_into_updater", "dumps_for_mxnet"]

# Built-in optimizers whose MXNet state arrays are, in order, the weight-shaped leaves
# of the recipe's state (checked against MXNet 1.9.1's create_state).
_RECIPE_ORDER_SAME = {"sgd", "nag", "adam", "adagrad", "rmsprop"}


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


def load_into_updater(updater, data: bytes, weights: dict, source: str) -> None:
    """Replace ``updater``'s states by those of MXNet's pickled ``.states`` ``data``;
    ``weights`` maps each index to its weight NDArray."""
    from optjax.compat.mxnet import legacy_pickle
    from optjax.compat.mxnet import optimizer as opt

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
    new = {}
    if updater._fused_ok():
        recipe = optimizer._recipe
        if recipe not in _RECIPE_ORDER_SAME or getattr(optimizer, "centered", False):
            raise MXNetError(f"{source}: reading MXNet's states of optimizer "
                             f"{type(optimizer).__name__!r} is not supported (supported: "
                             f"{sorted(_RECIPE_ORDER_SAME)}, RMSProp not centered)")
        for idx, state in states.items():
            w = weights[idx]
            template = optimizer.create_state_multi_precision(idx, w)
            arrays = _arrays(state)
            leaves, treedef = jax.tree_util.tree_flatten(template.tree)
            slots = [i for i, leaf in enumerate(leaves) if tuple(np.shape(leaf)) == w.shape
                     and np.ndim(leaf) > 0]
            if len(slots) != len(arrays) or any(a.shape != w.shape for a in arrays):
                raise MXNetError(
                    f"{source}: state of index {idx} ({optimizer.idx2name.get(idx, idx)!r}) "
                    f"holds arrays of shapes {[a.shape for a in arrays]}; "
                    f"{type(optimizer).__name__} keeps {len(slots)} of shape {w.shape}")
            for i, a in zip(slots, arrays):
                leaves[i] = jax.numpy.asarray(a, dtype=leaves[i].dtype)
            new[idx] = opt.RecipeState(jax.tree_util.tree_unflatten(treedef, leaves),
                                       template.mp)
    else:
        for idx, state in states.items():
            _arrays(state)  # validates
            new[idx] = _to_nd(state)
    updater.states = new
    updater.states_synced = dict.fromkeys(new, True)
    updater._pending = {}


def _mxnet_layout(recipe: str, arrays: list, optimizer):
    """MXNet 1.9.1's ``create_state`` structure holding ``arrays``."""
    if recipe in ("sgd", "nag"):
        return arrays[0] if arrays else None
    if recipe == "adagrad":
        return arrays[0]
    return tuple(arrays)  # adam (mean, var); rmsprop (n,)


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
    """The updater's states as MXNet's ``.states`` pickle, or None when MXNet has no
    equivalent (other built-in optimizers, multi-precision states, unapplied loads)."""
    from optjax.compat.mxnet import legacy_pickle
    if updater._pending:
        return None
    optimizer = updater.optimizer
    out = {}
    if updater._fused_ok():
        recipe = optimizer._recipe
        if recipe not in _RECIPE_ORDER_SAME or getattr(optimizer, "centered", False):
            return None
        for idx, state in updater.states.items():
            if state.mp:
                return None
            arrays = [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(state.tree)
                      if np.ndim(leaf) > 0]
            out[idx] = _mxnet_layout(recipe, arrays, optimizer)
    else:
        for idx, state in updater.states.items():
            value = _numpy_state(state)
            if value is _UNSUPPORTED:
                return None
            out[idx] = value
    return legacy_pickle.dumps_states(out)
