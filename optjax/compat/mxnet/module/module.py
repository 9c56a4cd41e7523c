"""``mx.mod.Module``: MXNet 1.9.1's Module on one compiled executor.

``bind`` creates an :class:`~optjax.compat.mxnet.symbol.executor.Executor` for
the data and label shapes; ``forward(is_train=True)`` followed by ``backward()``
is one compiled JAX call (forward and ``jax.vjp``); ``update()`` hands all
gradients to the optimizer's :class:`~optjax.compat.mxnet.optimizer.Updater` in
one call, which runs the optimizer's jitted functional core. ``fit`` runs the
three as ONE compiled call (forward, ``jax.vjp`` and the functional core, with the
parameters, auxiliary states and optimizer states donated) when the optimizer
runs the built-in engine, with the same bits as the separate calls; a user's
Python optimizer keeps the separate calls. ``init_optimizer``
configures the optimizer as MXNet does: ``rescale_grad = 1 / batch_size``
unless given, ``param_idx2name`` with the parameters' positions, and the
symbol's ``lr_mult``/``wd_mult`` attributes. ``fixed_param_names`` get no
gradient, no update and no optimizer state; auxiliary states change only in
training forward passes.

The module keeps its own copies of the parameters (``get_params``), synced
from the executor after updates, as MXNet does. On several contexts the module
runs MXNet's data-parallel executor group
(:class:`~optjax.compat.mxnet.module.executor_group.ExecutorGroup`): the batch is
split over the contexts' JAX devices and the gradients are summed.

Example:
    >>> import numpy as np
    >>> import optjax.compat.mxnet as mx
    >>> data = mx.sym.Variable("data")
    >>> fc = mx.sym.FullyConnected(data, name="fc", num_hidden=3)
    >>> net = mx.sym.SoftmaxOutput(fc, name="softmax")
    >>> mod = mx.mod.Module(net)
    >>> mod.bind(data_shapes=[("data", (4, 5))], label_shapes=[("softmax_label", (4,))])
    >>> mod.init_params(mx.init.Xavier())
    >>> mod.init_optimizer(optimizer="sgd", optimizer_params={"learning_rate": 0.1})
    >>> mod.output_shapes
    [('softmax_output', (4, 3))]
"""

from __future__ import annotations

import logging
import os
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from optjax.compat.mxnet.base import MXNetError
from optjax.compat.mxnet.context import Context, cpu
from optjax.compat.mxnet.initializer import InitDesc, Uniform
from optjax.compat.mxnet.io import DataDesc
from optjax.compat.mxnet.module import mxnet_states
from optjax.compat.mxnet.module.base_module import BaseModule
from optjax.compat.mxnet.module.executor_group import ExecutorGroup
from optjax.compat.mxnet.ndarray.ndarray import NDArray
from optjax.compat.mxnet.optimizer.updater import Updater

__all__ = ["Module"]


def _desc(x):
    return x if isinstance(x, DataDesc) else DataDesc(*x)


def _check_input_names(symbol, names, typename, throw):
    args = symbol.list_arguments()
    for name in names:
        if name in args:
            continue
        candidates = [a for a in args if not a.endswith(("_weight", "_bias", "_gamma", "_beta"))]
        msg = ("You created Module with Module(..., %s_names=%s) but input with name '%s' is "
               "not found in symbol.list_arguments(). Did you mean one of:\n\t%s"
               % (typename, str(names), name, "\n\t".join(candidates)))
        if throw:
            raise ValueError(msg)
        warnings.warn(msg, stacklevel=3)


def _check_names_match(data_names, data_shapes, name, throw):
    actual = [x[0] if isinstance(x, tuple) else x.name for x in data_shapes]
    if sorted(data_names) != sorted(actual):
        msg = "Data provided by %s_shapes don't match names specified by %s_names (%s vs. %s)" % (
            name, name, str(data_shapes), str(data_names))
        if throw:
            raise ValueError(msg)
        warnings.warn(msg, stacklevel=3)


class Module(BaseModule):
    """A symbol with parameters, an executor and an optimizer (MXNet's ``Module``)."""

    def __init__(self, symbol, data_names=("data",), label_names=("softmax_label",),
                 logger=logging, context=None, work_load_list=None, fixed_param_names=None,
                 state_names=None, group2ctxs=None, compression_params=None):
        super().__init__(logger=logger)
        context = cpu() if context is None else context
        if isinstance(context, Context):
            context = [context]
        self._context = list(context)
        self._work_load_list = work_load_list
        self._symbol = symbol
        data_names = list(data_names) if data_names is not None else []
        label_names = list(label_names) if label_names is not None else []
        state_names = list(state_names) if state_names is not None else []
        fixed_param_names = list(fixed_param_names) if fixed_param_names is not None else []
        _check_input_names(symbol, data_names, "data", True)
        _check_input_names(symbol, label_names, "label", False)
        _check_input_names(symbol, state_names, "state", True)
        _check_input_names(symbol, fixed_param_names, "fixed_param", True)
        arg_names = symbol.list_arguments()
        input_names = data_names + label_names + state_names
        self._param_names = [x for x in arg_names if x not in input_names]
        self._fixed_param_names = fixed_param_names
        self._aux_names = symbol.list_auxiliary_states()
        self._data_names = data_names
        self._label_names = label_names
        self._state_names = state_names
        self._output_names = symbol.list_outputs()
        self._arg_params = None
        self._aux_params = None
        self._params_dirty = False
        self._owned = False  # the executor's parameter/aux/optimizer buffers are only ours
        self._shares_params = False  # bound with, or as, a shared_module: no donation
        self._optimizer = None
        self._kvstore = None
        self._update_on_kvstore = False
        self._updater = None
        self._preload_opt_states = None
        self._grad_req = None
        self._exec = None
        self._data_shapes = None
        self._label_shapes = None

    # -- checkpoints --------------------------------------------------------------------------
    @staticmethod
    def load(prefix, epoch, load_optimizer_states=False, **kwargs):
        """A module with the symbol and parameters of checkpoint ``prefix``/``epoch``."""
        from optjax.compat.mxnet.model import load_checkpoint
        sym, args, auxs = load_checkpoint(prefix, epoch)
        states = "%s-%04d.states" % (prefix, epoch)
        if load_optimizer_states and not os.path.isfile(states):
            raise MXNetError(f"optimizer states file {states!r} does not exist")
        mod = Module(symbol=sym, **kwargs)
        mod._arg_params = args
        mod._aux_params = auxs
        mod.params_initialized = True
        if load_optimizer_states:
            mod._preload_opt_states = states
        return mod

    def save_checkpoint(self, prefix, epoch, save_optimizer_states=False, remove_amp_cast=True):
        """Write ``prefix-symbol.json``, ``prefix-%04d.params`` (and ``.states``)."""
        self._symbol.save("%s-symbol.json" % prefix, remove_amp_cast=remove_amp_cast)
        param_name = "%s-%04d.params" % (prefix, epoch)
        self.save_params(param_name)
        logging.info('Saved checkpoint to "%s"', param_name)
        if save_optimizer_states:
            state_name = "%s-%04d.states" % (prefix, epoch)
            self.save_optimizer_states(state_name)
            logging.info('Saved optimizer state to "%s"', state_name)

    # -- properties ---------------------------------------------------------------------------
    def _reset_bind(self):
        self._owned = False
        self.binded = False
        self._exec = None
        self._data_shapes = None
        self._label_shapes = None

    @property
    def data_names(self):
        return self._data_names

    @property
    def label_names(self):
        return self._label_names

    @property
    def output_names(self):
        return self._output_names

    @property
    def data_shapes(self):
        assert self.binded
        return self._data_shapes

    @property
    def label_shapes(self):
        assert self.binded
        return self._label_shapes

    @property
    def output_shapes(self):
        assert self.binded
        _, outs = self._symbol._infer(self._input_shapes(), self._input_types())
        return [(n, tuple(o.shape)) for n, o in zip(self._output_names, outs)]

    # -- parameters ---------------------------------------------------------------------------
    def get_params(self):
        """``(arg_params, aux_params)``: the module's copies, synced after updates."""
        assert self.params_initialized
        self._owned = False
        if self._params_dirty:
            self._sync_params_from_devices()
        return self._arg_params, self._aux_params

    def init_params(self, initializer=Uniform(0.01), arg_params=None, aux_params=None,
                    allow_missing=False, force_init=False, allow_extra=False):
        """Fill the parameters from ``arg_params``/``aux_params`` or ``initializer`` (in
        sorted name order, as MXNet); every name is checked before anything changes."""
        if self.params_initialized and not force_init:
            warnings.warn("Parameters already initialized and force_init=False. "
                          "init_params call ignored.", stacklevel=2)
            return
        assert self.binded, "call bind before initializing the parameters"
        self._owned = False
        for cache, own in ((arg_params, self._arg_params), (aux_params, self._aux_params)):
            if cache is None:
                continue
            for name in sorted(own):
                if name not in cache and not allow_missing:
                    raise RuntimeError("%s is not presented" % name)
                if name in cache:
                    shape = tuple(np.shape(cache[name]))
                    if shape != own[name].shape:
                        raise MXNetError(
                            f"init_params: {name!r} has shape {shape}, the symbol infers "
                            f"{own[name].shape}")
        for cache, own, what in ((arg_params, self._arg_params, "arg_params"),
                                 (aux_params, self._aux_params, "aux_params")):
            if cache is None and own and initializer is None:
                raise MXNetError(f"init_params: {what} is None and there is no initializer "
                                 f"for {sorted(own)}")
        attrs = self._symbol.attr_dict()
        for own, cache in ((self._arg_params, arg_params), (self._aux_params, aux_params)):
            for name, arr in sorted(own.items()):
                desc = InitDesc(name, attrs.get(name, None))
                if cache is not None:
                    if name in cache:
                        src = cache[name]
                        if src is not arr:
                            arr._data = (src._data if isinstance(src, NDArray)
                                         else jnp.asarray(src)).astype(arr.dtype)
                    elif initializer is not None:
                        initializer(desc, arr)
                else:
                    initializer(desc, arr)
        self.params_initialized = True
        self._params_dirty = False
        self._exec.copy_params_from(self._arg_params, self._aux_params,
                                    allow_extra_params=allow_extra)

    def set_params(self, arg_params, aux_params, allow_missing=False, force_init=True,
                   allow_extra=False):
        """Copy values into the parameters (MXNet: extra names are an error only with
        ``allow_missing=True`` and ``allow_extra=False``)."""
        if not allow_missing:
            self.init_params(initializer=None, arg_params=arg_params, aux_params=aux_params,
                             allow_missing=allow_missing, force_init=force_init,
                             allow_extra=allow_extra)
            return
        if self.params_initialized and not force_init:
            warnings.warn("Parameters already initialized and force_init=False. "
                          "set_params call ignored.", stacklevel=2)
            return
        self._exec.copy_params_from(arg_params, aux_params, allow_extra_params=allow_extra)
        self._params_dirty = True
        self.params_initialized = True

    def _sync_params_from_devices(self):
        self._owned = False
        exec_args, exec_aux = self._exec.arg_dict, self._exec.aux_dict
        for name, arr in self._arg_params.items():
            arr._data = exec_args[name]._data.astype(arr.dtype)
        for name, arr in self._aux_params.items():
            arr._data = exec_aux[name]._data.astype(arr.dtype)
        self._params_dirty = False

    # -- binding ------------------------------------------------------------------------------
    def _input_shapes(self):
        shapes = {d.name: tuple(d.shape) for d in self._data_shapes}
        if self._label_shapes:
            shapes.update({d.name: tuple(d.shape) for d in self._label_shapes})
        return shapes

    def _input_types(self):
        from optjax.compat.mxnet.ndarray.dtypes import np_dtype
        descs = list(self._data_shapes) + list(self._label_shapes or [])
        return {d.name: np_dtype(d.dtype) for d in descs}

    def bind(self, data_shapes, label_shapes=None, for_training=True, inputs_need_grad=False,
             force_rebind=False, shared_module=None, grad_req="write"):
        """Allocate the executor for these input shapes (``[(name, shape)]`` or DataDesc)."""
        self._owned = False
        if force_rebind:
            self._reset_bind()
        if self.binded:
            self.logger.warning("Already bound, ignoring bind()")
            return
        if not for_training:
            assert not inputs_need_grad
        data_shapes = [_desc(x) for x in data_shapes]
        _check_names_match(self._data_names, data_shapes, "data", True)
        if label_shapes is not None:
            label_shapes = [_desc(x) for x in label_shapes]
            _check_names_match(self._label_names, label_shapes, "label", False)
        else:
            _check_names_match(self._label_names, [], "label", False)
        args = self._symbol.list_arguments()
        for d in list(data_shapes) + list(label_shapes or []):
            if d.name not in args:
                raise KeyError(f"{d.name!r}: the input named in data/label shapes is not an "
                               f"argument of the symbol; arguments are {args}")
        self.for_training = for_training
        self.inputs_need_grad = inputs_need_grad
        self._grad_req = grad_req
        old = (self._data_shapes, self._label_shapes)
        self._data_shapes, self._label_shapes = data_shapes, label_shapes
        try:
            self._exec = self._make_exec(shared_module)
        except Exception:
            self._data_shapes, self._label_shapes = old
            raise
        if shared_module is not None:
            self._shares_params = shared_module._shares_params = True
            self.params_initialized = True
            self._arg_params = shared_module._arg_params
            self._aux_params = shared_module._aux_params
        elif self.params_initialized:
            self._exec.copy_params_from(self._arg_params, self._aux_params)
        else:
            from optjax.compat.mxnet.ndarray.creation import zeros
            ad, xd = self._exec.arg_dict, self._exec.aux_dict
            self._arg_params = {n: zeros(ad[n].shape, dtype=ad[n].dtype)
                                for n in self._param_names}
            self._aux_params = {n: zeros(xd[n].shape, dtype=xd[n].dtype)
                                for n in self._aux_names}
        if shared_module is not None and shared_module.optimizer_initialized:
            self.borrow_optimizer(shared_module)
        self.binded = True

    def _grad_reqs(self):
        """MXNet's per-argument grad_req: parameters (not fixed) get ``grad_req``, data
        only with ``inputs_need_grad``, labels none; a dict overrides a 'write' default."""
        data_names = [d.name for d in self._data_shapes]
        req = self._grad_req if self.for_training else "null"
        arg_names = self._symbol.list_arguments()
        if isinstance(req, (list, tuple)):
            assert len(req) == len(arg_names)
            return dict(zip(arg_names, req))
        if not isinstance(req, (str, dict)):
            raise ValueError("grad_req must be one of str, list, tuple, or dict.")
        base = req if isinstance(req, str) else "write"
        out = {}
        for k in arg_names:
            if k in self._param_names:
                out[k] = "null" if k in self._fixed_param_names else base
            elif k in data_names:
                out[k] = base if self.inputs_need_grad else "null"
            else:
                out[k] = "null"
        if isinstance(req, dict):
            out.update(req)
        return out

    def _make_exec(self, shared_module=None):
        from optjax.compat.mxnet.symbol.executor import Executor
        shared = None
        if shared_module is not None:
            shared = {**shared_module._exec.arg_dict, **shared_module._exec.aux_dict}
            shared = {k: v for k, v in shared.items() if k in self._param_names + self._aux_names}
        if len(self._context) > 1:
            names = [d.name for d in self._data_shapes] + [d.name for d in self._label_shapes or []]
            return ExecutorGroup(self._symbol, self._context, self._grad_reqs(),
                                 self._input_types(), self._input_shapes(), names,
                                 self._work_load_list, shared=shared)
        return Executor.simple(self._symbol, self._context[0], self._grad_reqs(),
                               self._input_types(), self._input_shapes(), shared=shared)

    @property
    def _batch_size(self):
        return self._data_shapes[0].shape[0]

    def reshape(self, data_shapes, label_shapes=None):
        """New input shapes; the parameters are kept."""
        assert self.binded
        data_shapes = [_desc(x) for x in data_shapes]
        _check_names_match(self._data_names, data_shapes, "data", True)
        if label_shapes is not None:
            label_shapes = [_desc(x) for x in label_shapes]
        self._owned = False
        old = self._exec
        self._data_shapes, self._label_shapes = data_shapes, label_shapes
        shapes = self._input_shapes()
        self._exec = old.reshape(allow_up_sizing=True, **shapes)

    # -- optimizer ----------------------------------------------------------------------------
    def init_optimizer(self, kvstore="local", optimizer="sgd",
                       optimizer_params=(("learning_rate", 0.01),), force_init=False):
        """Create the optimizer (``rescale_grad = 1/batch_size`` unless given) and updater."""
        from optjax.compat.mxnet import optimizer as opt
        assert self.binded and self.params_initialized
        if self.optimizer_initialized and not force_init:
            self.logger.warning("optimizer already initialized, ignoring...")
            return
        if self._params_dirty:
            self._sync_params_from_devices()
        if isinstance(kvstore, str) and "dist" in kvstore:
            raise MXNetError(f"kvstore {kvstore!r}: distributed training is not supported by "
                             "the shim")
        batch_size = self._batch_size
        rescale_grad = 1.0 / batch_size
        idx2name = dict(enumerate(self._param_names))
        if isinstance(optimizer, str):
            optimizer_params = dict(optimizer_params)
            if "rescale_grad" not in optimizer_params:
                optimizer_params["rescale_grad"] = rescale_grad
            optimizer = opt.create(optimizer, sym=self.symbol, param_idx2name=idx2name,
                                   **optimizer_params)
        else:
            assert isinstance(optimizer, opt.Optimizer)
            if optimizer.rescale_grad != rescale_grad:
                warnings.warn(
                    "Optimizer created manually outside Module but rescale_grad is not "
                    "normalized to 1.0/batch_size/num_workers (%s vs. %s). Is this intended?"
                    % (optimizer.rescale_grad, rescale_grad), stacklevel=2)
            if not optimizer.idx2name:
                optimizer.idx2name = idx2name.copy()
        self._owned = False
        self._optimizer = optimizer
        self._kvstore = None if isinstance(kvstore, str) else kvstore
        self._update_on_kvstore = False
        self._updater = opt.get_updater(optimizer)
        self.optimizer_initialized = True
        if self._preload_opt_states is not None:
            self.load_optimizer_states(self._preload_opt_states)
            self._preload_opt_states = None

    def borrow_optimizer(self, shared_module):
        assert shared_module.optimizer_initialized
        self._owned = False
        self._optimizer = shared_module._optimizer
        self._kvstore = shared_module._kvstore
        self._update_on_kvstore = shared_module._update_on_kvstore
        self._updater = shared_module._updater
        self.optimizer_initialized = True

    # -- computation --------------------------------------------------------------------------
    def forward(self, data_batch, is_train=None):
        """Load the batch into the executor and run the graph (training when ``is_train``,
        default ``for_training``); a batch of new shapes reshapes the module."""
        assert self.binded and self.params_initialized
        self._load_batch(data_batch)
        if is_train is None:
            is_train = self.for_training
        self._owned = False  # an output may be a parameter's buffer
        self._exec.forward(is_train=is_train)

    def _load_batch(self, data_batch):
        """Reshape for a batch of new shapes, then load its arrays into the executor
        (every array is checked before any is loaded)."""
        curr = tuple(tuple(d.shape) for d in self._data_shapes)
        new = tuple(tuple(x.shape) for x in data_batch.data)
        if curr != new:
            if getattr(data_batch, "provide_data", None):
                new_dshape = data_batch.provide_data
            else:
                new_dshape = [DataDesc(d.name, s, d.dtype, d.layout)
                              for d, s in zip(self._data_shapes, new)]
            if getattr(data_batch, "provide_label", None):
                new_lshape = data_batch.provide_label
            elif getattr(data_batch, "label", None) and self._label_shapes:
                new_lshape = [DataDesc(d.name, tuple(x.shape), d.dtype, d.layout)
                              for d, x in zip(self._label_shapes, data_batch.label)]
            else:
                new_lshape = None
            self.reshape(new_dshape, new_lshape)
        arg_dict = self._exec.arg_dict
        pairs = list(zip(self._data_shapes, data_batch.data))
        if self._label_shapes is not None and getattr(data_batch, "label", None):
            pairs += list(zip(self._label_shapes, data_batch.label))
        values = []
        for d, x in pairs:
            v = x._data if isinstance(x, NDArray) else jnp.asarray(x)
            dst = arg_dict[d.name]
            if tuple(v.shape) != dst.shape:
                raise MXNetError(f"{d.name!r}: batch array of shape {tuple(v.shape)} does not "
                                 f"fit the bound shape {dst.shape}")
            values.append((dst, v))
        for dst, v in values:
            dst._data = v.astype(dst.dtype) if v.dtype != dst.dtype else v

    def _fit_step(self, data_batch):
        """``forward_backward`` and ``update`` as ONE compiled call (forward, vjp and the
        optimizer's functional core, parameters, auxiliary states and optimizer states
        donated) where the module and its optimizer are the built-in ones; else the two
        calls. The numbers are those of the two calls, bit for bit."""
        names = self._fusable_names()
        if names is None:
            super()._fit_step(data_batch)
            return
        self._load_batch(data_batch)
        arg_dict, grad_dict = self._exec.arg_dict, self._exec.grad_dict
        indices = [self._param_names.index(n) for n in names]
        weights = [arg_dict[n] for n in names]
        plan = self._updater.plan(indices, [grad_dict[n] for n in names], weights)
        try:
            if not self._owned:  # buffers others may hold: donate copies of them
                for box in weights + self._exec.aux_arrays:
                    box._data = jnp.array(box._data, copy=True)
                plan.state = jax.tree.map(
                    lambda x: jnp.array(x, copy=True) if isinstance(x, jax.Array) else x,
                    plan.state)
            new_w, new_state = self._exec.forward_backward_apply(
                names, plan.step, plan.state, plan.args, donate=True)
        except BaseException:
            plan.abort()
            raise
        plan.commit(new_w, new_state)
        self._params_dirty = True
        self._owned = True

    def _fusable_names(self):
        """The parameters ``update`` would step, when ``_fit_step`` can fuse the step
        (Module's own forward/backward/update, an optimizer on the built-in engine,
        gradients written, one context, no monitor, parameters not shared with another
        module, whose references the donation would invalidate); else None."""
        cls = type(self)
        if (cls.forward is not Module.forward or cls.backward is not Module.backward
                or cls.update is not Module.update
                or cls.forward_backward is not BaseModule.forward_backward
                or not self.optimizer_initialized or not self.for_training
                or not isinstance(self._updater, Updater) or not self._updater.runs_engine()
                or self._exec._monitor is not None or isinstance(self._exec, ExecutorGroup)
                or self._shares_params):
            return None
        ex = self._exec
        names = tuple(n for n in self._param_names if n in ex.grad_dict)
        if not names or any(n not in ex._diff or ex._grad_req[n] != "write" for n in names):
            return None
        return names

    def backward(self, out_grads=None):
        assert self.binded and self.params_initialized
        assert self.for_training, "re-bind with for_training=True to run backward"
        self._exec.backward(out_grads=out_grads)

    def update(self):
        """One optimizer step on every parameter with a gradient (one Updater call)."""
        assert self.binded and self.params_initialized and self.optimizer_initialized, \
            "update() needs bind(), init_params() and init_optimizer() first"
        self._params_dirty = True
        self._owned = False
        arg_dict, grad_dict = self._exec.arg_dict, self._exec.grad_dict
        indices, grads, weights = [], [], []
        for i, name in enumerate(self._param_names):
            if name not in grad_dict:
                continue
            indices.append(i)
            grads.append(grad_dict[name])
            weights.append(arg_dict[name])
        if indices:
            self._updater(indices, grads, weights)

    def get_outputs(self, merge_multi_context=True):
        assert self.binded and self.params_initialized
        if merge_multi_context:
            return self._exec.outputs
        execs = getattr(self._exec, "execs", [self._exec])
        return [[e.outputs[i] for e in execs] for i in range(len(execs[0].outputs))]

    def get_input_grads(self, merge_multi_context=True):
        assert self.binded and self.params_initialized and self.inputs_need_grad
        grads = self._exec.grad_dict
        out = [grads[n] for n in self._data_names]
        return out if merge_multi_context else [[g] for g in out]

    def get_states(self, merge_multi_context=True):
        assert self.binded and self.params_initialized
        out = [self._exec.arg_dict[n] for n in self._state_names]
        return out if merge_multi_context else [[s] for s in out]

    def set_states(self, states=None, value=None):
        assert self.binded and self.params_initialized
        for k, n in enumerate(self._state_names):
            dst = self._exec.arg_dict[n]
            if states is not None:
                src = states[k][0] if isinstance(states[k], (list, tuple)) else states[k]
                dst._data = src._data.astype(dst.dtype)
            else:
                dst._data = jnp.full(dst.shape, value, dst.dtype)

    def update_metric(self, eval_metric, labels, pre_sliced=False):
        """``eval_metric.update_dict({label name: label}, {output name: output})``."""
        from collections import OrderedDict
        if pre_sliced:
            labels = labels[0]
        label_names = [d.name for d in self._label_shapes] if self._label_shapes else []
        if not isinstance(self._exec, ExecutorGroup):
            labels_ = OrderedDict(zip(label_names, labels or []))
            preds = OrderedDict(zip(self._output_names, self._exec.outputs))
            eval_metric.update_dict(labels_, preds)
            return
        for ex, sl in zip(self._exec.execs, self._exec.slices):  # MXNet: one update per slice
            labels_ = OrderedDict((n, lab[sl]) for n, lab in zip(label_names, labels or []))
            preds = OrderedDict(zip(self._output_names, ex.outputs))
            eval_metric.update_dict(labels_, preds)

    # -- optimizer states ---------------------------------------------------------------------
    def save_optimizer_states(self, fname):
        """Write the optimizer states: MXNet's pickle where MXNet has the same states
        (SGD, NAG, Adam, AdaGrad, RMSProp; user optimizers with NDArray states), so real
        MXNet loads the file; else the shim's own format."""
        assert self.optimizer_initialized
        blob = mxnet_states.dumps_for_mxnet(self._updater)
        with open(fname, "wb") as fout:
            fout.write(blob if blob is not None else self._updater.get_states())

    def load_optimizer_states(self, fname):
        """Load states written by the shim, or by MXNet (its pickle, read without running
        code: known types only)."""
        assert self.optimizer_initialized
        self._owned = False
        if not os.path.isfile(fname):
            raise MXNetError(f"optimizer states file {fname!r} does not exist")
        with open(fname, "rb") as f:
            data = f.read()
        if mxnet_states.is_mxnet_pickle(data):
            arg_dict, grad_dict = self._exec.arg_dict, self._exec.grad_dict
            weights = {i: arg_dict[n] for i, n in enumerate(self._param_names) if n in grad_dict}
            mxnet_states.load_into_updater(self._updater, data, weights, fname)
        else:
            self._updater.set_states(data)

    def install_monitor(self, mon):
        """Install ``mon`` (an ``mx.monitor.Monitor``) on the executor of each context
        (``fit`` then runs the two calls, so that the monitor sees each forward pass)."""
        assert self.binded
        for ex in getattr(self._exec, "execs", [self._exec]):
            mon.install(ex)
