"""``mx.gluon.Trainer``: MXNet 1.9.1's Trainer over the shim's optimizer and Updater.

A single process, no kvstore: each context's copy of a parameter is updated by
that context's Updater with the summed (all-reduced) gradient, which is what
MXNet does with ``update_on_kvstore=False`` (and gives the same numbers as the
kvstore path). ``step`` passes every fresh parameter to the Updater as ONE list,
which runs ONE jitted update for all of them.
"""

from __future__ import annotations

import warnings

import jax

from optjax.compat.mxnet import optimizer as opt
from optjax.compat.mxnet.gluon.parameter import Parameter, ParameterDict

__all__ = ["Trainer"]


class Trainer:
    def __init__(self, params, optimizer, optimizer_params=None, kvstore="device",
                 compression_params=None, update_on_kvstore=None):
        param_list = []
        if isinstance(params, (dict, ParameterDict)):
            for key in sorted(list(params.keys())):
                param_list.append(params[key])
            params = param_list
        if not isinstance(params, (list, tuple)):
            raise ValueError("First argument must be a list or dict of Parameters, got %s."
                             % (type(params)))
        self._params = []
        self._param2idx = {}
        for i, param in enumerate(params):
            if not isinstance(param, Parameter):
                raise ValueError("First argument must be a list or dict of Parameters, "
                                 "got list of %s." % (type(param)))
            self._param2idx[param.name] = i
            self._params.append(param)
        self._compression_params = compression_params
        self._contexts = self._check_contexts()
        optimizer_params = optimizer_params if optimizer_params else {}
        self._init_optimizer(optimizer, optimizer_params)
        self._scale = self._optimizer.rescale_grad
        if update_on_kvstore:
            warnings.warn("update_on_kvstore is ignored by the optjax shim (no kvstore); the "
                          "per-context update gives the same numbers")
        self._kvstore = None
        self._update_on_kvstore = False

    def _check_contexts(self):
        contexts = None
        for param in self._params:
            ctx = param.list_ctx()
            assert contexts is None or contexts == ctx, \
                "All Parameters must be initialized on the same set of contexts, " \
                "but Parameter %s is initialized on %s while previous Parameters " \
                "are initialized on %s." % (param.name, str(ctx), str(contexts))
            contexts = ctx
        return contexts

    def _init_optimizer(self, optimizer, optimizer_params):
        param_dict = {i: param for i, param in enumerate(self._params)}
        if isinstance(optimizer, opt.Optimizer):
            assert not optimizer_params, \
                "optimizer_params must be None if optimizer is an instance of " \
                "Optimizer instead of str"
            self._optimizer = optimizer
            self._optimizer.param_dict = param_dict
        else:
            self._optimizer = opt.create(optimizer, param_dict=param_dict, **optimizer_params)
        self._updaters = [opt.get_updater(self._optimizer) for _ in self._contexts]

    @property
    def optimizer(self):
        return self._optimizer

    @property
    def learning_rate(self):
        if not isinstance(self._optimizer, opt.Optimizer):
            raise UserWarning("Optimizer has to be defined before its learning rate can be "
                              "accessed.")
        return self._optimizer.learning_rate

    def set_learning_rate(self, lr):
        if not isinstance(self._optimizer, opt.Optimizer):
            raise UserWarning("Optimizer has to be defined before its learning rate is mutated.")
        self._optimizer.set_learning_rate(lr)

    def _check_and_rescale_grad(self, scale):
        self._optimizer.rescale_grad = scale

    def step(self, batch_size, ignore_stale_grad=False):
        rescale_grad = self._scale / batch_size
        self._check_and_rescale_grad(rescale_grad)
        self._allreduce_grads()
        self._update(ignore_stale_grad)

    def allreduce_grads(self):
        self._allreduce_grads()

    def _allreduce_grads(self):
        """Sum each gradient over its contexts and give every context the sum
        (``kvstore='device'``): the copies are summed on the first context's device."""
        if len(self._contexts) <= 1:
            return
        for param in self._params:
            if param.grad_req == "null":
                continue
            grads = param.list_grad()
            first = param.list_ctx()[0].jax_device
            total = grads[0]._data
            for g in grads[1:]:
                total = total + jax.device_put(g._data, first)
            for g, ctx in zip(grads, param.list_ctx()):
                fresh = g._fresh_grad
                g._data = jax.device_put(total, ctx.jax_device)
                g._fresh_grad = fresh

    def update(self, batch_size, ignore_stale_grad=False):
        rescale_grad = self._scale / batch_size
        self._check_and_rescale_grad(rescale_grad)
        self._update(ignore_stale_grad)

    def _update(self, ignore_stale_grad=False):
        updates = [[] for _ in self._updaters]
        for i, param in enumerate(self._params):
            if param.grad_req == "null":
                continue
            grads = param.list_grad()
            if not ignore_stale_grad:
                for g in grads:
                    if not g._fresh_grad:
                        raise UserWarning(
                            "Gradient of Parameter `%s` on context %s has not been updated "
                            "by backward since last `step`. This could mean a bug in your "
                            "model that made it only use a subset of the Parameters (Blocks) "
                            "for this iteration. If you are intentionally only using a subset, "
                            "call step with ignore_stale_grad=True to suppress this warning "
                            "and skip updating of Parameters with stale gradient"
                            % (param.name, str(g.context)))
            else:
                if not all(g._fresh_grad for g in grads):
                    continue
            for upd, arr, grad in zip(updates, param.list_data(), grads):
                upd.append((i, grad, arr))
        for updater, upd in zip(self._updaters, updates):
            if upd:
                i, g, w = zip(*upd)
                updater(list(i), list(g), list(w))
        for upd in updates:
            for _, grad, _ in upd:
                grad._fresh_grad = False

    def save_states(self, fname):
        assert self._optimizer is not None
        with open(fname, "wb") as fout:
            fout.write(self._updaters[0].get_states(dump_optimizer=True))

    def load_states(self, fname):
        with open(fname, "rb") as f:
            states = f.read()
        for updater in self._updaters:
            updater.set_states(states)
            updater.optimizer = self._updaters[0].optimizer
        self._optimizer = self._updaters[0].optimizer
        param_dict = {i: param for i, param in enumerate(self._params)}
        self._optimizer.param_dict = param_dict
