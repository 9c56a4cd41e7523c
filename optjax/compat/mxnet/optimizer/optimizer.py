"""MXNet 1.9.1's ``Optimizer`` base class, its registry, and the one engine of the built-ins.

The base class reproduces MXNet's bookkeeping (registry, lr/wd multipliers and
their priorities, per-index update counts, ``num_update``, schedulers,
``multi_precision``). A user subclass that overrides ``create_state`` and
``update`` with in-place NDArray arithmetic (MXNet's documented extension
point) runs as written.

A built-in class instead overrides :meth:`Optimizer._core` to name the
documented functional call (``recipes.adam(beta1=..., ...)``, see
``docs/optimizers-mxnet.md``) and :meth:`Optimizer._state_fields` to say which
fields of that call's state its MXNet state arrays are. Its ``create_state``
returns what MXNet's returns (None, an NDArray, a tuple of NDArrays); ``update``
hands the weight, gradient and state arrays to ONE jitted function
(:func:`_apply`) that runs the recipe and writes the results back into the same
NDArrays, which are the mutable boxes around the core's state. The learning
rate, weight decay and ``rescale_grad`` are traced arguments: a changing
learning rate never recompiles.

The path of ``learning_rate``: ``Optimizer._get_lrs`` (here) -> ``_apply`` ->
the class's ``_core`` -> ``recipes.<name>`` -> ``optjax.scale_by_learning_rate``.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any, Callable, NamedTuple

import jax
import numpy as np

from optjax.compat.mxnet import recipes
from optjax.compat.mxnet.ndarray import NDArray, array, cast, zeros

__all__ = ["Optimizer", "CoreCall", "CorePlan", "CoreStep", "Test", "register", "create", "INT32_MAX"]

# The core's step counts are int32 and saturate there (optax's safe increment);
# the shim passes MXNet's unbounded Python counts clipped to the same bound.
INT32_MAX = 2 ** 31 - 1
TRACES = 0


class CoreCall:
    """A functional optimizer call with its static arguments bound, hashable by value.

    ``CoreCall(recipes.adam, clip_gradient=None, beta1=0.9)(learning_rate=lr, wd=wd,
    rescale_grad=rs)`` is ``recipes.adam(clip_gradient=None, beta1=0.9, learning_rate=lr,
    wd=wd, rescale_grad=rs)``; equal calls share one compiled update.
    """

    __slots__ = ("fn", "kwargs")

    def __init__(self, fn: Callable, **kwargs: Any):
        self.fn = fn
        self.kwargs = tuple(sorted(kwargs.items()))

    def __call__(self, **traced: Any):
        return self.fn(**dict(self.kwargs), **traced)

    def __eq__(self, other):
        return isinstance(other, CoreCall) and (self.fn, self.kwargs) == (other.fn, other.kwargs)

    def __hash__(self):
        return hash((self.fn, self.kwargs))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs)
        return f"{getattr(self.fn, '__qualname__', self.fn)}({args})"


def _apply_fn(weights, grads, masters, boxes, counts, hyper, extras, carry, *, cores, fields,
              negated, carry_field):
    """Update every index with its recipe: new weights, masters, state arrays and carry.

    ``boxes[i]``: MXNet's state arrays of index ``i`` in ``fields`` order (None where
    MXNet keeps None); ``masters[i]``: the float32 master copy (multi-precision) or None;
    ``hyper[name][i]``: the traced argument ``name`` of ``cores[i]`` (one array per
    name, so a step passes a few arrays, not one scalar per index); ``carry``: one value threaded
    through the indices in order (Nadam's ``m_schedule``), field ``carry_field``;
    ``extras[i]``: further state fields the optimizer keeps itself (LBSGD's ``cum_grad``).
    """
    global TRACES
    TRACES += 1  # at trace time only: how often the engine compiled (tests read it)
    new_w, new_m, new_boxes, new_extras = [], [], [], []
    for i, core in enumerate(cores):
        tx = core(**{k: v[i] for k, v in hyper.items()})
        master = masters[i]
        w = weights[i] if master is None else master
        g = grads[i] if master is None else grads[i].astype(master.dtype)
        values = {f: (-b if f in negated else b)
                  for f, b in zip(fields, boxes[i]) if b is not None}
        if carry_field:
            values[carry_field] = carry
        values.update(extras[i])
        w, out = recipes.step(tx, w, g, values, counts[i])
        new_extras.append({f: out[f] for f in extras[i]})
        if carry_field:
            carry = out[carry_field]
        new_boxes.append([None if b is None else
                          (-out[f] if f in negated else out[f]).astype(b.dtype)
                          for f, b in zip(fields, boxes[i])])
        new_m.append(None if master is None else w)
        new_w.append(w if master is None else w.astype(weights[i].dtype))
    return new_w, new_m, new_boxes, new_extras, carry


_apply = jax.jit(_apply_fn, static_argnames=("cores", "fields", "negated", "carry_field"))


class CoreStep(NamedTuple):
    """The static part of one engine update (hashable): a pure function
    ``step(weights, grads, state, args) -> (new_weights, new_state)`` that a caller may
    trace inside its own ``jax.jit`` (a Module's fused training step)."""

    cores: tuple
    fields: tuple
    negated: tuple
    carry_field: str

    def __call__(self, weights, grads, state, args):
        masters, boxes, extras, carry = state
        counts, hyper = args
        new_w, new_m, new_boxes, new_extras, carry = _apply_fn(
            weights, grads, masters, boxes, counts, hyper, extras, carry, cores=self.cores,
            fields=self.fields, negated=self.negated, carry_field=self.carry_field)
        return new_w, (new_m, new_boxes, new_extras, carry)


class CorePlan:
    """One counted engine update, ready to run: ``step`` (static), ``state`` (the arrays
    it replaces: masters, state arrays, extras, carry), ``args`` (counts and traced
    hyper-parameters). ``commit`` writes a result back into the NDArrays; ``abort``
    rolls the optimizer's counters back (nothing else has changed)."""

    def __init__(self, opt, indices, weights, masters, boxes, step, state, args, saved):
        self._opt, self._indices, self._weights = opt, indices, weights
        self._masters, self._boxes, self._saved = masters, boxes, saved
        self.step, self.state, self.args = step, state, args
        self.after_commit = None  # called after a commit (the Updater keeps new states)

    def run(self, grads):
        """Run the jitted engine on ``grads`` (jax arrays) and commit."""
        masters, boxes, extras, carry = self.state
        counts, hyper = self.args
        s = self.step
        new_w, new_m, new_boxes, new_extras, carry = _apply(
            [w._data for w in self._weights], grads, masters, boxes, counts, hyper, extras,
            carry, cores=s.cores, fields=s.fields, negated=s.negated, carry_field=s.carry_field)
        self.commit(new_w, (new_m, new_boxes, new_extras, carry))

    def commit(self, new_w, new_state):
        new_m, new_boxes, new_extras, carry = new_state
        opt = self._opt
        for i, values in zip(self._indices, new_extras):
            opt._keep_extras(i, values)
        for w, nw, m, nm, bs, nbs in zip(self._weights, new_w, self._masters, new_m,
                                         self._boxes, new_boxes):
            w._data = nw
            if m is not None:
                m._data = nm
            for b, nb in zip(bs, nbs):
                if b is not None:
                    b._data = nb
        opt._set_carry(carry)
        if self.after_commit is not None:
            self.after_commit()

    def abort(self):
        self._opt._restore_counters(self._saved)


def _stack(values: list):
    """Per-index values of one traced argument as one array (floats: float64 on the host,
    which JAX keeps as float64 only in 64-bit mode)."""
    if isinstance(values[0], jax.Array):
        return jax.numpy.stack(values)
    return np.asarray(values, np.float64)


def _as_list(state) -> list:
    """MXNet's state of one index as a list of arrays: None -> [], NDArray -> [it]."""
    if state is None:
        return []
    if isinstance(state, NDArray):
        return [state]
    return list(state)


class Optimizer:
    """MXNet's optimizer base class (``optimizer.py:52-519`` of 1.9.1).

    >>> import optjax.compat.mxnet as mx
    >>> opt = mx.optimizer.SGD(learning_rate=0.3, momentum=0.9)
    >>> opt.learning_rate
    0.3
    >>> w, g = mx.nd.ones((2,)), mx.nd.ones((2,))
    >>> mom = opt.create_state(0, w)
    >>> opt.update(0, w, g, mom)
    >>> w.asnumpy(), mom.asnumpy()
    (array([0.7, 0.7], dtype=float32), array([-0.3, -0.3], dtype=float32))
    """

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
        """Register ``klass`` under ``klass.__name__.lower()`` (a decorator; re-registering warns)."""
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
        """The registered optimizer ``name`` (case-insensitive) built with ``kwargs``."""
        if name.lower() in Optimizer.opt_registry:
            return Optimizer.opt_registry[name.lower()](**kwargs)
        raise ValueError("Cannot find optimizer %s; registered optimizers: %s"
                         % (name, ", ".join(sorted(Optimizer.opt_registry))))

    # -- learning rate and weight decay ------------------------------------------------------
    @property
    def learning_rate(self):
        """The scheduler's value at ``num_update`` (a call: it mutates the scheduler), else ``lr``."""
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

    def _decays(self, name):
        """Whether the name rule of ``set_wd_mult`` keeps weight decay for ``name``."""
        return name.endswith("_weight") or name.endswith("_gamma")

    def set_wd_mult(self, args_wd_mult):
        self.wd_mult = {n: 0.0 for n in self.idx2name.values() if not self._decays(n)}
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
        return self._scaled(self.learning_rate, indices, "lr_mult", self.lr_mult)

    def _get_lr(self, index):
        return self._get_lrs([index])[0]

    def _get_wds(self, indices):
        return self._scaled(self.wd, indices, "wd_mult", self.wd_mult)

    def _get_wd(self, index):
        return self._get_wds([index])[0]

    # -- states (user subclasses override create_state and update) ------------------------
    def create_state(self, index, weight):
        """Override in a subclass: the auxiliary state for ``weight`` (None, NDArray, tuple)."""

    def create_state_multi_precision(self, index, weight):
        """``(float32 master copy, create_state(master))`` for a float16 weight with
        ``multi_precision``, else ``create_state`` (warning for float16)."""
        if self.multi_precision and weight.dtype == np.float16:
            weight_master_copy = weight.astype(np.float32)
            return (weight_master_copy,) + (self.create_state(index, weight_master_copy),)
        if weight.dtype == np.float16 and not self.multi_precision:
            warnings.warn("Accumulating with float16 in optimizer can lead to poor accuracy or "
                          "slow convergence. Consider using multi_precision=True option of the "
                          "optimizer")
        return self.create_state(index, weight)

    def update(self, index, weight, grad, state):
        """One update of ``weight`` (or lists of indices, weights, grads, states), in place.

        Built-in classes run their functional core (:meth:`_core`); a subclass that
        defines neither ``_core`` nor ``update`` raises NotImplementedError, as MXNet."""
        self._update_core(index, weight, grad, state, multi_precision=False)

    def update_multi_precision(self, index, weight, grad, state):
        """:meth:`update` on the float32 master copy of a float16 weight (``multi_precision``)."""
        if type(self).update is not Optimizer.update:  # a user's update: MXNet's base logic
            if self.multi_precision and weight.dtype == np.float16:
                weight_master_copy, original_state = state[0], state[1]
                grad32 = grad.astype(np.float32)
                self.update(index, weight_master_copy, grad32, original_state)
                cast(weight_master_copy, dtype=weight.dtype).copyto(weight)
            else:
                self.update(index, weight, grad, state)
            return
        self._update_core(index, weight, grad, state, multi_precision=True)

    # -- what a built-in class overrides ----------------------------------------------------
    def _core(self, index) -> CoreCall:
        """The documented functional call for ``index`` with its static arguments bound;
        it takes ``learning_rate``, ``wd`` and ``rescale_grad`` (traced) and returns a
        ``GradientTransformation`` on one parameter."""
        raise NotImplementedError()

    def _state_fields(self) -> tuple:
        """The core state's field names, in the order of MXNet's state arrays."""
        return ()

    _negated_fields: tuple = ()   # fields MXNet stores with the opposite sign
    _carry_field: str = ""        # one optimizer-level value threaded through the indices

    def _split_master(self, state):
        """``(float32 master, inner state)`` of a multi-precision state (MXNet's base layout)."""
        return state[0], state[1]

    def _state_shape(self, weight_shape):
        """The shape MXNet's state arrays have for a weight of ``weight_shape``."""
        return weight_shape

    def _hyper(self, indices):
        """Count ``indices`` (one MXNet update call) and return each one's traced core
        arguments, in MXNet's order: count first, then read the learning rates."""
        self._update_count(indices)
        return [{"learning_rate": float(lr), "wd": float(wd),
                 "rescale_grad": float(self.rescale_grad)}
                for lr, wd in zip(self._get_lrs(indices), self._get_wds(indices))]

    def _core_count(self, index):
        """How many updates the core's state of ``index`` has seen (MXNet's count - 1)."""
        return self._index_update_count[index] - 1

    def _extras(self, index, weight):
        """State fields the optimizer keeps itself for ``index`` (``{field: array}``)."""
        return {}

    def _keep_extras(self, index, values):
        pass

    def _get_carry(self):
        return None

    def _set_carry(self, value):
        pass

    # -- the engine ---------------------------------------------------------------------------
    def _param_name(self, index):
        if index in self.param_dict:
            return getattr(self.param_dict[index], "name", str(index))
        return self.idx2name.get(index, str(index))

    def _validate(self, indices, weights, grads, states, multi_precision):
        """Raise before anything changes if an index's arrays do not fit together."""
        for i, w, g, s in zip(indices, weights, grads, states):
            name = f"parameter {self._param_name(i)!r} (index {i!r})"
            if not isinstance(w, NDArray) or not isinstance(g, NDArray):
                raise TypeError(f"{name}: weight and grad must be NDArrays, got "
                                f"{type(w).__name__} and {type(g).__name__}")
            if g.dtype != w.dtype:
                raise TypeError(f"{name}: gradient dtype {np.dtype(g.dtype).name} differs from "
                                f"weight dtype {np.dtype(w.dtype).name}; nothing was updated")
            if g.shape != w.shape:
                raise ValueError(f"{name}: gradient shape {g.shape} differs from weight shape "
                                 f"{w.shape}; nothing was updated")
            inner = s
            if self._uses_master(w, multi_precision):
                if not isinstance(s, (tuple, list)) or len(s) != 2:
                    raise TypeError(f"{name}: a multi-precision state is a pair, got {s!r}")
                master, inner = self._split_master(s)
                if not isinstance(master, NDArray) or master.shape != w.shape:
                    raise ValueError(f"{name}: the float32 master copy must be an NDArray of "
                                     f"shape {w.shape}; nothing was updated")
            boxes = _as_list(inner)
            fields = self._state_fields()
            if len(boxes) > len(fields) or any(b is not None and not isinstance(b, NDArray)
                                               for b in boxes):
                raise TypeError(f"{name}: state {inner!r} was not made by "
                                f"{type(self).__name__}.create_state")
            want = tuple(self._state_shape(w.shape))
            for f, b in zip(fields, boxes):
                if b is not None and tuple(b.shape) != want:
                    raise ValueError(f"{name}: state array {f!r} has shape {b.shape}, expected "
                                     f"{want}; nothing was updated")

    def _uses_master(self, weight, multi_precision):
        return multi_precision and self.multi_precision and weight.dtype == np.float16

    def _update_core(self, index, weight, grad, state, multi_precision, chunks=None):
        """Update one index or lists of indices with ONE call of the jitted core.

        ``chunks`` (lists of positions, in MXNet's call order) are the separate
        update calls MXNet's Updater would make; each counts its indices and reads
        its learning rates before the next (default: one call with everything)."""
        if isinstance(index, (list, tuple)):
            indices, weights, grads, states = list(index), list(weight), list(grad), list(state)
        else:
            indices, weights, grads, states = [index], [weight], [grad], [state]
        if not indices:
            return
        plan = self._plan_core(indices, weights, grads, states, multi_precision, chunks)
        try:
            plan.run([g._data for g in grads])
        except BaseException:
            plan.abort()
            raise

    def _plan_core(self, indices, weights, grads, states, multi_precision, chunks=None):
        """Check, count (MXNet's order, per chunk) and gather one update of ``indices``
        as a :class:`CorePlan`; raises before anything changes. ``grads`` are only
        checked (shape and dtype), the plan runs on the gradients given later."""
        cores = tuple(self._core(i) for i in indices)  # the class's checks, before counting
        self._validate(indices, weights, grads, states, multi_precision)
        saved = self._save_counters()
        try:
            hyper = [None] * len(indices)
            for chunk in chunks or [list(range(len(indices)))]:
                for j, h in zip(chunk, self._hyper([indices[j] for j in chunk])):
                    hyper[j] = h
            masters, boxes = [], []
            for w, s in zip(weights, states):
                master, inner = self._split_master(s) \
                    if self._uses_master(w, multi_precision) else (None, s)
                masters.append(master)
                boxes.append(_as_list(inner))
            counts = np.asarray([min(self._core_count(i), INT32_MAX) for i in indices],
                                np.int32)
            packed = {k: _stack([h[k] for h in hyper]) for k in hyper[0]}
            state = ([None if m is None else m._data for m in masters],
                     [[None if b is None else b._data for b in bs] for bs in boxes],
                     [self._extras(i, w) for i, w in zip(indices, weights)], self._get_carry())
        except BaseException:
            self._restore_counters(saved)
            raise
        step = CoreStep(cores, self._state_fields(), self._negated_fields, self._carry_field)
        return CorePlan(self, indices, weights, masters, boxes, step, state, (counts, packed),
                        saved)

    def _save_counters(self):
        return (self.num_update, {k: dict(v) for k, v in self._all_index_update_counts.items()},
                self._get_carry())

    def _restore_counters(self, saved):
        self.num_update, counts, carry = saved
        for k, v in counts.items():
            self._all_index_update_counts.setdefault(k, {}).clear()
            self._all_index_update_counts[k].update(v)
        self._set_carry(carry)

    # -- pickling (MXNet drops param_dict) --------------------------------------------------
    def __getstate__(self):
        ret = self.__dict__.copy()
        del ret["param_dict"]
        return ret

    def __setstate__(self, state):
        self.__dict__ = state
        self.param_dict = {}


register = Optimizer.register
create = Optimizer.create_optimizer


def zeros_like_weight(weight, dtype=None):
    """``zeros(weight.shape, weight.context, dtype=...)``: MXNet's state constructor."""
    return zeros(weight.shape, weight.context, dtype=weight.dtype if dtype is None else dtype)


def copy_of(weight, dtype=None):
    """A new NDArray holding ``weight``'s values (MXNet's ``weight.copy()`` / master copy)."""
    return array(weight, ctx=weight.context, dtype=weight.dtype if dtype is None else dtype)


@register
class Test(Optimizer):
    """MXNet's ``Test`` optimizer (``w += rs*g; state = w``), written as user code is."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def create_state(self, index, weight):
        return zeros(weight.shape, weight.context)

    def update(self, index, weight, grad, state):
        weight[:] += grad * self.rescale_grad
        state[:] = weight
