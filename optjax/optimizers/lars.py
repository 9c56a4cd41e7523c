"""LARS: layer-wise adaptive rate scaling (``optax.lars``, ``mx.optimizer.LARS``).

Reference: You, Gitman and Ginsburg, *Large Batch Training of Convolutional
Networks*, 2017; MXNet 1.9.1 ``multi_lars`` + ``preloaded_multi_sgd_mom_update``.
"""

from typing import Any

import jax.numpy as jnp

from optjax import numerics, validation
from optjax.base import NO_PARAMS_MSG, GradientTransformation, PyTree, ScalarOrSchedule, init_empty_state
from optjax.combine import chain
from optjax.optimizers.lamb import scale_by_trust_ratio
from optjax.optimizers.lbsgd import clip_gradient_fn
from optjax.optimizers.momentum import trace
from optjax.transforms.masking import masked
from optjax.transforms.scaling import scale_by_learning_rate
from optjax.transforms.weight_decay import add_decayed_weights
from optjax.tree import leaf_names, resolve_per_leaf, tree_map_none

TRUST_RATIO_FORMS = ("optax", "mxnet")


def mxnet_lars_mask(params: PyTree) -> PyTree:
    """MXNet's LARS rule: leaves whose name ends in ``gamma``, ``beta`` or ``bias``
    get the plain learning rate (False), all others the trust ratio (True).
    Pass as ``trust_ratio_mask=optjax.mxnet_lars_mask``."""

    def rule(name):
        last = name.rsplit("/", 1)[-1]
        return not (last.endswith("gamma") or last.endswith("beta") or last.endswith("bias"))

    return tree_map_none(rule, leaf_names(params))


def scale_by_mxnet_lars(
    trust_coefficient: float = 0.001,
    eps: float = 0.0,
    *,
    weight_decay: Any = 0.0,
    weight_decay_mask: Any = True,
    trust_ratio_mask: Any = True,
    clip_gradient: float | None = None,
) -> GradientTransformation:
    """MXNet's LARS step direction, per leaf (before the learning rate)::

        ratio = eta * |w| / (|g| + wd * |w| + eps)      (1 if |w| or |g| is 0, or masked out)
        u     = ratio * (clip(g, clip_gradient) + wd * w)

    ``|g|`` is the norm of the gradient *before* clipping (MXNet's
    ``multi_lars``); ``clip_gradient`` None, 0 or negative means no clipping.
    """
    validation.non_negative("trust_coefficient", trust_coefficient)
    validation.non_negative("eps", eps)
    validation.non_negative("weight_decay", weight_decay)
    clip = clip_gradient_fn(clip_gradient)

    def update_fn(updates, state, params=None, **extra_args):
        del extra_args
        if params is None:
            raise ValueError(NO_PARAMS_MSG.format(name="scale_by_mxnet_lars"))
        wd_on = resolve_per_leaf(weight_decay_mask, params, name="weight_decay_mask", default=False)
        tr_on = resolve_per_leaf(trust_ratio_mask, params, name="trust_ratio_mask", default=False)

        def leaf(u, p, wd_m, tr_m):
            cdt = numerics.compute_dtype(u.dtype)
            g, w = u.astype(cdt), p.astype(cdt)
            wd = weight_decay if bool(wd_m) else 0.0
            ratio = 1.0
            if bool(tr_m):
                w_norm = jnp.sqrt(jnp.sum(numerics.abs_sq(w)))
                g_norm = jnp.sqrt(jnp.sum(numerics.abs_sq(g)))
                ok = (w_norm > 0.0) & (g_norm > 0.0)
                ratio = jnp.where(ok, trust_coefficient * w_norm / (g_norm + wd * w_norm + eps), 1.0)
            if clip is not None:
                g = clip(g)
            return (ratio * (g + wd * w)).astype(u.dtype)

        return tree_map_none(leaf, updates, params, wd_on, tr_on), state

    return GradientTransformation(init_empty_state, update_fn)


def lars(
    learning_rate: ScalarOrSchedule,
    weight_decay: Any = 0.0,
    weight_decay_mask: Any = True,
    trust_coefficient: float = 0.001,
    eps: float = 0.0,
    trust_ratio_mask: Any = True,
    momentum: float = 0.9,
    nesterov: bool = False,
    *,
    trust_ratio_form: str = "optax",
    clip_gradient: float | None = None,
) -> GradientTransformation:
    """LARS: SGD with momentum whose step is scaled per layer by a trust ratio.

    ``trust_ratio_form="optax"`` (default) is ``optax.lars``::

        u = g + wd * w ;  u <- tc * |w| / (|u| + eps) * u ;  b <- mu * b - lr * u ;  w <- w + b

    ``trust_ratio_form="mxnet"`` is ``mx.optimizer.LARS(eta=tc, eps, momentum,
    wd)``: the ratio is ``tc * |w| / (|g| + wd * |w| + eps)`` with the norm of
    the raw gradient, and ``clip_gradient`` clips the gradient after that
    norm (see :func:`scale_by_mxnet_lars`). MXNet gives names ending in
    ``gamma``/``beta``/``bias`` the plain learning rate: pass
    ``trust_ratio_mask=optjax.mxnet_lars_mask``.

    The momentum buffer holds ``lr * u`` (MXNet's convention; its buffer is the
    negation). MXNet's ``momentum_correction`` (``mu * lr_t / lr_{t-1}`` when a
    scheduled learning rate changes) is not applied here.

    Args:
      learning_rate: ``lr >= 0``, float or schedule.
      weight_decay: coupled L2 ``>= 0``; ``weight_decay_mask`` selects leaves.
      trust_coefficient: ``tc >= 0`` (MXNet's ``eta``).
      eps: ``>= 0``.
      trust_ratio_mask: which leaves get the ratio (others the plain lr).
      momentum: ``mu`` in [0, 1]; ``nesterov``: Nesterov momentum.
      trust_ratio_form, clip_gradient: see above (``clip_gradient`` only with "mxnet").

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.lars(0.1)
    >>> p = {"w": jnp.ones(2)}
    >>> u, s = tx.update({"w": jnp.ones(2)}, tx.init(p), p)
    """
    validation.learning_rate(learning_rate)
    validation.non_negative("weight_decay", weight_decay)
    validation.non_negative("trust_coefficient", trust_coefficient)
    validation.non_negative("eps", eps)
    validation.check("momentum", momentum, low=0.0, high=1.0)
    validation.one_of("trust_ratio_form", trust_ratio_form, TRUST_RATIO_FORMS)
    if trust_ratio_form == "mxnet":
        direction = [scale_by_mxnet_lars(trust_coefficient, eps, weight_decay=weight_decay,
                                         weight_decay_mask=weight_decay_mask,
                                         trust_ratio_mask=trust_ratio_mask, clip_gradient=clip_gradient)]
    else:
        if clip_gradient is not None:
            raise ValueError("clip_gradient needs trust_ratio_form='mxnet' (chain optjax.clip before lars)")
        # optax.lars's four stages (and so its state layout)
        direction = [add_decayed_weights(weight_decay, weight_decay_mask),
                     masked(scale_by_trust_ratio(trust_coefficient=trust_coefficient, eps=eps), trust_ratio_mask)]
    return chain(*direction, scale_by_learning_rate(learning_rate), trace(momentum, nesterov))
