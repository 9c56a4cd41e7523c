"""``mx.autograd``: MXNet's imperative autograd on JAX's autodiff.

Inside ``with autograd.record():`` every operator call on NDArrays is run eagerly
(for its value) and appended to a tape: the operator's pure JAX function, its
static attributes, and where each input came from (an earlier tape entry, a
variable marked by ``attach_grad``, or a constant). ``backward`` replays the part
of the tape that reaches the heads as one pure function of the variables and
differentiates it with ``jax.vjp``; the replay is compiled with ``jax.jit`` and
cached by the tape's structure, so a training loop that records the same graph
each step compiles its backward pass once. Random operators (``Dropout``) replay
with the key they drew, so the gradient sees the same mask as the forward pass.

A hybridized gluon block's recorded call is deferred: its outputs are *pending*
NDArrays (shape and dtype known, value not computed), and an operator applied to a
pending array is recorded with pending outputs too (``invoke``). ``backward``'s replay
returns the values of the pending entries it runs, so the block's forward, the loss and
the gradient are one compiled call; reading a pending array earlier computes it then.

Gradients are written to each variable's ``.grad`` by its ``grad_req``:
``'write'`` overwrites, ``'add'`` accumulates until zeroed, ``'null'`` skips.
A head that is not a scalar gets a head gradient of ones, as MXNet.

Moving-average auxiliary states (``BatchNorm``'s running mean and variance) change
in the backward pass, as in MXNet 1.9.1: a recorded training forward keeps each
update's increment on its tape entry, and ``backward``/``grad`` (in train mode)
applies ``aux = aux * momentum + increment`` for the entries they reach, in
reverse recording order. A forward that is not followed by a backward leaves the
statistics unchanged; a retained graph differentiated twice updates them twice.
"""

from __future__ import annotations

import functools
import itertools
import threading
from contextlib import contextmanager

import jax
import jax.numpy as jnp
import numpy as np

from optjax.compat.mxnet.base import MXNetError
from optjax.numerics import cast

__all__ = ["record", "pause", "train_mode", "predict_mode", "is_recording", "is_training",
           "set_recording", "set_training", "backward", "grad", "mark_variables", "Function"]


class _State(threading.local):
    recording = False
    training = False
    aux_sink = None  # a list collecting deferred auxiliary updates while a block is traced


_state = _State()
_ids = itertools.count()

_NOT_IN_GRAPH = ("Cannot differentiate node because it is not in a computational graph. You need "
                 "to set is_recording to true or use autograd.record() to save computational "
                 "graphs for backward. If you want to differentiate the same graph twice, you "
                 "need to pass retain_graph=True to backward.")


def is_recording() -> bool:
    return _state.recording


def is_training() -> bool:
    return _state.training


def set_recording(is_recording: bool) -> bool:  # noqa: A002 (MXNet's name)
    prev, _state.recording = _state.recording, bool(is_recording)
    return prev


def set_training(train_mode: bool) -> bool:
    prev, _state.training = _state.training, bool(train_mode)
    return prev


@contextmanager
def _scope(recording, training):
    prev_r, prev_t = _state.recording, _state.training
    if recording is not None:
        _state.recording = recording
    if training is not None:
        _state.training = training
    try:
        yield
    finally:
        _state.recording, _state.training = prev_r, prev_t


def record(train_mode: bool = True):  # noqa: D401
    """Record operations for ``backward``; ``train_mode`` sets training behaviour (Dropout, BatchNorm)."""
    return _scope(True, train_mode)


def pause(train_mode: bool = False):
    """Stop recording inside a ``record`` block."""
    return _scope(False, train_mode)


def train_mode():
    return _scope(None, True)


def predict_mode():
    return _scope(None, False)


@contextmanager
def collect_aux_updates():
    """Collect the deferred auxiliary updates of the operators called inside (used while a
    hybridized block's forward is traced); yields the list of ``(NDArray, momentum,
    increment)``."""
    prev, _state.aux_sink = _state.aux_sink, []
    try:
        yield _state.aux_sink
    finally:
        _state.aux_sink = prev


def aux_sink():
    """The list collecting deferred auxiliary updates, or None outside a traced forward."""
    return _state.aux_sink


# -- the tape ---------------------------------------------------------------------------

class _Node:
    """One recorded call: ``fn(*input arrays, **dynamic) -> output(s)``."""

    __slots__ = ("fn", "key", "inputs", "dynamic", "n_out", "id", "freed", "aux_updates",
                 "lazy")

    def __init__(self, fn, key, inputs, dynamic, n_out, aux_updates=(), lazy=None):
        self.fn, self.key, self.inputs, self.dynamic, self.n_out = fn, key, inputs, dynamic, n_out
        self.id = next(_ids)
        self.freed = False
        self.aux_updates = tuple(aux_updates)  # (NDArray, momentum, increment), for backward
        self.lazy = lazy  # the LazyValue of outputs not computed yet (backward fills them)


def in_graph(x) -> bool:
    """Whether ``x`` came from a recorded operation or is a variable (its use must be recorded)."""
    return x._entry is not None or (x._grad_req is not None and x._grad_req != "null")


def _ref(x):
    from optjax.compat.mxnet.ndarray.ndarray import NDArray
    if x is None:
        return None
    if not isinstance(x, NDArray):
        return ("c", x if isinstance(x, jax.Array) else jnp.asarray(x))
    if x._entry is not None:
        return ("n",) + x._entry
    if x._grad_req is not None and x._grad_req != "null":
        return ("v", x, x._data)
    return ("c", x._data)


def _op_fn(op, static):
    from optjax.compat.mxnet.ndarray.invoke import _compiled
    base = _compiled(op.fn, static, False)
    if op.aux:
        return lambda *a, **d: base(*a, **d)[0]
    return base


def record_op(op, static: tuple, dynamic: dict, inputs: list, outputs: list,
              aux_updates=(), lazy=None) -> None:
    """Append a registered operator's call to the tape (called by ``invoke``)."""
    if lazy is None and not any(x is not None and hasattr(x, "_entry") and in_graph(x)
                                for x in inputs):
        return
    record_fn(_op_fn(op, static), (op.name, static), inputs, dynamic, outputs, aux_updates,
              lazy)


def record_fn(fn, key, inputs: list, dynamic: dict, outputs: list, aux_updates=(),
              lazy=None) -> None:
    """Append a pure JAX function's call to the tape.

    ``fn(*input arrays, **dynamic)`` must return one array or a tuple with one array
    per output. ``key`` identifies ``fn`` for the compiled-replay cache (None: do not
    cache). Gluon's hybridized blocks record their whole compiled forward this way.
    ``aux_updates``: ``(NDArray, momentum, increment)`` moving-average updates that a
    training-mode backward through this entry applies (``increment``: an array or NDArray).
    ``lazy``: the :class:`~optjax.compat.mxnet.ndarray.ndarray.LazyValue` of ``outputs``
    when they are pending; ``backward`` fills them from its replay.
    """
    node = _Node(fn, key, [_ref(x) for x in inputs], dict(dynamic), len(outputs), aux_updates,
                 lazy)
    for i, o in enumerate(outputs):
        o._entry = (node, i)


def _apply_aux_updates(nodes) -> None:
    """The deferred moving-average updates of ``nodes``, latest first (MXNet's backward order)."""
    from optjax.compat.mxnet.ops.registry import moving_average_updates
    boxes, slots, updates = [], {}, []
    for n in reversed(nodes):
        for box, momentum, increment in reversed(n.aux_updates):
            if id(box) not in slots:
                slots[id(box)] = len(boxes)
                boxes.append(box)
            updates.append((slots[id(box)], momentum, getattr(increment, "_data", increment)))
    if updates:
        for box, value in zip(boxes, moving_average_updates([b._data for b in boxes], updates)):
            box._data = value


def mark_variables(variables, gradients, grad_reqs="write") -> None:
    """Mark NDArrays as variables whose gradients ``backward`` writes into ``gradients``."""
    from optjax.compat.mxnet.ndarray.ndarray import NDArray
    if isinstance(variables, NDArray):
        variables, gradients = [variables], [gradients]
    reqs = [grad_reqs] * len(variables) if isinstance(grad_reqs, str) else list(grad_reqs)
    for v, g, r in zip(variables, gradients, reqs):
        if r not in ("write", "add", "null"):
            raise ValueError(f"grad_req must be 'write', 'add' or 'null', got {r!r}")
        v._grad = g
        v._grad_req = r
        v._entry = None


def _collect(heads):
    """The tape nodes reaching ``heads``, in recording order, and the leaves they read."""
    seen, stack = {}, []
    for h in heads:
        if h._entry is not None:
            stack.append(h._entry[0])
    while stack:
        n = stack.pop()
        if n.id in seen:
            continue
        if n.freed:
            raise MXNetError(_NOT_IN_GRAPH)
        seen[n.id] = n
        for r in n.inputs:
            if r is not None and r[0] == "n":
                stack.append(r[1])
    return [seen[k] for k in sorted(seen)]


def _plan(heads, variables=None):
    """A hashable description of the graph and the arrays it reads.

    Returns ``(structure, var_list, var_values, consts, fns)``: the replay is a
    function of the variables' values and the constants; ``structure`` is the cache key.
    """
    nodes = _collect(heads)
    pos = {n.id: k for k, n in enumerate(nodes)}
    var_index, var_list, var_values, consts, fns = {}, [], [], [], []
    if variables is not None:
        for v in variables:
            var_index[id(v)] = len(var_list)
            var_list.append(v)
            var_values.append(v._data)
    desc_nodes = []
    cacheable = True

    def leaf(r):
        if r is None:
            return None
        if r[0] == "n":
            return ("n", pos[r[1].id], r[2])
        if r[0] == "v":
            k = var_index.get(id(r[1]))
            if k is None and variables is None:
                k = var_index[id(r[1])] = len(var_list)
                var_list.append(r[1])
                var_values.append(r[2])
            if k is not None:
                return ("v", k)
        consts.append(r[-1])
        return ("c", len(consts) - 1)

    for n in nodes:
        ins = tuple(leaf(r) for r in n.inputs)
        dyn = tuple(sorted(n.dynamic))
        for k in dyn:
            consts.append(n.dynamic[k])
        desc_nodes.append((n.key, ins, dyn, len(consts) - len(dyn), n.n_out))
        fns.append(n.fn)
        cacheable &= n.key is not None
    head_desc = []
    for h in heads:
        if h._entry is not None and h._entry[0].id in pos:
            head_desc.append(("n", pos[h._entry[0].id], h._entry[1]))
        elif id(h) in var_index or (variables is None and h._grad_req not in (None, "null")):
            if id(h) not in var_index:
                var_index[id(h)] = len(var_list)
                var_list.append(h)
                var_values.append(h._data)
            head_desc.append(("v", var_index[id(h)]))
        else:
            raise MXNetError(_NOT_IN_GRAPH)
    keep = tuple(k for k, n in enumerate(nodes) if n.lazy is not None and n.lazy.pending)
    structure = (tuple(desc_nodes), tuple(head_desc), len(var_list), keep)
    return structure, cacheable, nodes, var_list, var_values, consts, fns


def _replay_fn(structure_nodes, head_desc, fns, keep=()):
    def forward(var_values, consts):
        results = []
        for (key, ins, dyn, c0, n_out), fn in zip(structure_nodes, fns):
            args = []
            for r in ins:
                if r is None:
                    args.append(None)
                elif r[0] == "n":
                    args.append(results[r[1]][r[2]])
                elif r[0] == "v":
                    args.append(var_values[r[1]])
                else:
                    args.append(consts[r[1]])
            out = fn(*args, **{k: consts[c0 + i] for i, k in enumerate(dyn)})
            results.append(tuple(out) if isinstance(out, (tuple, list)) else (out,))
        heads = [results[h[1]][h[2]] if h[0] == "n" else var_values[h[1]] for h in head_desc]
        return heads, [results[k] for k in keep]

    def grads(var_values, consts, cotangents):
        """``(gradients, outputs of the pending nodes in keep)``."""
        _, pullback, kept = jax.vjp(lambda vv: forward(vv, consts), var_values, has_aux=True)
        return pullback(cotangents)[0], kept

    return grads


_replay_cache: dict = {}


def _grads(heads, head_grads, variables=None):
    structure, cacheable, nodes, var_list, var_values, consts, fns = _plan(heads, variables)
    cots = []
    for k, h in enumerate(heads):
        g = None if head_grads is None else head_grads[k]
        if g is None:
            cots.append(_ones(tuple(h.shape), h._store.dtype))
        else:
            gv = g._data if hasattr(g, "_data") else jnp.asarray(g)
            if tuple(gv.shape) != tuple(h.shape):
                raise MXNetError(f"head gradient of shape {tuple(gv.shape)} does not match the "
                                 f"head's shape {tuple(h.shape)}")
            cots.append(cast(gv, h._store.dtype))
    fn = _replay_cache.get(structure) if cacheable else None
    if fn is None:
        fn = _replay_fn(structure[0], structure[1], fns, structure[3])
        if cacheable:  # the same structure means the same functions: compile once
            fn = jax.jit(fn)
            if len(_replay_cache) > 256:
                _replay_cache.clear()
            _replay_cache[structure] = fn
    grads, kept = fn(var_values, consts, cots)
    for k, values in zip(structure[3], kept):  # the pending outputs, computed by the replay
        nodes[k].lazy.fill(values)
    return var_list, grads, nodes


@functools.lru_cache(maxsize=256)
def _ones(shape, dtype):
    """A head gradient of ones (a host array, read-only: made once per shape and dtype)."""
    ones = np.ones(shape, dtype)
    ones.flags.writeable = False
    return ones


def _device_groups(heads) -> list:
    """Indices of ``heads`` grouped by the device holding each head's value."""
    from optjax.compat.mxnet.ndarray.ndarray import device_of
    groups: dict = {}
    for i, h in enumerate(heads):
        groups.setdefault(device_of(h), []).append(i)
    return list(groups.values())


def backward(heads, head_grads=None, retain_graph: bool = False, train_mode: bool = True):
    """Compute the gradients of ``heads`` and write them into the variables' ``.grad``."""
    from optjax.compat.mxnet.ndarray.ndarray import NDArray
    if isinstance(heads, NDArray):
        heads = [heads]
        head_grads = None if head_grads is None else (
            [head_grads] if isinstance(head_grads, NDArray) else head_grads)
    heads = list(heads)
    groups = _device_groups(heads)
    if len(groups) > 1:  # data parallelism: one graph per device, each replayed on its device
        for idx in groups:
            backward([heads[i] for i in idx],
                     None if head_grads is None else [head_grads[i] for i in idx],
                     retain_graph=retain_graph, train_mode=train_mode)
        return
    with _scope(False, train_mode):
        var_list, grads, nodes = _grads(heads, head_grads)
    if train_mode:
        _apply_aux_updates(nodes)
    for v, g in zip(var_list, grads):
        if v._grad is None or v._grad_req in (None, "null"):
            continue
        if v._grad_req == "add":
            v._grad._data = v._grad._data + cast(g, v._grad._data.dtype)
        else:
            v._grad._data = cast(g, v._grad._data.dtype)
        v._grad._fresh_grad = True
        v._grad._entry = None
    if not retain_graph:
        for n in nodes:
            n.freed = True


def grad(heads, variables, head_grads=None, retain_graph=None, create_graph: bool = False,
         train_mode: bool = True):
    """Gradients of ``heads`` with respect to ``variables``, returned (``.grad`` is untouched).

    With ``create_graph=True`` the returned gradients are themselves recorded, so
    they can be differentiated again.
    """
    from optjax.compat.mxnet.ndarray.ndarray import NDArray, from_jax
    single = isinstance(variables, NDArray)
    heads = [heads] if isinstance(heads, NDArray) else list(heads)
    variables = [variables] if single else list(variables)
    if isinstance(head_grads, NDArray):
        head_grads = [head_grads]
    if retain_graph is None:
        retain_graph = create_graph
    with _scope(False, train_mode):
        var_list, grads, nodes = _grads(heads, head_grads, variables)
    if train_mode:
        _apply_aux_updates(nodes)
    outs = [from_jax(g, v._ctx) for v, g in zip(var_list, grads)]
    if create_graph and is_recording():
        structure, _, _, _, _, consts, fns = _plan(heads, variables)
        rep = _replay_fn(structure[0], structure[1], fns)
        cots = [jnp.ones(h.shape, h._data.dtype) if head_grads is None or head_grads[k] is None
                else head_grads[k]._data for k, h in enumerate(heads)]

        def grad_fn(*vals):
            return tuple(rep(list(vals), consts, cots)[0])

        record_fn(grad_fn, None, variables, {}, outs)
    if not retain_graph:
        for n in nodes:
            n.freed = True
    return outs[0] if single else outs


class Function:
    """A user-defined differentiable function (``forward``/``backward`` on NDArrays).

    As in MXNet, ``forward`` runs outside recording and ``backward`` receives the
    output gradients and returns the input gradients; the pair is recorded on the tape
    as one ``jax.custom_vjp`` call.
    """

    def __init__(self):
        self._saved = ()

    def save_for_backward(self, *args):
        self._saved = args

    @property
    def saved_tensors(self):
        return self._saved

    def __call__(self, *inputs):
        from optjax.compat.mxnet.ndarray.ndarray import from_jax
        with pause(is_training()):
            outputs = self.forward(*inputs)
        single = not isinstance(outputs, (list, tuple))
        outs = [outputs] if single else list(outputs)
        if is_recording():
            func = self

            @jax.custom_vjp
            def f(*xs):
                return tuple(o._data for o in outs)

            def f_fwd(*xs):
                return f(*xs), None

            def f_bwd(_, cts):
                with pause():
                    gs = func.backward(*[from_jax(c) for c in cts])
                gs = [gs] if not isinstance(gs, (list, tuple)) else gs
                return tuple(g._data for g in gs)

            f.defvjp(f_fwd, f_bwd)
            copies = [from_jax(o._data, o._ctx) for o in outs]
            record_fn(f, None, list(inputs), {}, copies)
            outs = copies
        return outs[0] if single else outs
