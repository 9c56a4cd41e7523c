"""``mx.optimizer``: MXNet 1.9.1's stateful ``Optimizer`` API over optjax's recipes.

The ``Optimizer`` base reproduces MXNet's bookkeeping (registry, lr/wd
multipliers and their priorities, per-index update counts, ``num_update``,
schedulers, ``multi_precision``); every built-in class is a thin configuration
of :func:`optjax.compat.mxnet.recipes.build`, the functional core that
reproduces MXNet's ``update()``. The shim never re-implements an update rule:
each update runs the recipe's transform inside ONE jitted function per
(optimizer configuration, list of shapes and dtypes), with the learning rates,
weight decays and ``rescale_grad`` as traced arguments (a changing learning
rate never recompiles) and the step counts in the state. An :class:`Updater`
given lists of indices (as ``gluon.Trainer`` passes them) updates them all in
one call.

User subclasses that implement ``create_state`` and ``update`` with in-place
NDArray arithmetic run as written (MXNet's documented extension point).
"""

from __future__ import annotations

import functools
import os
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from optjax.compat.mxnet import recipes
from optjax.compat.mxnet import states as _states
from optjax.compat.mxnet.ndarray import NDArray, MXNetError, zeros, cast  # noqa: F401

__all__ = [
    "Optimizer", "Updater", "get_updater", "create", "register", "SGD", "ccSGD", "NAG", "RMSProp",
    "Adam", "AdaGrad", "AdaDelta", "Adamax", "Nadam", "DCASGD", "SGLD", "Signum", "FTML", "LBSGD",
    "Ftrl", "LAMB", "LARS", "GroupAdaGrad", "Test",
]


class Optimizer:
    """MXNet's optimizer base class (``optimizer.py:52-519`` of 1.9.1)."""

    opt_registry: dict = {}

    def __init__(self, rescale_grad=1., param_idx2name=None, wd=0., clip_gradient=None,
                 learning_rate=None, lr_scheduler=None, sym=None, begin_num_update=0,
                 multi_precision=False, param_dict=None):
        self.rescale_grad = rescale_grad
        if lr_scheduler is None and learning_rate is None:
            learning_rate = 0.01
        self.lr = learning_rate
        self.lr_scheduler = lr_scheduler
        if lr_scheduler is not None and learning_rate is not None:
            if lr_scheduler.base_lr != learning_rate:
                print(UserWarning("learning rate from ``lr_scheduler`` has been overwritten by "
                                  "``learning_rate`` in optimizer."))
                lr_scheduler.base_lr = learning_rate
        self.wd = wd
        self.lr_mult = {}
        self.wd_mult = {}
        self.begin_num_update = begin_num_update
        self.num_update = begin_num_update
        self._all_index_update_counts = {0: {}}
        self._index_update_count = self._all_index_update_counts[0]
        self.clip_gradient = clip_gradient
        self.multi_precision = multi_precision
        self.aggregate_num = 0
        if param_idx2name is None:
            param_idx2name = {}
        assert isinstance(param_idx2name, dict), \
            "param_idx2name should be a dict of param indexes to names."
        self.idx2name = param_idx2name.copy()
        self.sym_info = (sym.attr_dict(), sym.list_arguments()) if sym is not None else ()
        self.param_dict = param_dict if param_dict else {}
        self.allow_np_array = False
        self.set_lr_mult({})
        self.set_wd_mult({})

    # -- registry ------------------------------------------------------------------------
    @staticmethod
    def register(klass):
        assert isinstance(klass, type)
        name = klass.__name__.lower()
        if name in Optimizer.opt_registry:
            warnings.warn("WARNING: New optimizer %s.%s is overriding existing optimizer %s.%s"
                          % (klass.__module__, klass.__name__,
                             Optimizer.opt_registry[name].__module__,
                             Optimizer.opt_registry[name].__name__))
        Optimizer.opt_registry[name] = klass
        return klass

    @staticmethod
    def create_optimizer(name, **kwargs):
        if name.lower() in Optimizer.opt_registry:
            return Optimizer.opt_registry[name.lower()](**kwargs)
        raise ValueError("Cannot find optimizer %s; registered optimizers: %s"
                         % (name, ", ".join(sorted(Optimizer.opt_registry))))

    # -- learning rate -------------------------------------------------------------------
    @property
    def learning_rate(self):
        if self.lr_scheduler is not None:
            return self.lr_scheduler(self.num_update)
        return self.lr

    def set_learning_rate(self, lr):
        if self.lr_scheduler is not None:
            raise UserWarning("LRScheduler of the optimizer has already been defined. Note that "
                              "set_learning_rate can mutate the value of the learning rate of "
                              "the optimizer only when the LRScheduler of the optimizer is "
                              "undefined.")
        self.lr = lr

    def set_lr_scale(self, args_lrscale):
        raise DeprecationWarning

    def set_lr_mult(self, args_lr_mult):
        self.lr_mult = self._sym_mults("__lr_mult__")
        self.lr_mult.update(args_lr_mult)

    def _sym_mults(self, key):
        """``{name: float}`` from the symbol's ``__lr_mult__``/``__wd_mult__`` attributes."""
        if not self.sym_info:
            return {}
        attr, arg_names = self.sym_info
        return {n: float(attr[n][key]) for n in arg_names if n in attr and key in attr[n]}

    def set_wd_mult(self, args_wd_mult):
        self.wd_mult = {}
        for n in self.idx2name.values():
            if not (n.endswith("_weight") or n.endswith("_gamma")):
                self.wd_mult[n] = 0.0
        self.wd_mult.update(self._sym_mults("__wd_mult__"))
        self.wd_mult.update(args_wd_mult)

    def _set_current_context(self, device_id):
        if device_id not in self._all_index_update_counts:
            self._all_index_update_counts[device_id] = {}
        self._index_update_count = self._all_index_update_counts[device_id]

    def _update_count(self, index):
        if not isinstance(index, (list, tuple)):
            index = [index]
        for idx in index:
            if idx not in self._index_update_count:
                self._index_update_count[idx] = self.begin_num_update
            self._index_update_count[idx] += 1
            self.num_update = max(self._index_update_count[idx], self.num_update)

    def _scaled(self, base, indices, attr, mults):
        """``base`` times each index's multiplier: Parameter > index key > name key."""
        out = []
        for index in indices:
            if index in self.param_dict:
                m = getattr(self.param_dict[index], attr)
            elif index in mults:
                m = mults[index]
            elif index in self.idx2name:
                m = mults.get(self.idx2name[index], 1.0)
            else:
                m = 1.0
            out.append(base * m)
        return out

    def _get_lrs(self, indices):
        lr = self.lr_scheduler(self.num_update) if self.lr_scheduler is not None else self.lr
        return self._scaled(lr, indices, "lr_mult", self.lr_mult)

    def _get_lr(self, index):
        return self._get_lrs([index])[0]

    def _get_wds(self, indices):
        return self._scaled(self.wd, indices, "wd_mult", self.wd_mult)

    def _get_wd(self, index):
        return self._get_wds([index])[0]

    # -- states and updates (user subclasses override create_state / update) -------------
    def create_state(self, index, weight):
        """Override in a subclass: the auxiliary state for ``weight`` (None, NDArray, tuple)."""

    def create_state_multi_precision(self, index, weight):
        weight_master_copy = None
        if self.multi_precision and weight.dtype == np.float16:
            weight_master_copy = weight.astype(np.float32)
            return (weight_master_copy,) + (self.create_state(index, weight_master_copy),)
        if weight.dtype == np.float16 and not self.multi_precision:
            warnings.warn("Accumulating with float16 in optimizer can lead to poor accuracy or "
                          "slow convergence. Consider using multi_precision=True option of the "
                          "optimizer")
        return self.create_state(index, weight)

    def update(self, index, weight, grad, state):
        raise NotImplementedError()

    def update_multi_precision(self, index, weight, grad, state):
        if self.multi_precision and weight.dtype == np.float16:
            weight_master_copy = state[0]
            original_state = state[1]
            grad32 = grad.astype(np.float32)
            self.update(index, weight_master_copy, grad32, original_state)
            cast(weight_master_copy, dtype=weight.dtype).copyto(weight)
        else:
            self.update(index, weight, grad, state)

    def __getstate__(self):
        ret = self.__dict__.copy()
        del ret["param_dict"]
        return ret

    def __setstate__(self, state):
        self.__dict__ = state
        self.param_dict = {}

    def _param_name(self, index):
        if index in self.param_dict:
            return getattr(self.param_dict[index], "name", str(index))
        return self.idx2name.get(index, str(index))


register = Optimizer.register
create = Optimizer.create_optimizer


# ---------------------------------------------------------------------------------------
# Built-in classes: thin configurations of the recipes, one jitted core per configuration.


class RecipeState:
    """The state of a built-in optimizer for one index: a mutable holder of the recipe's
    state pytree (``tree``); with ``multi_precision`` on a float16 weight, ``tree`` is
    ``(float32 master copy, recipe state)``. Updates replace ``tree`` in place."""

    __slots__ = ("tree", "mp")

    def __init__(self, tree, mp=False):
        self.tree = tree
        self.mp = mp

    def __repr__(self):
        return f"RecipeState(mp={self.mp}, tree={self.tree!r})"


jax.tree_util.register_pytree_node(
    RecipeState, lambda s: ((s.tree,), s.mp), lambda mp, c: RecipeState(c[0], mp))


def _set_counts(tree, value):
    """A copy of ``tree`` whose NamedTuple ``count`` fields are ``value`` (begin_num_update)."""
    def walk(s):
        if isinstance(s, tuple) and hasattr(s, "_fields"):
            kw = {f: walk(getattr(s, f)) for f in s._fields}
            if "count" in kw and kw["count"] is not None:
                kw["count"] = jnp.full_like(kw["count"], value)
            return type(s)(**kw)
        if isinstance(s, (tuple, list)):
            return type(s)(walk(x) for x in s)
        return s
    return walk(tree)


_JIT_CACHE: dict = {}


def _core(name, clip, kwargs):
    """The jitted update for one optimizer configuration (cached; shapes retrace inside jit)."""
    key = (name, clip, kwargs)
    fn = _JIT_CACHE.get(key)
    if fn is not None:
        return fn
    kw = dict(kwargs)
    if name == "sgld":
        kw["key"] = jax.random.PRNGKey(0)  # the state carries the real key (see create_state)
    nadam = name == "nadam"

    def step(weights, grads, trees, lrs, wds, rescale, m_schedule, moms, *, mps, pnames):
        new_w, new_t = [], []
        for i, (w, g, tree) in enumerate(zip(weights, grads, trees)):
            extra = {"param_name": pnames[i]} if pnames is not None else {}
            if moms is not None:  # LARS: this index's (corrected) momentum, traced
                extra["momentum"] = moms[i]
            tx = recipes.build(name, learning_rate=lrs[i], wd=wds[i], rescale_grad=rescale,
                               clip_gradient=clip, **{**kw, **extra})
            if mps[i]:
                master, inner = tree
                if nadam:
                    inner = recipes.set_m_schedule(inner, m_schedule)
                upd, inner = tx.update(g.astype(jnp.float32), inner, master)
                if nadam:
                    m_schedule = recipes.get_m_schedule(inner)
                master = master + upd
                new_w.append(master.astype(w.dtype))
                new_t.append((master, inner))
            else:
                if nadam:
                    tree = recipes.set_m_schedule(tree, m_schedule)
                upd, tree = tx.update(g, tree, w)
                if nadam:
                    m_schedule = recipes.get_m_schedule(tree)
                new_w.append((w + upd).astype(w.dtype))
                new_t.append(tree)
        return new_w, new_t, m_schedule

    fn = jax.jit(step, static_argnames=("mps", "pnames"))
    _JIT_CACHE[key] = fn
    return fn


class _RecipeOptimizer(Optimizer):
    """Base of the built-in classes. Subclasses set ``_recipe`` and ``_own`` (their own
    constructor arguments and MXNet's defaults, in MXNet's positional order)."""

    _recipe: str = ""
    _own: tuple = ()                 # ((name, default), ...)
    _lr_default = None               # passed to the base class as MXNet does
    _ignored = ("lazy_update",)      # accepted, no effect on dense math
    _lr_before_count = False         # LBSGD reads the lr before counting
    _lr_per_chunk = False            # LARS: the Updater's chunks each count and read the lr

    def __init__(self, *args, **kwargs):
        names = [n for n, _ in self._own]
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__}() takes at most {len(names)} positional "
                            f"arguments ({len(args)} given)")
        for n, a in zip(names, args):
            if n in kwargs:
                raise TypeError(f"{type(self).__name__}() got multiple values for argument {n!r}")
            kwargs[n] = a
        own = {}
        for n, default in self._own:
            own[n] = kwargs.pop(n, default)
        if "learning_rate" in own:
            kwargs["learning_rate"] = own.pop("learning_rate")
        elif self._lr_default is not None:
            kwargs.setdefault("learning_rate", self._lr_default)
        super().__init__(**kwargs)
        for n, v in own.items():
            setattr(self, n, v)
        self._own_names = tuple(n for n in own if n not in self._ignored)
        self.m_schedule = 1.0 if self._recipe == "nadam" else None
        self._sgld_seed = 0

    # the recipe's own kwargs, read live from the attributes (static for jit)
    def _recipe_kwargs(self):
        kw = []
        for n in self._own_names:
            v = getattr(self, n)
            if n in ("multi_precision",):
                continue
            kw.append((n, v))
        return tuple(kw)

    def _build(self, lr=0.01, wd=0.0, pname=None):
        extra = {"param_name": pname} if self._recipe == "lars" else {}
        kw = dict(self._recipe_kwargs())
        if self._recipe == "sgld":
            from optjax.compat.mxnet.ndarray import random as _random
            kw["key"] = _random.next_key()
        return recipes.build(self._recipe, learning_rate=lr, wd=wd, rescale_grad=1.0,
                             clip_gradient=self.clip_gradient, **kw, **extra)

    def _check_config(self):
        if self._recipe == "groupadagrad" and self.wd != 0:
            raise AssertionError("Weight decay is not supported for GroupAdaGrad")

    def _init_tree(self, index, data):
        """The core transform's state for ``data``, counting from ``begin_num_update``."""
        tree = self._build(pname=self._param_name(index)).init(data)
        if self.begin_num_update and self._recipe != "lbsgd":
            tree = _set_counts(tree, self.begin_num_update)
        return tree

    def create_state(self, index, weight):
        return RecipeState(self._init_tree(index, weight._data))

    def create_state_multi_precision(self, index, weight):
        if self.multi_precision and weight.dtype == np.float16:
            master = weight._data.astype(jnp.float32)
            return RecipeState((master, self._init_tree(index, master)), mp=True)
        return super().create_state_multi_precision(index, weight)  # the float16 warning, then create_state

    def update(self, index, weight, grad, state):
        self._fused(index, weight, grad, state)

    def update_multi_precision(self, index, weight, grad, state):
        self._fused(index, weight, grad, state)

    def _validate(self, indices, weights, grads, states):
        for i, w, g, s in zip(indices, weights, grads, states):
            if not isinstance(w, NDArray) or not isinstance(g, NDArray):
                raise TypeError(f"parameter {self._param_name(i)!r}: weight and grad must be "
                                f"NDArrays, got {type(w).__name__} and {type(g).__name__}")
            if g.dtype != w.dtype:
                raise TypeError(
                    f"parameter {self._param_name(i)!r} (index {i!r}): gradient dtype "
                    f"{np.dtype(g.dtype).name} differs from weight dtype "
                    f"{np.dtype(w.dtype).name}; nothing was updated")
            if g.shape != w.shape:
                raise ValueError(
                    f"parameter {self._param_name(i)!r} (index {i!r}): gradient shape "
                    f"{g.shape} differs from weight shape {w.shape}; nothing was updated")
            if not isinstance(s, RecipeState):
                raise TypeError(f"parameter {self._param_name(i)!r}: state was not created by "
                                f"{type(self).__name__}.create_state")

    def _chunk_momentum(self):
        """The momentum of the current ``_get_lrs`` chunk (LARS overrides: correction)."""
        return None

    def _fused(self, index, weight, grad, state, chunks=None):
        """Update one index or lists of indices in ONE jitted call.

        ``chunks`` (lists of positions into the indices, in MXNet's call order)
        are the separate ``update_multi_precision`` calls MXNet's Updater would
        make: each counts its indices and reads the lr (and, for LARS, the
        corrected momentum) before the next; default: one call with everything."""
        if isinstance(index, (list, tuple)):
            indices, weights, grads, states = list(index), list(weight), list(grad), list(state)
        else:
            indices, weights, grads, states = [index], [weight], [grad], [state]
        self._validate(indices, weights, grads, states)
        self._check_config()
        if chunks is None:
            chunks = [list(range(len(indices)))]
        lrs = [0.0] * len(indices)
        moms = [0.0] * len(indices)
        has_mom = False
        for chunk in chunks:
            cidx = [indices[j] for j in chunk]
            if self._lr_before_count:  # LBSGD: each index reads the lr, then counts
                clrs = []
                for i in cidx:
                    clrs.append(self._get_lr(i))
                    self._update_count(i)
            else:
                self._update_count(cidx)
                clrs = self._get_lrs(cidx)
            mom = self._chunk_momentum()
            for j, lr in zip(chunk, clrs):
                lrs[j] = lr
                if mom is not None:
                    moms[j] = mom
                    has_mom = True
        wds = self._get_wds(indices)
        kw = self._recipe_kwargs()
        fn = _core(self._recipe, self.clip_gradient, kw)
        pnames = (tuple(self._param_name(i) for i in indices) if self._recipe == "lars" else None)
        mps = tuple(s.mp for s in states)
        msched = np.float32(self.m_schedule if self.m_schedule is not None else 1.0)
        new_w, new_t, msched = fn([w._data for w in weights], [g._data for g in grads],
                                  [s.tree for s in states], np.asarray(lrs, np.float32),
                                  np.asarray(wds, np.float32), np.float32(self.rescale_grad),
                                  msched, np.asarray(moms, np.float32) if has_mom else None,
                                  mps=mps, pnames=pnames)
        for w, s, nw, nt in zip(weights, states, new_w, new_t):
            w._data = nw
            s.tree = nt
        if self.m_schedule is not None:
            self.m_schedule = float(msched)


def _builtin(name, recipe, own, lr_default=None, doc="", **attrs):
    cls = type(name, (_RecipeOptimizer,), {
        "_recipe": recipe, "_own": tuple(own), "_lr_default": lr_default,
        "__doc__": doc or f"MXNet 1.9.1 ``{name}`` via ``recipes.build({recipe!r}, ...)``.",
        "__module__": __name__, **attrs})
    return Optimizer.register(cls)


SGD = _builtin("SGD", "sgd", [("momentum", 0.0), ("lazy_update", True)])
ccSGD = _builtin("ccSGD", "ccsgd", [("momentum", 0.0), ("lazy_update", True)])
Signum = _builtin("Signum", "signum", [("learning_rate", 0.01), ("momentum", 0.9), ("wd_lh", 0.0)])
FTML = _builtin("FTML", "ftml", [("beta1", 0.6), ("beta2", 0.999), ("epsilon", 1e-8)])
NAG = _builtin("NAG", "nag", [("momentum", 0.0)])
SGLD = _builtin("SGLD", "sgld", [])
Adam = _builtin("Adam", "adam", [("learning_rate", 0.001), ("beta1", 0.9), ("beta2", 0.999),
                                 ("epsilon", 1e-8), ("lazy_update", True)])
AdaGrad = _builtin("AdaGrad", "adagrad", [("eps", 1e-7)])
RMSProp = _builtin("RMSProp", "rmsprop", [("learning_rate", 0.001), ("gamma1", 0.9),
                                          ("gamma2", 0.9), ("epsilon", 1e-8), ("centered", False),
                                          ("clip_weights", None)])
AdaDelta = _builtin("AdaDelta", "adadelta", [("rho", 0.90), ("epsilon", 1e-5)])
Adamax = _builtin("Adamax", "adamax", [("learning_rate", 0.002), ("beta1", 0.9), ("beta2", 0.999)])
Nadam = _builtin("Nadam", "nadam", [("learning_rate", 0.001), ("beta1", 0.9), ("beta2", 0.999),
                                    ("epsilon", 1e-8), ("schedule_decay", 0.004)])
DCASGD = _builtin("DCASGD", "dcasgd", [("momentum", 0.0), ("lamda", 0.04)])
LAMB = _builtin("LAMB", "lamb", [("learning_rate", 0.001), ("beta1", 0.9), ("beta2", 0.999),
                                 ("epsilon", 1e-6), ("lower_bound", None), ("upper_bound", None),
                                 ("bias_correction", True)])
GroupAdaGrad = _builtin("GroupAdaGrad", "groupadagrad", [("eps", 1e-5)])
LBSGD = _builtin("LBSGD", "lbsgd", [("momentum", 0.0), ("multi_precision", False),
                                    ("warmup_strategy", "linear"), ("warmup_epochs", 5),
                                    ("batch_scale", 1), ("updates_per_epoch", 32),
                                    ("begin_epoch", 0), ("num_epochs", 60)],
                 _lr_before_count=True)


class Ftrl(_RecipeOptimizer):
    """MXNet ``Ftrl``: ``learning_rate`` is not forwarded to the base class (a scheduler's
    ``base_lr`` is kept) and ``self.lr`` is set afterwards."""

    _recipe = "ftrl"
    _own = (("lamda1", 0.01), ("learning_rate", 0.1), ("beta", 1))

    def __init__(self, lamda1=0.01, learning_rate=0.1, beta=1, **kwargs):
        super().__init__(lamda1=lamda1, beta=beta, learning_rate=None, **kwargs)
        self.lr = learning_rate


Ftrl = Optimizer.register(Ftrl)


class LARS(_RecipeOptimizer):
    """MXNet ``LARS``: layer-wise lr; ``set_wd_mult`` zeroes wd for names not ending in
    ``_weight``. ``momentum_correction`` (default True) uses ``momentum * cur_lr/last_lr``
    (``last_lr != 0``), both updated on every ``_get_lrs`` call as MXNet does: the
    Updater reproduces MXNet's chunks of ``aggregate_num`` indices
    (``MXNET_OPTIMIZER_AGGREGATION_SIZE``, default 4, per dtype), so when the scheduled
    lr changes only the step's first chunk sees the corrected momentum."""

    _recipe = "lars"
    _own = (("momentum", 0.0), ("lazy_update", True), ("eta", 0.001), ("eps", 0),
            ("momentum_correction", True))
    _lr_per_chunk = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.aggregate_num = int(os.getenv("MXNET_OPTIMIZER_AGGREGATION_SIZE", "4"))
        self.skip = 0
        self.last_lr = None
        self.cur_lr = None

    def _get_lrs(self, indices):
        lr = self.lr_scheduler(self.num_update) if self.lr_scheduler is not None else self.lr
        cur = getattr(self, "cur_lr", None)  # states files written before this attribute
        self.last_lr = cur if cur is not None else lr
        self.cur_lr = lr
        return self._scaled(lr, indices, "lr_mult", self.lr_mult)

    def _chunk_momentum(self):
        # MXNet 1.9.1 LARS._update_impl: float64 Python, cast to float32 by the kernel.
        if (self.momentum > 0 and self.momentum_correction and self.last_lr is not None
                and self.last_lr != 0):
            return self.momentum * (self.cur_lr / self.last_lr)
        return self.momentum

    def set_wd_mult(self, args_wd_mult):
        self.wd_mult = {}
        for n in self.idx2name.values():
            is_weight = n.endswith("_weight")
            if not is_weight:
                self.wd_mult[n] = 0.0
        self.wd_mult.update(self._sym_mults("__wd_mult__"))
        self.wd_mult.update(args_wd_mult)


LARS = Optimizer.register(LARS)


@register
class Test(Optimizer):
    """MXNet's ``Test`` optimizer (``w += rs*g; state = w``), written as user code would be."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def create_state(self, index, weight):
        return zeros(weight.shape, weight.context)

    def update(self, index, weight, grad, state):
        weight[:] += grad * self.rescale_grad
        state[:] = weight


# ---------------------------------------------------------------------------------------
# Updater


class Updater:
    """``get_updater(optimizer)``: ``updater(index, grad, weight)`` (MXNet's argument order),
    lists of indices accepted; ``get_states`` / ``set_states`` in optjax's safe format."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.states = {}
        self.states_synced = {}
        self.aggregate_updates = optimizer.aggregate_num > 0
        self._pending = {}

    def _fused_ok(self):
        t = type(self.optimizer)
        return (isinstance(self.optimizer, _RecipeOptimizer)
                and t.update is _RecipeOptimizer.update
                and t.update_multi_precision is _RecipeOptimizer.update_multi_precision
                and t.create_state is _RecipeOptimizer.create_state)

    def __call__(self, index, grad, weight):
        if not isinstance(index, (list, tuple)):
            indices, grads, weights = [index], [grad], [weight]
        else:
            indices, grads, weights = list(index), list(grad), list(weight)
        indices = [i.decode() if isinstance(i, bytes) else i for i in indices]
        if weights:
            self.optimizer._set_current_context(weights[0].context.device_id)
        for i, idx in enumerate(indices):
            if idx not in self.states:
                if idx in self._pending:
                    template = self.optimizer.create_state_multi_precision(idx, weights[i])
                    self.states[idx] = _states.restore(template, self._pending.pop(idx), idx)
                else:
                    self.states[idx] = self.optimizer.create_state_multi_precision(idx, weights[i])
                self.states_synced[idx] = True
        if self._fused_ok():
            self.optimizer._fused(indices, weights, grads, [self.states[i] for i in indices],
                                  chunks=self._chunks(weights))
        else:
            for idx, g, w in zip(indices, grads, weights):
                self.optimizer.update_multi_precision(idx, w, g, self.states[idx])

    def _chunks(self, weights):
        """MXNet's ``update_multi_precision`` calls for one Updater call, as positions:
        with ``aggregate_num > 0``, per dtype (in order of first appearance) in chunks of
        ``aggregate_num``; else one per index. Only for optimizers whose lr bookkeeping
        depends on it (LARS); others get one call (None)."""
        if not getattr(self.optimizer, "_lr_per_chunk", False):
            return None
        n = len(weights)
        if not self.aggregate_updates:
            return [[j] for j in range(n)]
        size = self.optimizer.aggregate_num
        groups = {}
        for j, w in enumerate(weights):
            groups.setdefault(np.dtype(w.dtype), []).append(j)
        return [g[s:s + size] for g in groups.values() for s in range(0, len(g), size)]

    def sync_state_context(self, state, context):
        return state

    def set_states(self, states):
        """Load states written by :meth:`get_states` (optjax's npz + JSON format)."""
        loaded, opt = _states.loads(states, Optimizer)
        self.states = {}
        self._pending = dict(loaded)
        if opt is not None:
            self.optimizer = opt
        self.states_synced = dict.fromkeys(self._pending, False)

    def get_states(self, dump_optimizer=False):
        """Serialize the states (and the optimizer's settings and counters) to bytes."""
        states = dict(self.states)
        for k, leaves in self._pending.items():
            states.setdefault(k, _states.Pending(leaves))
        return _states.dumps(states, self.optimizer if dump_optimizer else None)


def get_updater(optimizer):
    return Updater(optimizer)


del functools, MXNetError
