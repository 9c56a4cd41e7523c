"""The tape entry of a hybridized block's recorded forward.

A hybridized block called under ``autograd.record()`` records :func:`recorded_forward`
on the tape, its outputs pending (computed at the first read, or by ``backward``). ``backward``
replays the tape as one compiled function: the block's forward runs again there
under ``jax.vjp``, fused with the loss and the gradient (one XLA program for
forward, loss and backward; no residual arrays returned from the forward call;
no gradient for inputs that are not variables). Differentiating that gradient
again (a second-order ``autograd.grad``) raises ``MXNetError``: the block's
gradient is a saved pullback, not differentiable a second time.
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from optjax.compat.mxnet.base import MXNetError

__all__ = ["recorded_forward"]


def _zero_cotangent(x):
    if jax.numpy.issubdtype(x.dtype, jax.numpy.inexact):
        return jax.numpy.zeros_like(x)
    return np.zeros(x.shape, jax.dtypes.float0)


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _apply_pullback(treedef, residuals, cotangents, primals):
    """The saved pullback applied to ``cotangents``. ``primals`` (the block's parameters and
    inputs) are unused but passed so that differentiating the gradient again with respect
    to them reaches :func:`_apply_pullback_bwd`, which refuses, instead of seeing residuals
    that look constant (a silent zero)."""
    return jax.tree_util.tree_unflatten(treedef, residuals)(cotangents)


def _apply_pullback_fwd(treedef, residuals, cotangents, primals):
    return _apply_pullback(treedef, residuals, cotangents, primals), None


def _apply_pullback_bwd(treedef, _, __):  # noqa: D401
    raise MXNetError("a second-order gradient (autograd.grad(..., create_graph=True)) "
                     "through a hybridized block is not supported: the recorded compiled "
                     "forward keeps only first-order residuals. Call hybridize(False) on the "
                     "block for higher-order gradients.")


_apply_pullback.defvjp(_apply_pullback_fwd, _apply_pullback_bwd)


@functools.lru_cache(maxsize=256)
def recorded_forward(run, n_params, n_inputs, n_outs, is_train, in_fmt):
    """The tape entry of a hybridized block's call: ``f(*params, *inputs, key) = (*outputs,
    *moving-average increments)``, the block's forward ``run(params, inputs, key, is_train,
    in_fmt)``.

    ``backward`` replays it inside its one compiled function: the forward runs again under
    ``jax.vjp`` there, next to the loss and the gradient, so XLA sees the whole step (no
    residuals leave the compiled call, and nothing is computed for inputs that need no
    gradient). Its gradient applies the forward's pullback (the increments get none)
    through :func:`_apply_pullback`, so differentiating it again raises. Cached: a
    training loop's calls share one function (and one entry of the replay cache).
    """
    n_in = n_params + n_inputs

    @jax.custom_vjp
    def node(*arrays):
        outs, (_, increments) = run(arrays[:n_params], arrays[n_params:n_in], arrays[n_in],
                                    is_train, in_fmt)
        return tuple(outs) + tuple(increments)

    def node_fwd(*arrays):
        outs, pullback, (_, increments) = jax.vjp(
            lambda pv, xv: run(pv, xv, arrays[n_in], is_train, in_fmt),
            arrays[:n_params], arrays[n_params:n_in], has_aux=True)
        return tuple(outs) + tuple(increments), (arrays, pullback)

    def node_bwd(saved, cts):
        arrays, pullback = saved
        residuals, treedef = jax.tree_util.tree_flatten(pullback)
        g_params, g_inputs = _apply_pullback(treedef, residuals, tuple(cts[:n_outs]),
                                             arrays[:n_in])
        g_inputs = [None if a is None else (g if g is not None else _zero_cotangent(a))
                    for a, g in zip(arrays[n_params:n_in], g_inputs)]
        return (*g_params, *g_inputs, _zero_cotangent(arrays[n_in]))

    node.defvjp(node_fwd, node_bwd)
    return node
