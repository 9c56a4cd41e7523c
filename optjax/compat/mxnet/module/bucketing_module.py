"""``mx.mod.BucketingModule``: MXNet 1.9.1's module of several symbols that share parameters
(``module/bucketing_module.py``).

``sym_gen(bucket_key) -> (symbol, data_names, label_names)`` makes the symbol of a
bucket; ``bind`` binds the default bucket's :class:`Module`, and a batch with another
``bucket_key`` binds that bucket's module with ``shared_module`` set to the default one,
so every bucket reads and updates the same parameter arrays and uses the same optimizer
(``borrow_optimizer``). Each bucket's module compiles its own step.

``save_checkpoint(prefix, epoch)`` writes MXNet's files: ``prefix-%04d.params``, one
``prefix-<key>-symbol.json`` per bound bucket and ``prefix.buckets`` (the keys, int32);
``BucketingModule.load(prefix, epoch, sym_gen, default_bucket_key)`` reads them (from the
shim or from real MXNet) into an unbound module whose parameters the next ``bind`` sets.

Example:
    >>> import optjax.compat.mxnet as mx
    >>> def sym_gen(key):
    ...     data = mx.sym.Variable("data")
    ...     emb = mx.sym.Embedding(data, input_dim=10, output_dim=4, name="emb")
    ...     fc = mx.sym.FullyConnected(mx.sym.sum(emb, axis=1), num_hidden=3, name="fc")
    ...     return mx.sym.SoftmaxOutput(fc, name="softmax"), ("data",), ("softmax_label",)
    >>> mod = mx.mod.BucketingModule(sym_gen, default_bucket_key=5)
    >>> mod.bind(data_shapes=[("data", (2, 5))], label_shapes=[("softmax_label", (2,))])
    >>> mod.init_params()
    >>> batch = mx.io.DataBatch([mx.nd.ones((2, 3))], [mx.nd.zeros(2)], bucket_key=3,
    ...                         provide_data=[("data", (2, 3))],
    ...                         provide_label=[("softmax_label", (2,))])
    >>> mod.forward(batch, is_train=False)
    >>> mod.get_outputs()[0].shape
    (2, 3)
"""

from __future__ import annotations

import logging
import warnings

import numpy as np

from optjax.compat.mxnet.context import cpu
from optjax.compat.mxnet.initializer import Uniform
from optjax.compat.mxnet.module.base_module import BaseModule
from optjax.compat.mxnet.module.module import Module, _check_input_names
from optjax.compat.mxnet.symbol.naming import NameManager

__all__ = ["BucketingModule"]


class BucketingModule(BaseModule):
    """Modules for the buckets ``sym_gen`` makes, sharing the default bucket's parameters."""

    def __init__(self, sym_gen, default_bucket_key=None, logger=logging, context=None,
                 work_load_list=None, fixed_param_names=None, state_names=None,
                 group2ctxs=None, compression_params=None):
        super().__init__(logger=logger)
        if default_bucket_key is None:
            raise ValueError("BucketingModule: default_bucket_key must be given")
        self._default_bucket_key = default_bucket_key
        self._sym_gen = sym_gen
        symbol, data_names, label_names = self._call_sym_gen(default_bucket_key)
        label_names = list(label_names) if label_names is not None else []
        state_names = list(state_names) if state_names is not None else []
        fixed_param_names = list(fixed_param_names) if fixed_param_names is not None else []
        _check_input_names(symbol, list(data_names or []), "data", True)
        _check_input_names(symbol, label_names, "label", False)
        _check_input_names(symbol, state_names, "state", True)
        _check_input_names(symbol, fixed_param_names, "fixed_param", True)
        self._fixed_param_names = fixed_param_names
        self._state_names = state_names
        self._context = cpu() if context is None else context
        self._work_load_list = work_load_list
        self._buckets = {}
        self._curr_module = None
        self._curr_bucket_key = None
        self._params_dirty = False
        self._grad_req = None
        self._monitor = None

    # -- checkpoints --------------------------------------------------------------------------
    def save_checkpoint(self, prefix: str, epoch: int, remove_amp_cast: bool = False) -> None:
        """Write ``prefix-%04d.params``, ``prefix-<key>-symbol.json`` for every bucket and
        ``prefix.buckets``, as MXNet 1.9.1 (which calls ``sym_gen`` outside a fresh
        ``NameManager`` here, so auto-named nodes take the global counter's names)."""
        from optjax.compat.mxnet import ndarray as nd
        assert len(self._buckets) > 0, "Empty BucketingModule cannot be saved"
        self.save_params("%s-%04d.params" % (prefix, epoch))
        for bucket_key in self._buckets:
            symbol, _, _ = self._sym_gen(bucket_key)
            symbol.save("%s-%s-symbol.json" % (prefix, bucket_key),
                        remove_amp_cast=remove_amp_cast)
        nd.save("%s.buckets" % prefix, nd.array(list(self._buckets.keys()), dtype=np.int32))

    @staticmethod
    def load(prefix: str, epoch: int, sym_gen=None, default_bucket_key=None, **kwargs):
        """A BucketingModule with the buckets' symbols and the parameters of checkpoint
        ``prefix``/``epoch`` (``kwargs`` go to the constructor and each bucket's Module)."""
        import os

        from optjax.compat.mxnet import ndarray as nd
        from optjax.compat.mxnet import symbol as sym
        from optjax.compat.mxnet.base import MXNetError
        from optjax.compat.mxnet.model import load_params
        assert sym_gen is not None, "sym_gen is required for loading BucketingModule"
        assert default_bucket_key is not None, \
            "default_bucket_key is required for loading BucketingModule"
        fname = "%s.buckets" % prefix
        if not os.path.isfile(fname):
            raise MXNetError(f"bucket keys file {fname!r} does not exist (prefix {prefix!r})")
        buckets = [int(k) for k in nd.load(fname)[0].asnumpy().astype("int32")]
        symbols = {}
        for bucket_key in buckets:
            sname = "%s-%s-symbol.json" % (prefix, bucket_key)
            if not os.path.isfile(sname):
                raise MXNetError(f"bucket symbol file {sname!r} does not exist")
            symbols[bucket_key] = sym.load(sname)
        arg_params, aux_params = load_params(prefix, epoch)
        mod = BucketingModule(sym_gen, default_bucket_key, **kwargs)
        for bucket_key, symbol in symbols.items():
            _, data_names, label_names = sym_gen(bucket_key)
            mod._buckets[bucket_key] = Module(symbol, data_names, label_names, **kwargs)
        return mod._preloaded(arg_params, aux_params)

    @staticmethod
    def load_dict(sym_dict=None, sym_gen=None, default_bucket_key=None, arg_params=None,
                  aux_params=None, **kwargs):
        """A BucketingModule of the symbols ``{bucket_key: symbol}`` and these parameters
        (as MXNet, each bucket takes the default bucket's data and label names)."""
        assert sym_dict is not None, \
            "sym_dict needs to be provided for BucketingModule.load_dict"
        assert arg_params is not None, \
            "arg_params need to be provided for BucketingModule.load_dict"
        assert aux_params is not None, \
            "aux_params need to be provided for BucketingModule.load_dict"
        assert default_bucket_key is not None, \
            "default_bucket_key needs to be provided for BucketingModule.load_dict"
        mod = BucketingModule(sym_gen, default_bucket_key, **kwargs)
        for bucket_key, symbol in sym_dict.items():
            _, data_names, label_names = sym_gen(default_bucket_key)
            mod._buckets[bucket_key] = Module(symbol, data_names, label_names, **kwargs)
        return mod._preloaded(arg_params, aux_params)

    def _preloaded(self, arg_params, aux_params):
        """Give the default bucket's module these parameters, to be set on ``bind``."""
        module = self._buckets.get(self._default_bucket_key)
        if module is None:
            raise ValueError(f"BucketingModule: the checkpoint has no default bucket "
                             f"{self._default_bucket_key!r} (it has {sorted(self._buckets)})")
        self._curr_module = module
        module._arg_params = arg_params
        module._aux_params = aux_params
        module.params_initialized = True
        self.params_initialized = True
        return self

    def _call_sym_gen(self, key):
        with NameManager():
            return self._sym_gen(key)

    def _new_module(self, key):
        symbol, data_names, label_names = self._call_sym_gen(key)
        return Module(symbol, data_names, label_names, logger=self.logger,
                      context=self._context, work_load_list=self._work_load_list,
                      fixed_param_names=self._fixed_param_names, state_names=self._state_names)

    def _reset_bind(self):
        self.binded = False
        self._buckets = {}
        self._curr_module = None
        self._curr_bucket_key = None

    # -- properties ---------------------------------------------------------------------------
    @property
    def data_names(self):
        if self.binded:
            return self._curr_module.data_names
        return self._call_sym_gen(self._default_bucket_key)[1]

    @property
    def output_names(self):
        if self.binded:
            return self._curr_module.output_names
        return self._call_sym_gen(self._default_bucket_key)[0].list_outputs()

    @property
    def data_shapes(self):
        assert self.binded
        return self._curr_module.data_shapes

    @property
    def label_shapes(self):
        assert self.binded
        return self._curr_module.label_shapes

    @property
    def output_shapes(self):
        assert self.binded
        return self._curr_module.output_shapes

    @property
    def symbol(self):
        assert self.binded
        return self._curr_module.symbol

    # -- parameters ---------------------------------------------------------------------------
    def get_params(self):
        assert self.params_initialized
        self._curr_module._params_dirty = self._params_dirty
        params = self._curr_module.get_params()
        self._params_dirty = False
        return params

    def set_params(self, arg_params, aux_params, allow_missing=False, force_init=True,
                   allow_extra=False):
        if not allow_missing:
            self.init_params(initializer=None, arg_params=arg_params, aux_params=aux_params,
                             allow_missing=allow_missing, force_init=force_init)
            return
        if self.params_initialized and not force_init:
            warnings.warn("Parameters already initialized and force_init=False. "
                          "set_params call ignored.", stacklevel=2)
            return
        self._curr_module.set_params(arg_params, aux_params, allow_missing=allow_missing,
                                     force_init=force_init, allow_extra=allow_extra)
        self._params_dirty = True
        self.params_initialized = True

    def init_params(self, initializer=Uniform(0.01), arg_params=None, aux_params=None,
                    allow_missing=False, force_init=False, allow_extra=False):
        if self.params_initialized and not force_init:
            return
        assert self.binded, "call bind before initializing the parameters"
        self._curr_module.init_params(initializer=initializer, arg_params=arg_params,
                                      aux_params=aux_params, allow_missing=allow_missing,
                                      force_init=force_init, allow_extra=allow_extra)
        self._params_dirty = False
        self.params_initialized = True

    def get_states(self, merge_multi_context=True):
        assert self.binded and self.params_initialized
        return self._curr_module.get_states(merge_multi_context=merge_multi_context)

    def set_states(self, states=None, value=None):
        assert self.binded and self.params_initialized
        self._curr_module.set_states(states, value)

    # -- binding ------------------------------------------------------------------------------
    def bind(self, data_shapes, label_shapes=None, for_training=True, inputs_need_grad=False,
             force_rebind=False, shared_module=None, grad_req="write"):
        """Bind the default bucket's module (the others bind in ``switch_bucket``)."""
        if self.params_initialized:
            arg_params, aux_params = self.get_params()
        if force_rebind:
            self._reset_bind()
        if self.binded:
            self.logger.warning("Already bound, ignoring bind()")
            return
        if shared_module is not None:
            raise ValueError("shared_module for BucketingModule is not supported")
        module = self._buckets.get(self._default_bucket_key) or \
            self._new_module(self._default_bucket_key)
        module.bind(data_shapes, label_shapes, for_training, inputs_need_grad,
                    force_rebind=False, shared_module=None, grad_req=grad_req)
        self.for_training = for_training
        self.inputs_need_grad = inputs_need_grad
        self._grad_req = grad_req
        self.binded = True
        self._curr_module = module
        self._curr_bucket_key = self._default_bucket_key
        self._buckets[self._default_bucket_key] = module
        if self.params_initialized:
            self.set_params(arg_params, aux_params)

    def switch_bucket(self, bucket_key, data_shapes, label_shapes=None):
        """Make ``bucket_key``'s module current, binding it (sharing the default bucket's
        parameters and optimizer) the first time."""
        assert self.binded, "call bind before switching bucket"
        module = self._buckets.get(bucket_key)
        if module is None or not module.binded:
            module = module or self._new_module(bucket_key)
            module.bind(data_shapes, label_shapes, self._curr_module.for_training,
                        self._curr_module.inputs_need_grad, force_rebind=False,
                        shared_module=self._buckets[self._default_bucket_key],
                        grad_req=self._grad_req)
            if self._monitor is not None:
                module.install_monitor(self._monitor)
            self._buckets[bucket_key] = module
        self._curr_module = module
        self._curr_bucket_key = bucket_key

    # -- optimizer and computation ------------------------------------------------------------
    def init_optimizer(self, kvstore="local", optimizer="sgd",
                       optimizer_params=(("learning_rate", 0.01),), force_init=False):
        assert self.binded and self.params_initialized
        if self.optimizer_initialized and not force_init:
            self.logger.warning("optimizer already initialized, ignoring.")
            return
        self._curr_module.init_optimizer(kvstore, optimizer, optimizer_params,
                                         force_init=force_init)
        for mod in self._buckets.values():
            if mod is not self._curr_module:
                mod.borrow_optimizer(self._curr_module)
        self.optimizer_initialized = True

    def prepare(self, data_batch, sparse_row_id_fn=None):
        """Bind the batch's bucket ahead of time (then switch back, as MXNet)."""
        assert self.binded and self.params_initialized
        original = self._curr_bucket_key
        self.switch_bucket(data_batch.bucket_key, data_batch.provide_data,
                           data_batch.provide_label)
        self._curr_module.prepare(data_batch, sparse_row_id_fn=sparse_row_id_fn)
        self.switch_bucket(original, None, None)

    def forward(self, data_batch, is_train=None):
        assert self.binded and self.params_initialized
        self.switch_bucket(data_batch.bucket_key, data_batch.provide_data,
                           data_batch.provide_label)
        self._curr_module.forward(data_batch, is_train=is_train)

    def backward(self, out_grads=None):
        assert self.binded and self.params_initialized
        self._curr_module.backward(out_grads=out_grads)

    def update(self):
        assert self.binded and self.params_initialized and self.optimizer_initialized
        self._params_dirty = True
        self._curr_module.update()

    def get_outputs(self, merge_multi_context=True):
        assert self.binded and self.params_initialized
        return self._curr_module.get_outputs(merge_multi_context=merge_multi_context)

    def get_input_grads(self, merge_multi_context=True):
        assert self.binded and self.params_initialized and self.inputs_need_grad
        return self._curr_module.get_input_grads(merge_multi_context=merge_multi_context)

    def update_metric(self, eval_metric, labels, pre_sliced=False):
        assert self.binded and self.params_initialized
        self._curr_module.update_metric(eval_metric, labels, pre_sliced)

    def install_monitor(self, mon):
        """Install ``mon`` on every bucket's module (and on buckets bound later)."""
        assert self.binded
        self._monitor = mon
        for mod in self._buckets.values():
            mod.install_monitor(mon)
