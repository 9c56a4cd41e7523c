"""``mx.optimizer.Updater`` / ``get_updater``: the per-index states and MXNet's update calls.

``updater(index, grad, weight)`` (MXNet's argument order; lists accepted, as
``gluon.Trainer`` passes them) creates missing states with
``create_state_multi_precision`` and updates. A built-in optimizer updates all
the indices in ONE jitted call, replaying MXNet's bookkeeping per update call
(chunks of ``aggregate_num`` indices per dtype, or one call per index); a user's
``update`` is called one index at a time. Every index
is checked before any state, count or weight changes, and the states of one
call are kept only when the whole call succeeds. Calls are serialized by a lock.

``get_states`` / ``set_states`` use the shim's pickle-free format
(:mod:`optjax.compat.mxnet.states`).
"""

from __future__ import annotations

import threading

import numpy as np

from optjax.compat.mxnet import states as _states
from optjax.compat.mxnet.optimizer.optimizer import Optimizer

__all__ = ["Updater", "get_updater"]


class Updater:
    """Updater running the optimizer on the states it keeps per index."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.states = {}
        self.states_synced = {}
        self.aggregate_updates = optimizer.aggregate_num > 0
        self._lock = threading.RLock()

    def __call__(self, index, grad, weight):
        if not isinstance(index, (list, tuple)):
            indices, grads, weights = [index], [grad], [weight]
        else:
            indices, grads, weights = list(index), list(grad), list(weight)
        indices = [i.decode() if isinstance(i, bytes) else i for i in indices]
        if len({len(indices), len(grads), len(weights)}) != 1:
            raise ValueError(f"updater: {len(indices)} indices, {len(grads)} gradients and "
                             f"{len(weights)} weights; they must match")
        with self._lock:
            self._call(indices, grads, weights)

    def _call(self, indices, grads, weights):
        opt = self.optimizer
        if self.runs_engine():
            plan = self.plan(indices, grads, weights)
            try:
                plan.run([g._data for g in grads])
            except BaseException:
                plan.abort()
                raise
            return
        if weights:
            opt._set_current_context(weights[0].context.device_id)
        states = {}  # committed to self.states only when the update succeeds
        for i, w in zip(indices, weights):
            if i not in self.states and i not in states:
                states[i] = opt.create_state_multi_precision(i, w)
        current = {**self.states, **states}
        if type(opt).update is Optimizer.update:  # MXNet's calls, one per chunk
            for chunk in self._chunks(weights):
                opt.update_multi_precision([indices[j] for j in chunk],
                                           [weights[j] for j in chunk],
                                           [grads[j] for j in chunk],
                                           [current[indices[j]] for j in chunk])
        else:  # a user's update takes one index at a time
            for i, g, w in zip(indices, grads, weights):
                opt.update_multi_precision(i, w, g, current[i])
        self._keep(indices, states)

    def runs_engine(self) -> bool:
        """Whether updates run the built-in engine (no user ``update`` or
        ``update_multi_precision`` override), so that :meth:`plan` applies."""
        opt = self.optimizer
        return (type(opt).update is Optimizer.update
                and type(opt).update_multi_precision is Optimizer.update_multi_precision)

    def plan(self, indices, grads, weights):
        """One Updater call on the built-in engine as a
        :class:`~optjax.compat.mxnet.optimizer.optimizer.CorePlan` (counted; missing
        states created and kept on commit). ``grads`` are checked, not read: a caller
        may trace ``plan.step`` into its own compiled function and ``plan.commit``
        the result, or ``plan.abort()`` on failure."""
        opt = self.optimizer
        if weights:
            opt._set_current_context(weights[0].context.device_id)
        states = {}
        for i, w in zip(indices, weights):
            if i not in self.states and i not in states:
                states[i] = opt.create_state_multi_precision(i, w)
        current = {**self.states, **states}
        plan = opt._plan_core(indices, weights, grads, [current[i] for i in indices],
                              multi_precision=True, chunks=self._chunks(weights))
        plan.after_commit = lambda: self._keep(indices, states)
        return plan

    def _keep(self, indices, states):
        self.states.update(states)
        for i in indices:
            self.states_synced[i] = True

    def _chunks(self, weights):
        """MXNet's ``update_multi_precision`` calls for one Updater call, as positions:
        with ``aggregate_num > 0``, per dtype (in order of first appearance) in chunks of
        ``aggregate_num``; else one call per index."""
        size = self.optimizer.aggregate_num
        if not self.aggregate_updates or size <= 0:  # (a loaded optimizer may not aggregate)
            return [[j] for j in range(len(weights))]
        groups: dict = {}
        for j, w in enumerate(weights):
            groups.setdefault(np.dtype(w.dtype), []).append(j)
        return [g[s:s + size] for g in groups.values() for s in range(0, len(g), size)]

    def sync_state_context(self, state, context):
        """The state on ``context`` (one device per process here: unchanged)."""
        return state

    def set_states(self, states):
        """Load states written by :meth:`get_states` (the shim's npz + JSON format)."""
        loaded, opt = _states.loads(states, Optimizer)
        with self._lock:
            self.states = loaded
            if opt is not None:
                self.optimizer = opt
            self.states_synced = dict.fromkeys(self.states, False)

    def get_states(self, dump_optimizer=False):
        """The states (and with ``dump_optimizer`` the optimizer's settings and counters)
        as bytes."""
        with self._lock:
            return _states.dumps(self.states, self.optimizer if dump_optimizer else None)


def get_updater(optimizer):
    """An :class:`Updater` for ``optimizer``."""
    return Updater(optimizer)
