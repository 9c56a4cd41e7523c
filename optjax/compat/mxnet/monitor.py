"""``mx.monitor.Monitor`` / ``mx.mon.Monitor``: MXNet 1.9.1's statistics of the arrays an
executor computes, every ``interval`` batches (``monitor.py``).

``install(executor)`` sets the executor's monitor callback: each forward pass then
reports every operator output of the graph (``<node>_output``, ``<node>_output<i>``,
evaluated by the compiled internals of the symbol) to the monitor, which keeps the
names matching ``pattern`` while activated (``tic`` on every ``interval``-th batch);
``toc`` adds the arguments and auxiliary states and returns ``(batch, name, stat)``
lines. The default statistic is ``norm(x) / sqrt(x.size)``. Each ``backward`` reports,
as MXNet 1.9.1 does, every operator node's backward outputs in backward order: the
gradients for its inputs, ``<node>_backward_output<i>`` (``<node>_backward_output`` for
one input; ``<node>_backward_data`` for the legacy ``MakeLoss`` and ``SliceChannel``, after
a ``zeros_without_dtype_output`` for each output nothing reads), none for an add, whose
gradient passes through. Where MXNet computes no gradient (an input with
``grad_req='null'``, such as a Module's data and label) its array holds stale memory and
ours the gradient. Unlike MXNet, hidden outputs (BatchNorm's ``bn_mean``/``bn_var``,
Dropout's ``mask``) and explicit head gradients (``_head_grad_*``) are not reported, and
``monitor_all`` does not add each node's inputs.

Example:
    >>> import optjax.compat.mxnet as mx
    >>> x = mx.sym.Variable("x")
    >>> ex = mx.sym.Activation(x, act_type="relu", name="relu").simple_bind(mx.cpu(), x=(2,))
    >>> mon = mx.mon.Monitor(1, pattern="relu.*")
    >>> mon.install(ex)
    >>> mon.tic()
    >>> _ = ex.forward(x=mx.nd.array([-3.0, 4.0]))
    >>> mon.toc()
    [(1, 'relu_output', '2.828427\\t')]
"""

from __future__ import annotations

import logging
import re
from math import sqrt

from optjax.compat.mxnet import ndarray
from optjax.compat.mxnet.ndarray.ndarray import NDArray

__all__ = ["Monitor"]


class Monitor:
    """Statistics of the outputs, arguments and auxiliary states of installed executors."""

    def __init__(self, interval: int, stat_func=None, pattern: str = ".*", sort: bool = False,
                 monitor_all: bool = False):
        if stat_func is None:
            def asum_stat(x):
                return ndarray.norm(x) / sqrt(x.size)
            stat_func = asum_stat
        self.stat_func = stat_func
        self.interval = interval
        self.activated = False
        self.queue = []
        self.step = 0
        self.exes = []
        self.re_prog = re.compile(pattern)
        self.sort = sort
        self.monitor_all = monitor_all

    def stat_helper(self, name: str, array: NDArray) -> None:
        """The executor's callback: keep ``stat_func(array)`` while activated."""
        if not self.activated or not self.re_prog.match(name):
            return
        self.queue.append((self.step, name, self.stat_func(array)))

    def install(self, exe) -> None:
        exe.set_monitor_callback(self.stat_helper, self.monitor_all)
        self.exes.append(exe)

    def tic(self) -> None:
        """Start collecting on every ``interval``-th batch."""
        if self.step % self.interval == 0:
            self.queue = []
            self.activated = True
        self.step += 1

    def toc(self) -> list:
        """End collecting: ``[(step, name, stat as text)]`` including the arguments and
        auxiliary states (empty when this batch was not collected)."""
        if not self.activated:
            return []
        for exe in self.exes:
            for name, array in zip(exe._symbol.list_arguments(), exe.arg_arrays):
                if self.re_prog.match(name):
                    self.queue.append((self.step, name, self.stat_func(array)))
            for name, array in zip(exe._symbol.list_auxiliary_states(), exe.aux_arrays):
                if self.re_prog.match(name):
                    self.queue.append((self.step, name, self.stat_func(array)))
        self.activated = False
        res = []
        if self.sort:
            self.queue.sort(key=lambda x: x[1])
        for n, k, v_list in self.queue:
            if isinstance(v_list, NDArray):
                v_list = [v_list]
            assert isinstance(v_list, list)
            s = ""
            for v in v_list:
                assert isinstance(v, NDArray)
                s += (str(v.asscalar()) if v.shape == (1,) else str(v.asnumpy())) + "\t"
            res.append((n, k, s))
        self.queue = []
        return res

    def toc_print(self) -> None:
        for n, k, v in self.toc():
            logging.info("Batch: {:7d} {:30s} {:s}".format(n, k, v))
