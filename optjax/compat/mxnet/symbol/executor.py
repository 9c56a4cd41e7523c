"""``Executor``: a bound symbol, run as ONE compiled JAX function.

The graph is evaluated by :func:`~optjax.compat.mxnet.symbol.graph.evaluate`, a
pure function of ``(args, aux, key, is_train)``. ``forward(is_train=False)``
runs it under ``jax.jit``; ``forward(is_train=True)`` on an executor with
gradients runs the forward pass and ``jax.vjp`` of the same function in one
compiled call (the head gradients are ones; output operators such as
``SoftmaxOutput`` carry their own gradient), and ``backward()`` then publishes
those gradients into ``grad_dict`` following each argument's ``grad_req``
(``'write'``, ``'add'``, ``'null'``). ``backward(out_grads)`` with explicit head
gradients differentiates again from the arrays of the last forward pass.
Auxiliary states (BatchNorm's moving statistics) change only in training
forward passes; as in MXNet 1.9.1, every forward pass writes ones into the
``gamma`` argument of a ``BatchNorm`` with ``fix_gamma=True``.

Example:
    >>> import optjax.compat.mxnet as mx
    >>> x = mx.sym.Variable("x")
    >>> ex = (x * x).simple_bind(mx.cpu(), x=(2,))
    >>> ex.arg_dict["x"][:] = mx.nd.array([1.0, 3.0])
    >>> ex.forward(is_train=True)[0].asnumpy().tolist()
    [1.0, 9.0]
    >>> ex.backward(mx.nd.ones((2,)))
    >>> ex.grad_dict["x"].asnumpy().tolist()
    [2.0, 6.0]
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from optjax.compat.mxnet.base import MXNetError
from optjax.compat.mxnet.ndarray.dtypes import np_dtype
from optjax.compat.mxnet.ndarray.ndarray import NDArray, from_jax
from optjax.compat.mxnet.ops.registry import moving_average_updates
from optjax.compat.mxnet.symbol import graph as _graph

__all__ = ["Executor", "Program", "program"]

# Operators whose gradient MXNet passes to the inputs without a backward node (its
# ``CloneGradient``): the monitor sees no ``<node>_backward_*`` arrays for them.
_PASS_THROUGH_GRADIENT = frozenset({"elemwise_add", "add_n"})
# MXNet 1.9.1's legacy operators name their backward outputs after their inputs
# (``<node>_backward_data``) where the others say ``<node>_backward_output<i>``.
_LEGACY_BACKWARD_NAMES = frozenset({"MakeLoss", "SliceChannel"})


class Program:
    """The compiled functions of one symbol's graph (shared by its executors)."""

    def __init__(self, heads):
        self.heads = list(heads)
        self.order = _graph.topo_order(self.heads)
        self.needs_key = any(n.op is not None and n.op.needs_key for n in self.order)
        self.ones_after_forward = _graph.fixed_gamma_variables(self.order)
        self.forward = jax.jit(self._forward, static_argnames=("is_train",))
        self.deferred_aux = _graph.deferred_aux(self.order, True)  # applied by backward
        self._fwd_bwd = {}
        self._train_steps = {}

    def _forward(self, args, aux, key, is_train):
        return _graph.evaluate(self.order, self.heads, args, aux, key, is_train)

    def _vjp_step(self, grad_names):
        """The pure forward + vjp: ``(args, aux, key, head_grads) -> (outputs, (new_aux,
        moving-average increments), grads)`` for ``grad_names`` (``head_grads`` None means
        ones)."""
        order, heads = self.order, self.heads

        def step(args, aux, key, head_grads):
            diff = {n: args[n] for n in grad_names}
            rest = {n: v for n, v in args.items() if n not in diff}

            def f(d):
                outs, new_aux, increments = _graph.evaluate(order, heads, {**rest, **d}, aux,
                                                            key, True)
                return outs, (new_aux, increments)

            outs, vjp, new_aux = jax.vjp(f, diff, has_aux=True)
            if head_grads is None:
                head_grads = [jnp.ones_like(o) for o in outs]
            else:
                head_grads = [jnp.ones_like(o) if h is None else h.astype(o.dtype)
                              for o, h in zip(outs, head_grads)]
            (grads,) = vjp(head_grads)
            return outs, new_aux, grads

        return step

    def forward_backward(self, grad_names: tuple):
        """``f(args, aux, key, head_grads) -> (outputs, (new_aux, increments), grads)`` for ``grad_names``
        (compiled; ``head_grads`` None means ones)."""
        fn = self._fwd_bwd.get(grad_names)
        if fn is None:
            fn = self._fwd_bwd[grad_names] = jax.jit(self._vjp_step(grad_names))
        return fn

    def apply_deferred(self, aux: dict, increments) -> dict:
        """``aux`` with the moving-average updates that a training forward deferred applied,
        in backward order (MXNet's BatchNorm writes its moving statistics in backward)."""
        if not increments:
            return aux
        names = list(aux)
        slot = {n: k for k, n in enumerate(names)}
        updates = [(slot[name], m, inc) for (name, m), inc in
                   reversed(list(zip(self.deferred_aux, increments)))]
        return dict(zip(names, moving_average_updates([aux[n] for n in names], updates)))

    def train_step(self, grad_names: tuple, update_names: tuple, grad_dtypes: tuple, apply,
                   donate: bool):
        """``f(params, args, aux, key, state, apply_args) -> (outputs, new_aux, new_params,
        new_state, grads)``: the forward pass, the vjp and ``apply(weights, grads,
        state, apply_args) -> (new_weights, new_state)`` on the parameters
        ``update_names`` (given apart from the other ``args``), compiled as ONE function.
        The weights ``apply`` sees are those after the forward pass (a ``fix_gamma``
        gamma is ones), its gradients those ``backward`` would write (cast to
        ``grad_dtypes``). With ``donate``, ``params``, ``aux`` and ``state`` are donated."""
        key = (grad_names, update_names, grad_dtypes, apply, donate)
        fn = self._train_steps.get(key)
        if fn is None:
            vjp_step = self._vjp_step(grad_names)
            ones = set(self.ones_after_forward)

            def step(params, args, aux, rng, state, apply_args):
                outs, (new_aux, increments), grads = vjp_step({**args, **params}, aux, rng,
                                                              None)
                new_aux = self.apply_deferred(new_aux, increments)  # its backward's updates
                weights = [jnp.ones_like(params[n]) if n in ones else params[n]
                           for n in update_names]
                gs = [grads[n].astype(d) for n, d in zip(update_names, grad_dtypes)]
                new_w, new_state = apply(weights, gs, state, apply_args)
                # new weights and state before the gradients: XLA gives each donated
                # buffer to the first output of its shape, and a gradient there would
                # force a copy of every parameter
                return outs, new_aux, new_w, new_state, grads

            fn = self._train_steps[key] = jax.jit(
                step, donate_argnums=(0, 2, 4) if donate else ())
        return fn


def program(symbol) -> Program:
    """The :class:`Program` of ``symbol``'s graph, cached on its first head node (so it
    lives as long as the graph)."""
    cache = symbol._heads[0][0].programs
    key = tuple((id(n), i) for n, i in symbol._heads)
    prog = cache.get(key)
    if prog is None:
        prog = cache[key] = Program(symbol._heads)
    return prog


def _as_list(values, names, what, allow_missing=False):
    """``values`` (list in ``names`` order or dict by name) as a list of NDArrays/None."""
    if values is None:
        return [None] * len(names)
    if isinstance(values, dict):
        unknown = set(values) - set(names)
        if unknown and what != "args_grad":
            raise MXNetError(f"bind: {what} has names that are not in the symbol: "
                             f"{sorted(unknown)}; expected {names}")
        out = []
        for n in names:
            if n not in values and not allow_missing:
                raise MXNetError(f"bind: key `{n}` is missing in `{what}`")
            out.append(values.get(n))
        return out
    values = list(values)
    if len(values) != len(names):
        raise MXNetError(f"bind: Length of {what} do not match number of arguments "
                         f"({len(values)} vs {len(names)}: {names})")
    return values


def _nd(x):
    if x is None or isinstance(x, NDArray):
        return x
    raise TypeError(f"expected an NDArray, got {type(x).__name__}")


class Executor:
    """A symbol bound to arrays: ``forward``, ``backward``, ``arg_dict``, ``grad_dict``,
    ``aux_dict``, ``outputs`` (MXNet's ``mx.executor.Executor``)."""

    def __init__(self, symbol, ctx, args, args_grad=None, grad_req="write", aux_states=None):
        from optjax.compat.mxnet.context import Context
        self._symbol = symbol
        self._ctx = None if ctx is None else Context(ctx)
        self._arg_names = symbol.list_arguments()
        self._aux_names = symbol.list_auxiliary_states()
        self.arg_arrays = [_nd(a) for a in _as_list(args, self._arg_names, "args")]
        self.grad_arrays = [_nd(a) for a in _as_list(args_grad, self._arg_names, "args_grad",
                                                     allow_missing=True)]
        self.aux_arrays = [_nd(a) for a in _as_list(aux_states, self._aux_names, "aux_states")]
        if isinstance(grad_req, str):
            reqs = {n: grad_req for n in self._arg_names}
        elif isinstance(grad_req, (list, tuple)):
            reqs = dict(zip(self._arg_names, grad_req))
        elif isinstance(grad_req, dict):
            reqs = {n: grad_req.get(n, "null") for n in self._arg_names}
        else:
            raise ValueError("grad_req must be one of str, list, tuple, or dict.")
        for n, r in reqs.items():
            if r not in ("write", "add", "null", "inplace"):
                raise ValueError(f"grad_req {r!r} for {n!r}: expected 'write', 'add' or 'null'")
        self._grad_req = {n: ("write" if r == "inplace" else r) if g is not None else "null"
                          for (n, r), g in zip(reqs.items(), self.grad_arrays)}
        self._program = program(symbol)
        self._diff = tuple(n for n, a in zip(self._arg_names, self.arg_arrays)
                           if self._grad_req[n] != "null"
                           and jnp.issubdtype(a.dtype, jnp.inexact))
        self.outputs = []
        self._last = None  # (args, aux, key, grads, aux increments) of the last training forward
        self._monitor = None

    @classmethod
    def simple(cls, symbol, ctx, grad_req, type_dict, shapes, shared=None):
        """Allocate zeros of the inferred shapes and dtypes (``simple_bind``)."""
        from optjax.compat.mxnet.ndarray.creation import zeros
        shapes = {k: tuple(int(d) for d in v) for k, v in shapes.items()}
        types = {k: np_dtype(v) for k, v in type_dict.items()}
        for k in shapes:
            if k not in symbol.list_inputs():
                raise MXNetError(f"simple_bind: {k!r} is not an input of the symbol; inputs are "
                                 f"{symbol.list_inputs()}")
        infos, _ = symbol._infer(shapes, types)
        missing = [n for n in symbol.list_inputs() if infos.get(n) is None]
        if missing:
            raise MXNetError(f"simple_bind: cannot infer the shapes of {missing}; give them "
                             f"as keyword arguments (name=shape)")
        arg_names, aux_names = symbol.list_arguments(), symbol.list_auxiliary_states()
        if isinstance(grad_req, str):
            reqs = dict.fromkeys(arg_names, grad_req)
        elif isinstance(grad_req, (list, tuple)):
            reqs = dict(zip(arg_names, grad_req))
        else:
            reqs = {n: grad_req.get(n, "null") for n in arg_names}

        def make(n):
            if shared is not None and n in shared and shared[n].shape == tuple(infos[n].shape) \
                    and shared[n].dtype == infos[n].dtype:
                return shared[n]
            return zeros(tuple(infos[n].shape), ctx=ctx, dtype=infos[n].dtype)

        args = {n: make(n) for n in arg_names}
        grads = {n: zeros(tuple(infos[n].shape), ctx=ctx, dtype=infos[n].dtype)
                 for n in arg_names if reqs.get(n, "null") != "null"}
        aux = {n: make(n) for n in aux_names}
        return cls(symbol, ctx, args, grads, reqs, aux)

    # -- views ---------------------------------------------------------------------------
    @property
    def arg_dict(self) -> dict:
        return dict(zip(self._arg_names, self.arg_arrays))

    @property
    def grad_dict(self) -> dict:
        return {n: g for n, g in zip(self._arg_names, self.grad_arrays) if g is not None}

    @property
    def aux_dict(self) -> dict:
        return dict(zip(self._aux_names, self.aux_arrays))

    @property
    def output_dict(self) -> dict:
        return dict(zip(self._symbol.list_outputs(), self.outputs))

    # -- running -------------------------------------------------------------------------
    def _inputs(self):
        args = {n: a._data for n, a in zip(self._arg_names, self.arg_arrays)}
        aux = {n: a._data for n, a in zip(self._aux_names, self.aux_arrays)}
        key = None
        if self._program.needs_key:
            from optjax.compat.mxnet.ndarray import random as _random
            key = _random.next_key()
        return args, aux, key

    def _set_outputs(self, outs):
        if len(self.outputs) == len(outs) and all(
                o.shape == tuple(v.shape) and o.dtype == v.dtype for o, v in zip(self.outputs, outs)):
            for o, v in zip(self.outputs, outs):
                o._data = v
        else:
            self.outputs = [from_jax(v, self._ctx) for v in outs]

    def forward(self, is_train: bool = False, **kwargs):
        """Run the graph (``kwargs``: new values for arguments); returns ``outputs``."""
        arg_dict = self.arg_dict
        for name, value in kwargs.items():
            if name not in arg_dict:
                raise MXNetError(f"forward: unknown argument {name!r}; arguments are "
                                 f"{self._arg_names}")
            dst = arg_dict[name]
            v = value._data if isinstance(value, NDArray) else jnp.asarray(value)
            if tuple(v.shape) != dst.shape:
                raise MXNetError(f"forward: shape of {name!r} is {dst.shape}, got "
                                 f"{tuple(v.shape)}")
            dst._data = v if v.dtype == dst.dtype else v.astype(dst.dtype)
        args, aux, key = self._inputs()
        if is_train and self._diff:
            outs, (new_aux, increments), grads = self._program.forward_backward(self._diff)(
                args, aux, key, None)
            self._last = (args, aux, key, grads, increments)
        else:
            outs, new_aux, increments = self._program.forward(args, aux, key,
                                                              is_train=bool(is_train))
            self._last = (args, aux, key, None, increments) if is_train else None
        if is_train:  # moving averages (BatchNorm) change in backward, as MXNet
            for n, a in zip(self._aux_names, self.aux_arrays):
                a._data = new_aux[n]
        if self._program.ones_after_forward:
            arg_dict = self.arg_dict
            for n in self._program.ones_after_forward:
                if n in arg_dict:
                    arg_dict[n]._data = jnp.ones(arg_dict[n].shape, arg_dict[n].dtype)
        self._set_outputs(outs)
        if self._monitor is not None:
            self._report(args, aux, key, bool(is_train))
        return self.outputs

    def _report(self, args, aux, key, is_train):
        """Hand every operator output of the graph to the monitor callback (the symbol's
        internals, compiled; as MXNet calls it during a forward pass)."""
        internals = self._symbol.get_internals()
        names = internals.list_outputs()
        values = program(internals).forward(args, aux, key, is_train=is_train)[0]
        for (node, _), name, v in zip(internals._heads, names, values):
            if node.op is not None:
                self._monitor(name, from_jax(v, self._ctx))

    def _report_backward(self, args, aux, key, out_grads):
        """Hand each operator node's backward outputs (the gradients for its inputs,
        ``<node>_backward_output<i>``, or ``<node>_backward_output`` for one input) to
        the monitor callback, in backward order, as MXNet does during ``backward``."""
        heads = [jnp.ones_like(o._data) if g is None else
                 (g._data if isinstance(g, NDArray) else jnp.asarray(g)).astype(o.dtype)
                 for o, g in zip(self.outputs, out_grads or [None] * len(self.outputs))]
        for node, grads, zeros in _graph.node_input_gradients(
                self._program.order, self._program.heads, args, aux, key, heads):
            if node.op.name in _PASS_THROUGH_GRADIENT:
                continue
            if node.op.name in _LEGACY_BACKWARD_NAMES:
                for z in zeros:  # MXNet makes a zeros node for each unread output's gradient
                    self._monitor("zeros_without_dtype_output", from_jax(z, self._ctx))
                names = [f"{node.name}_backward_{n}" for n in node.input_names()]
            elif len(grads) == 1:
                names = [f"{node.name}_backward_output"]
            else:
                names = [f"{node.name}_backward_output{i}" for i in range(len(grads))]
            for name, g in zip(names, grads):
                self._monitor(name, from_jax(g, self._ctx))

    def backward(self, out_grads=None, is_train: bool = True):
        """Write the gradients of the last training forward into ``grad_dict``."""
        if self._last is None:
            raise MXNetError("backward: call forward(is_train=True) first")
        if not self._diff:
            return
        args, aux, key, grads, increments = self._last
        if is_train and increments:  # MXNet's BatchNorm writes its moving statistics here
            new = self._program.apply_deferred(
                {n: a._data for n, a in zip(self._aux_names, self.aux_arrays)}, increments)
            for n, a in zip(self._aux_names, self.aux_arrays):
                a._data = new[n]
        if out_grads is not None or grads is None:
            if isinstance(out_grads, NDArray):
                out_grads = [out_grads]
            heads = None if out_grads is None else [
                None if g is None else (g._data if isinstance(g, NDArray) else jnp.asarray(g))
                for g in out_grads]
            if heads is not None and len(heads) != len(self.outputs):
                raise MXNetError(f"backward: {len(heads)} out_grads for {len(self.outputs)} "
                                 f"outputs")
            _, _, grads = self._program.forward_backward(self._diff)(args, aux, key, heads)
        self._publish(grads)
        if self._monitor is not None:
            self._report_backward(args, aux, key, out_grads)

    def _publish(self, grads):
        """Write ``grads`` into ``grad_dict`` following each argument's ``grad_req``."""
        for n, g in zip(self._arg_names, self.grad_arrays):
            if n in grads:
                v = grads[n] if grads[n].dtype == g.dtype else grads[n].astype(g.dtype)
                g._data = g._data + v if self._grad_req[n] == "add" else v

    def forward_backward_apply(self, update_names, apply, state, apply_args, donate=False):
        """``forward(is_train=True)``, ``backward()`` and ``apply`` on the parameters
        ``update_names`` in ONE compiled call (see :meth:`Program.train_step`).

        Outputs, auxiliary states and ``grad_dict`` are written as those two calls
        write them; the parameters keep their post-forward values and the call
        returns ``(new_weights, new_state)`` for the caller to store (an optimizer
        step). Every name in ``update_names`` must have ``grad_req='write'``. With
        ``donate``, the parameters' and auxiliary states' buffers and ``state`` are
        donated: the caller must own them (no other reference may read them)."""
        arg_dict = self.arg_dict
        for n in update_names:
            if n not in self._diff or self._grad_req[n] != "write":
                raise MXNetError(f"forward_backward_apply: {n!r} has no written gradient "
                                 f"(grad_req {self._grad_req.get(n)!r})")
        args, aux, key = self._inputs()
        params = {n: args.pop(n) for n in update_names}
        dtypes = tuple(np.dtype(self.grad_dict[n].dtype).name for n in update_names)
        fn = self._program.train_step(self._diff, tuple(update_names), dtypes, apply, donate)
        outs, new_aux, new_w, new_state, grads = fn(params, args, aux, key, state, apply_args)
        self._last = None if donate else ({**args, **params}, aux, key, grads, ())
        for n, a in zip(self._aux_names, self.aux_arrays):
            a._data = new_aux[n]
        for n in self._program.ones_after_forward:
            if n in arg_dict and n not in params:
                arg_dict[n]._data = jnp.ones(arg_dict[n].shape, arg_dict[n].dtype)
        self._set_outputs(outs)
        self._publish(grads)
        return new_w, new_state

    # -- parameters ----------------------------------------------------------------------
    def copy_params_from(self, arg_params, aux_params=None, allow_extra_params=False):
        """Copy values into the executor's arrays (extra names: ValueError unless allowed).
        Every name is checked before anything is copied."""
        arg_dict, aux_dict = self.arg_dict, self.aux_dict
        if not allow_extra_params:
            for name in arg_params:
                if name not in arg_dict:
                    raise ValueError('Find name "%s" that is not in the arguments' % name)
            for name in (aux_params or {}):
                if name not in aux_dict:
                    raise ValueError("Find name %s that is not in the auxiliary states" % name)
        for params, dst_dict in ((arg_params, arg_dict), (aux_params or {}, aux_dict)):
            for name, array in params.items():
                if name in dst_dict:
                    dst = dst_dict[name]
                    src = array._data if isinstance(array, NDArray) else jnp.asarray(array)
                    if tuple(src.shape) != dst.shape:
                        raise MXNetError(f"copy_params_from: {name!r} has shape "
                                         f"{tuple(src.shape)}, the executor expects {dst.shape}")
        for params, dst_dict in ((arg_params, arg_dict), (aux_params or {}, aux_dict)):
            for name, array in params.items():
                if name in dst_dict:
                    src = array._data if isinstance(array, NDArray) else jnp.asarray(array)
                    dst_dict[name]._data = src.astype(dst_dict[name].dtype)

    def reshape(self, partial_shaping=False, allow_up_sizing=False, **kwargs):
        """A new executor for new input shapes sharing this one's same-shaped arrays."""
        shapes = {n: a.shape for n, a in self.arg_dict.items()}
        shapes.update({k: tuple(v) for k, v in kwargs.items()})
        # parameters keep their shapes; only the given inputs change
        given = {k: tuple(v) for k, v in kwargs.items()}
        types = {n: a.dtype for n, a in self.arg_dict.items()}
        shared = {**self.arg_dict, **self.aux_dict}
        new = Executor.simple(self._symbol, self._ctx, self._grad_req, types, given,
                              shared=shared)
        for n, g in zip(new._arg_names, new.grad_arrays):
            old = self.grad_dict.get(n)
            if g is not None and old is not None and old.shape == g.shape:
                new.grad_arrays[new._arg_names.index(n)] = old
        return new

    def set_monitor_callback(self, callback, monitor_all=False):
        self._monitor = callback

    def debug_str(self) -> str:
        lines = [f"Symbol Outputs:\n\toutput[{i}]={n}" for i, n in
                 enumerate(self._symbol.list_outputs())]
        return "\n".join(lines) + "\nTotal 0 MB allocated\nTotal 0 TempSpace resource requested\n"
