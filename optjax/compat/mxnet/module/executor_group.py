"""MXNet 1.9.1's data-parallel executor group (``module/executor_group.py``) on JAX devices.

A Module bound on several contexts holds one
:class:`~optjax.compat.mxnet.symbol.executor.Executor` per context, each bound to its
slice of the batch (``_split_input_slice``: equal work loads, the remainder on the last
context) and placed on the context's JAX device (``mx.cpu(i)`` is JAX's CPU device
``i`` when the process has several, e.g. ``--xla_force_host_platform_device_count``).
As in MXNet, each slice runs its own forward and backward pass (BatchNorm statistics
and ``SoftmaxOutput`` normalization per slice, auxiliary states per context); the
module then updates once with the gradients summed over the contexts (the ``local``
kvstore's reduction, in context order) and every context computes with the updated
weights. ``aux_dict`` is the average over the contexts (``get_params``), ``outputs``
the slices' outputs concatenated, ``grad_dict`` the parameters' summed gradients and
the inputs' concatenated ones.

The group offers the parts of the Executor interface that a Module uses.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from optjax.compat.mxnet.base import MXNetError
from optjax.compat.mxnet.ndarray.ndarray import NDArray, from_jax

__all__ = ["ExecutorGroup", "split_input_slice"]


def split_input_slice(batch_size: int, work_load_list: list) -> list:
    """MXNet's ``_split_input_slice``: the batch slice of each context."""
    total = sum(work_load_list)
    nums = [round(w * batch_size / total) for w in work_load_list]
    if sum(nums) < batch_size:
        nums[-1] += batch_size - sum(nums)
    slices, end = [], 0
    for num in nums:
        begin = int(min(end, batch_size))
        end = int(min(begin + num, batch_size))
        if begin >= end:
            raise ValueError("Too many slices. Some splits are empty.")
        slices.append(slice(begin, end))
    return slices


class ExecutorGroup:
    """One executor per context over slices of the batch inputs ``batch_names``."""

    def __init__(self, symbol, contexts, grad_req, type_dict, shapes, batch_names,
                 work_load_list=None, shared=None):
        from optjax.compat.mxnet.ndarray.creation import zeros
        from optjax.compat.mxnet.symbol.executor import Executor
        self.contexts = list(contexts)
        self._symbol = symbol
        self._grad_req_in = grad_req
        self._types = dict(type_dict)
        self._shapes = {k: tuple(v) for k, v in shapes.items()}
        self.batch_names = [n for n in batch_names if n in self._shapes]
        self.work_load_list = work_load_list or [1] * len(self.contexts)
        if len(self.work_load_list) != len(self.contexts):
            raise ValueError(f"work_load_list has {len(self.work_load_list)} entries for "
                             f"{len(self.contexts)} contexts")
        batch_size = self._shapes[self.batch_names[0]][0]
        self.slices = split_input_slice(batch_size, self.work_load_list)
        self.execs = []
        for k, (ctx, sl) in enumerate(zip(self.contexts, self.slices)):
            sub = {n: s if n not in self.batch_names else (sl.stop - sl.start,) + s[1:]
                   for n, s in self._shapes.items()}
            self.execs.append(Executor.simple(symbol, ctx, grad_req, type_dict, sub,
                                              shared=shared if k == 0 else None))
        first = self.execs[0]
        self._inputs = {n: zeros(self._shapes[n], ctx=self.contexts[0],
                                 dtype=first.arg_dict[n].dtype) for n in self.batch_names}
        self._arg_names = first._arg_names
        self._aux_names = first._aux_names
        self._program = first._program
        self._diff = first._diff
        self._grad_req = first._grad_req
        self._monitor = None

    # -- views ---------------------------------------------------------------------------
    @property
    def arg_dict(self) -> dict:
        """Context 0's parameters (the ones the optimizer updates) and the whole batch."""
        return {**self.execs[0].arg_dict, **self._inputs}

    @property
    def aux_dict(self) -> dict:
        """The auxiliary states averaged over the contexts (new arrays)."""
        dev = self.contexts[0].jax_device
        out = {}
        for n in self._aux_names:
            parts = [jax.device_put(e.aux_dict[n]._data, dev) for e in self.execs]
            total = parts[0]
            for p in parts[1:]:
                total = total + p
            out[n] = from_jax(total / len(parts), self.contexts[0])
        return out

    @property
    def aux_arrays(self) -> list:
        return [a for e in self.execs for a in e.aux_arrays]

    @property
    def grad_dict(self) -> dict:
        """Parameters: the gradients summed over the contexts in order; batch inputs:
        the slices' gradients concatenated (new arrays on context 0)."""
        dev = self.contexts[0].jax_device
        out = {}
        for n in self.execs[0].grad_dict:
            parts = [jax.device_put(e.grad_dict[n]._data, dev) for e in self.execs]
            if n in self.batch_names:
                out[n] = from_jax(jnp.concatenate(parts, axis=0), self.contexts[0])
                continue
            total = parts[0]
            for p in parts[1:]:
                total = total + p
            out[n] = from_jax(total, self.contexts[0])
        return out

    @property
    def outputs(self) -> list:
        """Each output with the slices concatenated along the batch axis (on context 0)."""
        dev = self.contexts[0].jax_device
        per = [e.outputs for e in self.execs]
        return [from_jax(jnp.concatenate([jax.device_put(o[i]._data, dev) for o in per], axis=0),
                         self.contexts[0]) for i in range(len(per[0]))]

    # -- running -------------------------------------------------------------------------
    def _scatter(self):
        """Context 0's parameters to the others, the batch's slices to each context."""
        first = self.execs[0].arg_dict
        for e, ctx, sl in zip(self.execs, self.contexts, self.slices):
            dev = ctx.jax_device
            for n, box in e.arg_dict.items():
                if n in self._inputs:
                    box._data = jax.device_put(self._inputs[n]._data[sl], dev)
                elif e is not self.execs[0]:
                    box._data = jax.device_put(first[n]._data, dev)

    def forward(self, is_train: bool = False, **kwargs):
        if kwargs:
            raise MXNetError("forward on several contexts takes no keyword arguments; load "
                             "the batch through the module")
        self._scatter()
        for e in self.execs:
            e.forward(is_train=is_train)
        return self.outputs

    def backward(self, out_grads=None, is_train: bool = True):
        if out_grads is None:
            for e in self.execs:
                e.backward()
            return
        if isinstance(out_grads, NDArray):
            out_grads = [out_grads]
        for e, ctx, sl in zip(self.execs, self.contexts, self.slices):
            e.backward([None if g is None else from_jax(
                jax.device_put(g._data[sl] if isinstance(g, NDArray) else jnp.asarray(g)[sl],
                               ctx.jax_device), ctx) for g in out_grads])

    def copy_params_from(self, arg_params, aux_params=None, allow_extra_params=False):
        for e in self.execs:
            e.copy_params_from(arg_params, aux_params, allow_extra_params=allow_extra_params)
        for e, ctx in zip(self.execs, self.contexts):  # each context's arrays on its device
            dev = ctx.jax_device
            for box in list(e.arg_arrays) + list(e.aux_arrays):
                box._data = jax.device_put(box._data, dev)

    def reshape(self, partial_shaping=False, allow_up_sizing=False, **kwargs):
        """A new group for new input shapes, keeping the parameters and auxiliary states."""
        shapes = dict(self._shapes)
        shapes.update({k: tuple(v) for k, v in kwargs.items()})
        given = {k: v for k, v in shapes.items() if k in self._inputs or k in kwargs}
        new = ExecutorGroup(self._symbol, self.contexts, self._grad_req_in, self._types, given,
                            self.batch_names, self.work_load_list)
        for old_e, new_e in zip(self.execs, new.execs):
            for n in self._arg_names:
                if n not in self._inputs:
                    new_e.arg_dict[n]._data = old_e.arg_dict[n]._data
            for n in self._aux_names:
                new_e.aux_dict[n]._data = old_e.aux_dict[n]._data
        return new

    def set_monitor_callback(self, callback, monitor_all=False):
        for e in self.execs:
            e.set_monitor_callback(callback, monitor_all)
        self._monitor = callback
