"""The tape entry of a hybridized block's recorded forward: backward applies saved VJP residuals.

A hybridized block called under ``autograd.record()`` runs one compiled function
returning its outputs and its pullback (``jax.vjp`` inside ``jax.jit``; the
pullback is a pytree of residual arrays). :func:`replay_with_residuals` is the
function recorded on the tape: it returns the saved outputs, and its gradient
applies the saved pullback, so ``backward`` does not run the forward again.
Differentiating that gradient again (a second-order ``autograd.grad``) raises
``MXNetError`` rather than treating the residuals as constants.
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from optjax.compat.mxnet.base import MXNetError

__all__ = ["vjp_with_aux", "replay_with_residuals"]


def vjp_with_aux(run, pvals, xs, key, is_train):
    """``((outputs, changed auxiliary values), pullback of the outputs)`` of a compiled forward."""
    outs, pullback, changed = jax.vjp(lambda pv, xv: run(pv, xv, key, is_train), pvals, xs,
                                      has_aux=True)
    return (outs, changed), pullback


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
def replay_with_residuals(n_params, n_inputs, n_outs, treedef):
    """The tape entry of a recorded compiled forward: ``f(*params, *inputs, key, *outputs,
    *residuals) = outputs`` whose gradient applies the forward's saved pullback, so
    ``backward`` does not run the forward again. Cached: a training loop's calls share
    one function (building a ``custom_vjp`` is Python work on every call otherwise)."""
    first_out = n_params + n_inputs + 1

    @jax.custom_vjp
    def node(*arrays):
        return tuple(arrays[first_out:first_out + n_outs])

    def node_fwd(*arrays):
        return node(*arrays), arrays

    def node_bwd(arrays, cts):
        g_params, g_inputs = _apply_pullback(treedef, arrays[first_out + n_outs:], tuple(cts),
                                             arrays[:n_params + n_inputs])
        rest = [_zero_cotangent(a) for a in arrays[n_params + n_inputs:]]
        g_inputs = [None if a is None else (g if g is not None else _zero_cotangent(a))
                    for a, g in zip(arrays[n_params:n_params + n_inputs], g_inputs)]
        return (*g_params, *g_inputs, *rest)

    node.defvjp(node_fwd, node_bwd)
    return node
