"""Recipes: the optjax transform that reproduces one MXNet 1.9.1 optimizer class
on ONE parameter.

``build(name, *, learning_rate, wd, rescale_grad, clip_gradient, **kwargs)``
returns a :class:`~optjax.GradientTransformation` for a single array whose
``update(grad, state, weight)`` gives ``new_weight - weight`` exactly as
``mx.optimizer.<Class>(...).update(index, weight, grad, state)`` does, where
``learning_rate`` and ``wd`` are the *effective* values MXNet's update would
use for that index (scheduler, ``lr_mult``, ``wd_mult`` already applied: the
shim computes them, see ``docs/optimizers-mxnet.md``).

Designed for the shim's ``jax.jit``: ``learning_rate``, ``wd`` and
``rescale_grad`` may be traced scalars (a changing learning rate never
recompiles); ``clip_gradient`` and the class's own kwargs are static Python
values (they steer which ops run). Concrete values are validated (ValueError
naming the argument); unknown kwargs raise TypeError, as MXNet's constructor
does.

Common rules reproduced (read off MXNet 1.9.1's ``python/mxnet/optimizer/optimizer.py``
and the kernels in ``src/operator/optimizer_op-inl.h``; the table in
``docs/optimizers-mxnet.md`` lists each class):

* the per-class order of rescale, clip and weight decay;
* which ``clip_gradient`` values mean "off": C++-kernel classes (SGD, NAG,
  RMSProp, Adam, Signum, FTML, LBSGD, Ftrl, LAMB, LARS) clip only for
  ``c > 0`` (None, 0, negative: off); python classes (AdaGrad, AdaDelta,
  Adamax, Nadam, DCASGD, SGLD, GroupAdaGrad) clip whenever ``c is not None``,
  so ``c = 0`` clips every gradient to 0 (and a negative ``c`` gives
  ``mx.nd.clip``'s answer for an inverted range);
* the per-index step ``t`` for bias corrections is the transform's own count.

Momentum buffers keep MXNet's values up to sign (MXNet's SGD, NAG, LARS and
Signum buffers are added to the weight; optjax's ``trace`` holds the same
numbers as the velocity ``w_new - w``, Signum's EMA is MXNet's negated); this
matters only when exchanging state with MXNet.
"""

from __future__ import annotations

from typing import Any, Callable

import jax.numpy as jnp

import optjax
from optjax import validation
from optjax.base import GradientTransformation, identity, stateless
from optjax.combine import chain
from optjax.compat.mxnet.clip import mxnet_clip
from optjax.transforms.constraints import clip_params
from optjax.tree import tree_map_none

CPP = "cpp"
PYTHON = "python"

# Class name (lower case, as MXNet's registry) -> builder.
RECIPES: dict[str, Callable[..., GradientTransformation]] = {}


def _register(name: str):
    def deco(fn):
        RECIPES[name] = fn
        return fn
    return deco


def clip_is_on(clip_gradient: float | None, path: str) -> bool:
    """Whether MXNet clips for this ``clip_gradient`` on this code path."""
    if clip_gradient is None:
        return False
    return path == PYTHON or clip_gradient > 0


def mx_clip(clip_gradient: float | None, path: str) -> GradientTransformation:
    """MXNet's ``clip(g, -c, c)`` with the path's "off" convention (identity when off)."""
    if not clip_is_on(clip_gradient, path):
        return identity()
    c = float(clip_gradient)
    return stateless(lambda u, p: tree_map_none(lambda x: mxnet_clip(x, jnp.asarray(c, x.dtype)), u))


def _rescale(rescale_grad: Any) -> GradientTransformation:
    return optjax.scale(rescale_grad)


def _decay(wd: Any) -> GradientTransformation:
    return optjax.add_decayed_weights(wd)


def _check_common(learning_rate, wd, rescale_grad, clip_gradient):
    validation.learning_rate(learning_rate)
    validation.non_negative("wd", wd)
    validation.check("rescale_grad", rescale_grad)
    if clip_gradient is not None and not isinstance(clip_gradient, (int, float)):
        raise TypeError(f"clip_gradient must be a Python float or None (static), got {clip_gradient!r}")


def build(
    name: str,
    *,
    learning_rate: Any,
    wd: Any = 0.0,
    rescale_grad: Any = 1.0,
    clip_gradient: float | None = None,
    **kwargs: Any,
) -> GradientTransformation:
    """The transform reproducing ``mx.optimizer.create(name, **kwargs)`` on one parameter.

    Args:
      name: the MXNet registry name, case-insensitive (``"sgd"``, ``"NAG"``, ...).
      learning_rate: the effective lr of this index (may be traced).
      wd: the effective weight decay of this index (may be traced).
      rescale_grad: may be traced.
      clip_gradient: static float or None.
      kwargs: the class's own constructor arguments, MXNet's names and defaults
        (``multi_precision`` and ``lazy_update`` are accepted and ignored:
        dense float32/float64 math only).
    """
    key = name.lower()
    if key not in RECIPES:
        raise ValueError(f"unknown MXNet optimizer {name!r}; known: {sorted(RECIPES)}")
    _check_common(learning_rate, wd, rescale_grad, clip_gradient)
    kwargs.pop("multi_precision", None)
    kwargs.pop("lazy_update", None)
    return RECIPES[key](learning_rate=learning_rate, wd=wd, rescale_grad=rescale_grad,
                        clip_gradient=clip_gradient, **kwargs)


# ---------------------------------------------------------------------------
# The classes. Each docstring gives MXNet's formula the chain reproduces.


@_register("sgd")
def sgd(*, learning_rate, wd, rescale_grad, clip_gradient, momentum=0.0):
    """``mom = mu*mom - lr*wd*w - lr*clip(rs*g); w += mom`` (``multi_sgd_mom_update``)."""
    validation.check("momentum", momentum, low=0.0, high=1.0)
    parts = [_rescale(rescale_grad), mx_clip(clip_gradient, CPP), _decay(wd),
             optjax.scale_by_learning_rate(learning_rate)]
    if momentum > 0:
        parts.append(optjax.trace(momentum))
    return chain(*parts)


@_register("ccsgd")
def ccsgd(**kw):
    """``ccSGD`` is ``SGD``."""
    return sgd(**kw)


@_register("nag")
def nag(*, learning_rate, wd, rescale_grad, clip_gradient, momentum=0.0):
    """``nag_mom_update`` with its aliasing: the stored momentum's wd term reads the updated weight."""
    return chain(_rescale(rescale_grad), mx_clip(clip_gradient, CPP),
                 optjax.nag(learning_rate, momentum, weight_decay=wd, wd_on_updated_weight=True))


@_register("rmsprop")
def rmsprop(*, learning_rate, wd, rescale_grad, clip_gradient, gamma1=0.9, gamma2=0.9, epsilon=1e-8,
            centered=False, clip_weights=None):
    """``g' = clip(rs*g + wd*w)``; ``n = (1-g1) g'^2 + g1 n``; ``w -= lr g'/sqrt(n + eps)``
    (centered: ``delta = g2 delta - lr g'/sqrt(n - gm^2 + eps); w += delta``);
    then ``clip(w, clip_weights)`` if truthy."""
    parts = [_rescale(rescale_grad), _decay(wd), mx_clip(clip_gradient, CPP),
             optjax.scale_by_rms(gamma1, epsilon, 0.0, eps_in_sqrt=True, centered=centered),
             optjax.scale_by_learning_rate(learning_rate)]
    if centered:
        parts.append(optjax.trace(gamma2))
    if clip_weights:
        parts.append(clip_params(clip_weights))
    return chain(*parts)


@_register("adam")
def adam(*, learning_rate, wd, rescale_grad, clip_gradient, beta1=0.9, beta2=0.999, epsilon=1e-8):
    """``g' = clip(rs*g + wd*w)``; ``w -= lr*sqrt(1-b2^t)/(1-b1^t) * m/(sqrt(v) + eps)``."""
    return chain(_rescale(rescale_grad), _decay(wd), mx_clip(clip_gradient, CPP),
                 optjax.scale_by_adam(beta1, beta2, epsilon, eps_placement="uncorrected"),
                 optjax.scale_by_learning_rate(learning_rate))


@_register("adagrad")
def adagrad(*, learning_rate, wd, rescale_grad, clip_gradient, eps=1e-7):
    """``g' = clip(rs*g)``; ``h += g'^2``; ``w -= lr*(g'/sqrt(h + eps) + wd*w)``."""
    return chain(_rescale(rescale_grad), mx_clip(clip_gradient, PYTHON),
                 optjax.scale_by_rss(0.0, eps, eps_in_sqrt=True), _decay(wd),
                 optjax.scale_by_learning_rate(learning_rate))


@_register("adadelta")
def adadelta(*, learning_rate, wd, rescale_grad, clip_gradient, rho=0.9, epsilon=1e-5):
    """``g' = clip(rs*g)``; AdaDelta's ``delta``; ``w -= delta + wd*w`` (no lr: MXNet ignores it).

    MXNet also scales the caller's gradient array in place (``grad *= rs``);
    a pure transform cannot and does not."""
    del learning_rate
    return chain(_rescale(rescale_grad), mx_clip(clip_gradient, PYTHON),
                 optjax.scale_by_adadelta(rho, epsilon), _decay(wd), optjax.scale(-1.0))


@_register("adamax")
def adamax(*, learning_rate, wd, rescale_grad, clip_gradient, beta1=0.9, beta2=0.999):
    """``g' = clip(rs*g + wd*w)``; ``u = max(b2 u, |g'|)``; ``w -= lr/(1-b1^t) * m/u`` (no eps)."""
    return chain(_rescale(rescale_grad), _decay(wd), mx_clip(clip_gradient, PYTHON),
                 optjax.scale_by_adamax(beta1, beta2, 0.0), optjax.scale_by_learning_rate(learning_rate))


@_register("nadam")
def nadam(*, learning_rate, wd, rescale_grad, clip_gradient, beta1=0.9, beta2=0.999, epsilon=1e-8,
          schedule_decay=0.004):
    """``g' = clip(rs*g + wd*w)``; Dozat's NAdam with ``m_schedule``.

    MXNet keeps ONE ``m_schedule`` per optimizer, multiplied by every index's
    update; this transform keeps it per parameter (``mu_product``). To
    reproduce MXNet, the caller threads the shared value through the state
    with :func:`get_m_schedule` / :func:`set_m_schedule` around each update."""
    return chain(_rescale(rescale_grad), _decay(wd), mx_clip(clip_gradient, PYTHON),
                 optjax.scale_by_nadam(beta1, beta2, epsilon, schedule_decay),
                 optjax.scale_by_learning_rate(learning_rate))


@_register("dcasgd")
def dcasgd(*, learning_rate, wd, rescale_grad, clip_gradient, momentum=0.0, lamda=0.04):
    """``g' = clip(rs*g)``; ``mom = -lr*(g' + wd*w + lamda*g'^2*(w - w_prev))``.
    ``momentum > 0`` crashes in MXNet; here it does what MXNet's code intends."""
    return chain(_rescale(rescale_grad), mx_clip(clip_gradient, PYTHON),
                 optjax.dcasgd(learning_rate, momentum, lamda, weight_decay=wd))


@_register("sgld")
def sgld(*, learning_rate, wd, rescale_grad, clip_gradient, key=None):
    """``g' = clip(rs*g)``; ``w += -lr/2*(g' + wd*w) + N(0, lr)``; needs ``key``."""
    return chain(_rescale(rescale_grad), mx_clip(clip_gradient, PYTHON),
                 optjax.sgld(learning_rate, weight_decay=wd, key=key))


@_register("signum")
def signum(*, learning_rate, wd, rescale_grad, clip_gradient, momentum=0.9, wd_lh=0.0):
    """``momentum > 0``: ``mom = mu mom - (1-mu)(wd w + clip(rs g)); w = (1-lr wd_lh) w + lr sign(mom)``.
    ``momentum == 0``: ``w = (1 - lr*wd)*w - lr*sign(g)``, ignoring rescale and clip (MXNet's signsgd)."""
    if momentum > 0:
        return chain(_rescale(rescale_grad), mx_clip(clip_gradient, CPP),
                     optjax.signum(learning_rate, momentum, weight_decay=wd, wd_lh=wd_lh or 0.0))
    return optjax.sign_sgd(learning_rate, weight_decay=wd)


@_register("ftml")
def ftml(*, learning_rate, wd, rescale_grad, clip_gradient, beta1=0.6, beta2=0.999, epsilon=1e-8):
    """``g' = clip(rs*g + wd*w)`` then FTML (per-index ``t``)."""
    return chain(_rescale(rescale_grad), _decay(wd), mx_clip(clip_gradient, CPP),
                 optjax.ftml(learning_rate, beta1, beta2, epsilon))


@_register("lbsgd")
def lbsgd(*, learning_rate, wd, rescale_grad, clip_gradient, momentum=0.0, warmup_strategy="linear",
          warmup_epochs=5, batch_scale=1, updates_per_epoch=32, begin_epoch=0, num_epochs=60):
    """Accumulate ``batch_scale`` grads, then ``sgd(_mom)_update`` with ``clip(rs * cum/bs)`` and
    the warm-up multiplier. MXNet reads the scheduler *before* counting (``lr(0)``
    on the first call): the shim passes that lr. MXNet's aliasing of the first
    accumulated gradient is not reproduced (see ``optjax.lbsgd``)."""
    return optjax.lbsgd(learning_rate, momentum, weight_decay=wd, warmup_strategy=warmup_strategy,
                        warmup_epochs=warmup_epochs, batch_scale=batch_scale,
                        updates_per_epoch=updates_per_epoch, begin_epoch=begin_epoch,
                        num_epochs=num_epochs, rescale_grad=rescale_grad,
                        clip_gradient=clip_gradient if clip_is_on(clip_gradient, CPP) else None)


@_register("ftrl")
def ftrl(*, learning_rate, wd, rescale_grad, clip_gradient, lamda1=0.01, beta=1.0):
    """``g' = clip(rs*g)`` then FTRL with ``wd`` in the denominator."""
    return chain(_rescale(rescale_grad), mx_clip(clip_gradient, CPP),
                 optjax.ftrl(learning_rate, lamda1, beta, weight_decay=wd))


@_register("lamb")
def lamb(*, learning_rate, wd, rescale_grad, clip_gradient, beta1=0.9, beta2=0.999, epsilon=1e-6,
         lower_bound=None, upper_bound=None, bias_correction=True):
    """``g' = clip(rs*g)``; ``r = m_hat/(sqrt(v_hat)+eps) + wd*w``; ``w -= lr*(|w|/|r|)*r``.
    Bounds are used only if truthy, as MXNet passes them."""
    return chain(_rescale(rescale_grad), mx_clip(clip_gradient, CPP),
                 optjax.lamb(learning_rate, beta1, beta2, epsilon, weight_decay=wd,
                             bias_correction=bias_correction,
                             lower_bound=lower_bound or None, upper_bound=upper_bound or None))


LARS_PLAIN_SUFFIXES = ("gamma", "beta", "bias")


@_register("lars")
def lars(*, learning_rate, wd, rescale_grad, clip_gradient, momentum=0.0, eta=0.001, eps=0.0,
         momentum_correction=True, param_name=None):
    """``lr_l = lr*eta*|w|/(|rs g| + wd |w| + eps)`` (plain ``lr`` if a norm is 0 or
    ``param_name`` ends in gamma/beta/bias); then SGD-momentum with ``lr_l``.

    ``param_name``: MXNet's ``idx2name[index]`` (or ``str(index)``), static.

    ``momentum`` is the momentum of THIS update and may be a traced scalar.
    ``momentum_correction`` is optimizer-level bookkeeping, not part of one
    update: MXNet uses ``momentum * cur_lr/last_lr`` where ``cur_lr``/``last_lr``
    are the scheduled lrs of this and the previous ``_get_lrs`` call (one per
    aggregated chunk of at most ``MXNET_OPTIMIZER_AGGREGATION_SIZE`` indices).
    The caller computes that product and passes it as ``momentum`` (the shim
    does: ``mx.optimizer.LARS``); the flag itself is accepted and ignored here."""
    del momentum_correction
    plain = param_name is not None and str(param_name).endswith(LARS_PLAIN_SUFFIXES)
    return chain(_rescale(rescale_grad),
                 optjax.lars(learning_rate, wd, True, eta, eps, not plain, momentum,
                             trust_ratio_form="mxnet",
                             clip_gradient=clip_gradient if clip_is_on(clip_gradient, CPP) else None))


@_register("groupadagrad")
def groupadagrad(*, learning_rate, wd, rescale_grad, clip_gradient, eps=1e-5):
    """``g' = clip(rs*g)``; ``h += mean(g'^2, axis=1)``; ``w -= lr*g'/sqrt(h + eps)``; wd must be 0."""
    v = validation.concrete_float(wd)
    if v is not None and v != 0.0:
        raise ValueError(f"wd must be 0 for GroupAdaGrad (MXNet asserts it), got {wd!r}")
    return chain(_rescale(rescale_grad), mx_clip(clip_gradient, PYTHON),
                 optjax.group_adagrad(learning_rate, eps))


# ---------------------------------------------------------------------------
# Operator-only rules (MXNet has these kernels but no optimizer class).


def lamb_direction(*, wd, rescale_grad, clip_gradient, beta1=0.9, beta2=0.999, epsilon=1e-6):
    """``lamb_update_phase1``: LAMB's direction ``m_hat/(sqrt(v_hat) + eps) + wd*w`` before
    the trust ratio and the learning rate (the first pieces of :func:`lamb`)."""
    return chain(_rescale(rescale_grad), mx_clip(clip_gradient, CPP),
                 optjax.scale_by_adam(beta1, beta2, epsilon), _decay(wd))


def adamw(*, learning_rate, eta, wd, rescale_grad, clip_gradient, beta1=0.9, beta2=0.999,
          epsilon=1e-8):
    """``contrib.adamw_update``: ``g' = clip(rs*g)``; ``w -= eta*(lr*m_hat/(sqrt(v_hat) + eps)
    + wd*w)``. (MXNet's kernel has no bias correction: its callers run it at a saturated
    count, where ``m_hat = m``.)"""
    return chain(_rescale(rescale_grad), mx_clip(clip_gradient, CPP),
                 optjax.scale_by_adam(beta1, beta2, epsilon), optjax.scale(learning_rate),
                 _decay(wd), optjax.scale(-eta))


# ---------------------------------------------------------------------------
# State by field name: how MXNet's state arrays (and the shim's shared values,
# Nadam's m_schedule) enter and leave a recipe's state.


def fields_of(state) -> dict:
    """``{field name: value}`` of every NamedTuple field in a recipe's state (first wins)."""
    out: dict = {}

    def walk(s):
        if isinstance(s, tuple) and hasattr(s, "_fields"):
            for f in s._fields:
                out.setdefault(f, getattr(s, f))
                walk(getattr(s, f))
        elif isinstance(s, (tuple, list)):
            for x in s:
                walk(x)

    walk(state)
    return out


def with_fields(state, values: dict, count: Any = None):
    """A copy of ``state`` whose NamedTuple fields named in ``values`` hold those values
    (cast to the field's dtype) and whose ``count`` fields hold ``count`` (if given)."""
    def put(old, new):
        if old is None or getattr(old, "shape", None) is None:
            return new
        return jnp.broadcast_to(jnp.asarray(new, old.dtype), old.shape)

    def walk(s):
        if isinstance(s, tuple) and hasattr(s, "_fields"):
            kw = {}
            for f in s._fields:
                v = getattr(s, f)
                if f in values:
                    kw[f] = put(v, values[f])
                elif f == "count" and count is not None and v is not None:
                    kw[f] = jnp.asarray(count, v.dtype)
                else:
                    kw[f] = walk(v)
            return type(s)(**kw)
        if isinstance(s, (tuple, list)):
            return type(s)(walk(x) for x in s)
        return s

    return walk(state)


def update(tx: GradientTransformation, weight, grad, values: dict, count: Any):
    """``tx``'s update of ``weight`` from the state given by field ``values``.

    The state is ``tx.init(weight)`` with the named fields replaced by ``values``
    and every ``count`` by ``count`` (the number of earlier updates: MXNet's
    per-index count minus one); under ``jax.jit`` the discarded initial values
    cost nothing. Returns ``(update, {field: new value})`` for the same fields.
    """
    state = with_fields(tx.init(weight), values, count)
    upd, state = tx.update(grad, state, weight)
    new = fields_of(state)
    return upd, {f: new[f] for f in values}


def step(tx: GradientTransformation, weight, grad, values: dict, count: Any):
    """:func:`update`, applied: ``(new weight, {field: new value})``."""
    upd, new = update(tx, weight, grad, values, count)
    return (weight + upd).astype(weight.dtype), new


def get_m_schedule(state) -> Any:
    """The ``mu_product`` (MXNet's ``m_schedule``) of a Nadam recipe's state."""
    found = fields_of(state)
    if "mu_product" not in found:
        raise ValueError("no Nadam state in this state")
    return found["mu_product"]


def set_m_schedule(state, value) -> Any:
    """A copy of a Nadam recipe's state whose ``mu_product`` is ``value``."""
    return with_fields(state, {"mu_product": jnp.asarray(value, jnp.float32)})
