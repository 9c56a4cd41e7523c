"""MXNet 1.9.1's optimizer update operators (``nd.sgd_update``, ``adam_update``, ...).

Each operator is a thin call into the functional core: it builds the recipe
of the matching MXNet class (:mod:`optjax.compat.mxnet.recipes`) with the
operator's attributes, puts its state inputs into the recipe's state by field
name and runs one update (:func:`recipes.step`). The new weight is the output
(``out=weight`` writes it in place, as MXNet's optimizers call these) and the
state inputs (``mom``, ``mean``/``var``, ``weight32``, ...) are updated in place,
as MXNet's kernels mutate them; ``op.mutates`` names their input positions.

So a custom optimizer in MXNet's style runs unchanged::

    sgd_mom_update(weight, grad, mom, out=weight, lr=lr, wd=wd, momentum=m,
                   rescale_grad=r, clip_gradient=c)

Differences from the kernels' own conventions, all at the recipes' level:

* The kernels clip when ``clip_gradient >= 0`` (0 zeroes the clipped term);
  the recipes follow the optimizer classes (clip when ``> 0``), so
  ``clip_gradient == 0`` is done here by zeroing the gradient (and, where the
  kernel clips ``rs*g + wd*w`` together, the weight decay).
* ``adam_update`` and ``adamw_update`` take no step count and apply no bias
  correction: the core's Adam runs at a saturated count, where its bias
  corrections are exactly 1.
* ``nag_mom_update`` reads the updated weight in its momentum's weight-decay
  term, as the kernel does when called with ``out=weight`` (the way MXNet's NAG
  calls it).
* ``lamb_update_phase2`` computes the trust ratio from ``weight`` and ``g``
  (``r1``, ``r2`` are their norms when called as MXNet's LAMB does).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

import optjax
from optjax.base import GradientTransformation
from optjax.combine import chain
from optjax.compat.mxnet import recipes
from optjax.compat.mxnet.ops.registry import register

__all__ = ["SATURATED_COUNT"]

# A count at which the core's bias corrections 1 - beta**t are exactly 1.
SATURATED_COUNT = 2 ** 31 - 2


def _f32(x: float) -> float:
    """A float attribute as the kernel reads it (MXNet's operator parameters are float32)."""
    return float(np.float32(x))


def _mutates(*positions):
    return lambda n_inputs, **attrs: positions


def _clip(grad, wd, clip_gradient, wd_in_clip=False):
    """``(grad, wd, clip)`` for a recipe from a kernel's ``clip_gradient`` (on iff >= 0)."""
    if clip_gradient == 0:
        return jnp.zeros_like(grad), (0.0 if wd_in_clip else wd), None
    return grad, wd, (clip_gradient if clip_gradient > 0 else None)


def _run(tx: GradientTransformation, weight, grad, values: dict, count=0, weight32=None):
    """One recipe step on ``weight`` (or its float32 master ``weight32``).

    Returns ``(new weight, new values, new weight32 or None)``."""
    if weight32 is None:
        return (*recipes.step(tx, weight, grad, values, count), None)
    new32, out = recipes.step(tx, weight32, grad.astype(weight32.dtype), values, count)
    return new32.astype(weight.dtype), out, new32


def _sgd(weight, grad, mom, weight32, lr, momentum, wd, rescale_grad, clip_gradient):
    grad, wd, clip = _clip(grad, wd, clip_gradient)
    tx = recipes.sgd(learning_rate=lr, wd=wd, rescale_grad=rescale_grad, clip_gradient=clip,
                     momentum=_f32(momentum))
    values = {"trace": mom} if mom is not None and momentum > 0 else {}
    new_w, out, new32 = _run(tx, weight, grad, values, weight32=weight32)
    if mom is None:
        return new_w, None, new32
    if momentum > 0:
        return new_w, out["trace"].astype(mom.dtype), new32
    base = weight if weight32 is None else weight32  # momentum 0: the kernel stores the step
    return new_w, ((new32 if weight32 is not None else new_w) - base).astype(mom.dtype), new32


@register("sgd_update", inputs=("weight", "grad"))
def sgd_update(weight, grad, *, lr: float, wd: float = 0.0, rescale_grad: float = 1.0,
               clip_gradient: float = -1.0, lazy_update: bool = True):
    """``w = (1 - lr*wd)*w - lr*clip(rs*g)``."""
    return _sgd(weight, grad, None, None, lr, 0.0, wd, rescale_grad, clip_gradient)[0]


@register("sgd_mom_update", inputs=("weight", "grad", "mom"))
def sgd_mom_update(weight, grad, mom, *, lr: float, momentum: float = 0.0, wd: float = 0.0,
                   rescale_grad: float = 1.0, clip_gradient: float = -1.0,
                   lazy_update: bool = True):
    """``mom = momentum*mom - lr*wd*w - lr*clip(rs*g); w += mom``."""
    new_w, new_mom, _ = _sgd(weight, grad, mom, None, lr, momentum, wd, rescale_grad,
                             clip_gradient)
    return new_w, (new_mom,)


@register("mp_sgd_update", inputs=("weight", "grad", "weight32"))
def mp_sgd_update(weight, grad, weight32, *, lr: float, wd: float = 0.0,
                  rescale_grad: float = 1.0, clip_gradient: float = -1.0,
                  lazy_update: bool = True):
    """``sgd_update`` on the float32 master ``weight32``; the weight gets its cast."""
    new_w, _, new32 = _sgd(weight, grad, None, weight32, lr, 0.0, wd, rescale_grad,
                           clip_gradient)
    return new_w, (new32,)


@register("mp_sgd_mom_update", inputs=("weight", "grad", "mom", "weight32"))
def mp_sgd_mom_update(weight, grad, mom, weight32, *, lr: float, momentum: float = 0.0,
                      wd: float = 0.0, rescale_grad: float = 1.0, clip_gradient: float = -1.0,
                      lazy_update: bool = True):
    """``sgd_mom_update`` on the float32 master ``weight32``."""
    new_w, new_mom, new32 = _sgd(weight, grad, mom, weight32, lr, momentum, wd, rescale_grad,
                                 clip_gradient)
    return new_w, (new_mom, new32)


def _nag(weight, grad, mom, weight32, lr, momentum, wd, rescale_grad, clip_gradient):
    grad, wd, clip = _clip(grad, wd, clip_gradient)
    tx = recipes.nag(learning_rate=lr, wd=wd, rescale_grad=rescale_grad, clip_gradient=clip,
                     momentum=_f32(momentum))
    new_w, out, new32 = _run(tx, weight, grad, {"velocity": mom}, weight32=weight32)
    return new_w, out["velocity"].astype(mom.dtype), new32


@register("nag_mom_update", inputs=("weight", "grad", "mom"))
def nag_mom_update(weight, grad, mom, *, lr: float, momentum: float = 0.0, wd: float = 0.0,
                   rescale_grad: float = 1.0, clip_gradient: float = -1.0):
    """Nesterov momentum (``NAGMomKernel``)."""
    new_w, new_mom, _ = _nag(weight, grad, mom, None, lr, momentum, wd, rescale_grad,
                             clip_gradient)
    return new_w, (new_mom,)


@register("mp_nag_mom_update", inputs=("weight", "grad", "mom", "weight32"))
def mp_nag_mom_update(weight, grad, mom, weight32, *, lr: float, momentum: float = 0.0,
                      wd: float = 0.0, rescale_grad: float = 1.0, clip_gradient: float = -1.0):
    """``nag_mom_update`` on the float32 master ``weight32``."""
    new_w, new_mom, new32 = _nag(weight, grad, mom, weight32, lr, momentum, wd, rescale_grad,
                                 clip_gradient)
    return new_w, (new_mom, new32)


@register("adam_update", inputs=("weight", "grad", "mean", "var"))
def adam_update(weight, grad, mean, var, *, lr: float, beta1: float = 0.9,
                beta2: float = 0.999, epsilon: float = 1e-8, wd: float = 0.0,
                rescale_grad: float = 1.0, clip_gradient: float = -1.0,
                lazy_update: bool = True):
    """``g' = clip(rs*g + wd*w)``; ``m, v`` moments; ``w -= lr*m/(sqrt(v) + eps)``
    (no bias correction: MXNet's Adam folds it into ``lr``)."""
    grad, wd, clip = _clip(grad, wd, clip_gradient, wd_in_clip=True)
    tx = recipes.adam(learning_rate=lr, wd=wd, rescale_grad=rescale_grad, clip_gradient=clip,
                      beta1=_f32(beta1), beta2=_f32(beta2), epsilon=_f32(epsilon))
    new_w, out, _ = _run(tx, weight, grad, {"mu": mean, "nu": var}, SATURATED_COUNT)
    return new_w, (out["mu"], out["nu"])


@register("rmsprop_update", inputs=("weight", "grad", "n"))
def rmsprop_update(weight, grad, n, *, lr: float, gamma1: float = 0.95, epsilon: float = 1e-8,
                   wd: float = 0.0, rescale_grad: float = 1.0, clip_gradient: float = -1.0,
                   clip_weights: float = -1.0):
    """``n = (1-g1) g'^2 + g1 n``; ``w -= lr g'/sqrt(n + eps)``; optional weight clip."""
    grad, wd, clip = _clip(grad, wd, clip_gradient, wd_in_clip=True)
    tx = recipes.rmsprop(learning_rate=lr, wd=wd, rescale_grad=rescale_grad, clip_gradient=clip,
                         gamma1=_f32(gamma1), epsilon=_f32(epsilon),
                         clip_weights=clip_weights if clip_weights > 0 else None)
    new_w, out, _ = _run(tx, weight, grad, {"nu": n})
    return new_w, (out["nu"],)


@register("rmspropalex_update", inputs=("weight", "grad", "n", "g", "delta"))
def rmspropalex_update(weight, grad, n, g, delta, *, lr: float, gamma1: float = 0.95,
                       gamma2: float = 0.9, epsilon: float = 1e-8, wd: float = 0.0,
                       rescale_grad: float = 1.0, clip_gradient: float = -1.0,
                       clip_weights: float = -1.0):
    """Centered RMSProp (Graves): ``delta = g2 delta - lr g'/sqrt(n - g^2 + eps); w += delta``."""
    grad, wd, clip = _clip(grad, wd, clip_gradient, wd_in_clip=True)
    tx = recipes.rmsprop(learning_rate=lr, wd=wd, rescale_grad=rescale_grad, clip_gradient=clip,
                         gamma1=_f32(gamma1), gamma2=_f32(gamma2), epsilon=_f32(epsilon),
                         centered=True,
                         clip_weights=clip_weights if clip_weights > 0 else None)
    new_w, out, _ = _run(tx, weight, grad, {"nu": n, "mu": g, "trace": delta})
    return new_w, (out["nu"], out["mu"], out["trace"])


@register("ftrl_update", inputs=("weight", "grad", "z", "n"))
def ftrl_update(weight, grad, z, n, *, lr: float, lamda1: float = 0.01, beta: float = 1.0,
                wd: float = 0.0, rescale_grad: float = 1.0, clip_gradient: float = -1.0):
    """FTRL-proximal with ``wd`` in the denominator."""
    grad, wd, clip = _clip(grad, wd, clip_gradient)
    tx = recipes.ftrl(learning_rate=lr, wd=wd, rescale_grad=rescale_grad, clip_gradient=clip,
                      lamda1=_f32(lamda1), beta=_f32(beta))
    new_w, out, _ = _run(tx, weight, grad, {"z": z, "n": n})
    return new_w, (out["z"], out["n"])


@register("ftml_update", inputs=("weight", "grad", "d", "v", "z"))
def ftml_update(weight, grad, d, v, z, *, lr: float, t: int, beta1: float = 0.6,
                beta2: float = 0.999, epsilon: float = 1e-8, wd: float = 0.0,
                rescale_grad: float = 1.0, clip_grad: float = -1.0):
    """Follow the Moving Leader at step ``t`` (1-based)."""
    grad, wd, clip = _clip(grad, wd, clip_grad, wd_in_clip=True)
    tx = recipes.ftml(learning_rate=lr, wd=wd, rescale_grad=rescale_grad, clip_gradient=clip,
                      beta1=_f32(beta1), beta2=_f32(beta2), epsilon=epsilon)  # a double
    new_w, out, _ = _run(tx, weight, grad, {"d": d, "v": v, "z": z}, t - 1)
    return new_w, (out["d"], out["v"], out["z"])


@register("signsgd_update", inputs=("weight", "grad"))
def signsgd_update(weight, grad, *, lr: float, wd: float = 0.0, rescale_grad: float = 1.0,
                   clip_gradient: float = -1.0):
    """``w = (1 - lr*wd)*w - lr*sign(g)`` (rescale and clip do not change a sign)."""
    tx = recipes.signum(learning_rate=lr, wd=wd, rescale_grad=rescale_grad, clip_gradient=None,
                        momentum=0.0)
    return _run(tx, weight, grad, {})[0]


@register("signum_update", inputs=("weight", "grad", "mom"))
def signum_update(weight, grad, mom, *, lr: float, momentum: float = 0.0, wd: float = 0.0,
                  rescale_grad: float = 1.0, clip_gradient: float = -1.0, wd_lh: float = 0.0):
    """``mom = mu mom - (1-mu)(wd w + clip(rs g)); w = (1 - lr wd_lh) w + lr sign(mom)``."""
    grad, wd, clip = _clip(grad, wd, clip_gradient)
    tx = recipes.signum(learning_rate=lr, wd=wd, rescale_grad=rescale_grad, clip_gradient=clip,
                        momentum=_f32(momentum), wd_lh=_f32(wd_lh))
    new_w, out, _ = _run(tx, weight, grad, {"ema": -mom})  # MXNet stores the negated EMA
    return new_w, (-out["ema"],)


def _lamb_direction(weight, grad, mean, var, t, wd, beta1, beta2, epsilon, bias_correction,
                    rescale_grad, clip_gradient):
    grad, wd, clip = _clip(grad, wd, clip_gradient)
    tx = recipes.lamb_direction(wd=wd, rescale_grad=rescale_grad, clip_gradient=clip,
                                beta1=_f32(beta1), beta2=_f32(beta2), epsilon=_f32(epsilon))
    count = t - 1 if bias_correction else SATURATED_COUNT
    direction, out = recipes.update(tx, weight, grad.astype(weight.dtype),
                                    {"mu": mean, "nu": var}, count)
    return direction.astype(weight.dtype), (out["mu"], out["nu"])


@register("lamb_update_phase1", inputs=("weight", "grad", "mean", "var"))
def lamb_update_phase1(weight, grad, mean, var, *, t: int, wd: float, beta1: float = 0.9,
                       beta2: float = 0.999, epsilon: float = 1e-6,
                       bias_correction: bool = True, rescale_grad: float = 1.0,
                       clip_gradient: float = -1.0):
    """The LAMB direction ``g = m_hat/(sqrt(v_hat) + eps) + wd*w`` (output); updates
    ``mean`` and ``var`` in place."""
    return _lamb_direction(weight, grad, mean, var, t, wd, beta1, beta2, epsilon,
                           bias_correction, rescale_grad, clip_gradient)


@register("mp_lamb_update_phase1", inputs=("weight", "grad", "mean", "var", "weight32"))
def mp_lamb_update_phase1(weight, grad, mean, var, weight32, *, t: int, wd: float,
                          beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-6,
                          bias_correction: bool = True, rescale_grad: float = 1.0,
                          clip_gradient: float = -1.0):
    """``lamb_update_phase1`` on the float32 master ``weight32`` (float32 output)."""
    return _lamb_direction(weight32, grad, mean, var, t, wd, beta1, beta2, epsilon,
                           bias_correction, rescale_grad, clip_gradient)


def _lamb_apply(weight, g, lr, lower_bound, upper_bound):
    tx = chain(optjax.scale_by_trust_ratio(
        lower_bound=lower_bound if lower_bound >= 0 else None,
        upper_bound=upper_bound if upper_bound >= 0 else None),
        optjax.scale_by_learning_rate(lr))
    return recipes.step(tx, weight, g.astype(weight.dtype), {}, 0)[0]


@register("lamb_update_phase2", inputs=("weight", "g", "r1", "r2"))
def lamb_update_phase2(weight, g, r1, r2, *, lr: float, lower_bound: float = -1.0,
                       upper_bound: float = -1.0):
    """``w -= lr * (r1/r2) * g`` with ``r1 = |w|`` (bounded if >= 0) and ``r2 = |g|``
    (ratio 1 when either is 0)."""
    return _lamb_apply(weight, g, lr, lower_bound, upper_bound)


@register("mp_lamb_update_phase2", inputs=("weight", "g", "r1", "r2", "weight32"))
def mp_lamb_update_phase2(weight, g, r1, r2, weight32, *, lr: float, lower_bound: float = -1.0,
                          upper_bound: float = -1.0):
    """``lamb_update_phase2`` from the float32 master: the output is the new weight in the
    weight's dtype; the kernel leaves ``weight32`` unchanged (MXNet's LAMB optimizer
    relies on its aggregated path to update the master)."""
    return _lamb_apply(weight32, g, lr, lower_bound, upper_bound).astype(weight.dtype)


def _multi(data, n, k):
    return [data[i * k:(i + 1) * k] for i in range(n)]


@register("multi_sgd_update", inputs=("*data",), num_outputs=lambda num_weights=1, **kw: num_weights)
def multi_sgd_update(*data, lrs: tuple, wds: tuple, rescale_grad: float = 1.0,
                     clip_gradient: float = -1.0, num_weights: int = 1):
    """``sgd_update`` on ``num_weights`` (weight, grad) pairs with their own lr and wd."""
    return tuple(_sgd(w, g, None, None, lr, 0.0, wd, rescale_grad, clip_gradient)[0]
                 for (w, g), lr, wd in zip(_multi(data, num_weights, 2), lrs, wds))


def _mutated(k, at):
    return lambda n_inputs, num_weights=1, **attrs: tuple(
        i * k + a for a in at for i in range(num_weights))


@register("multi_sgd_mom_update", inputs=("*data",),
          num_outputs=lambda num_weights=1, **kw: num_weights)
def multi_sgd_mom_update(*data, lrs: tuple, wds: tuple, momentum: float = 0.0,
                         rescale_grad: float = 1.0, clip_gradient: float = -1.0,
                         num_weights: int = 1):
    """``sgd_mom_update`` on ``num_weights`` (weight, grad, mom) triples."""
    res = [_sgd(w, g, m, None, lr, momentum, wd, rescale_grad, clip_gradient)
           for (w, g, m), lr, wd in zip(_multi(data, num_weights, 3), lrs, wds)]
    return tuple(r[0] for r in res), tuple(r[1] for r in res)


@register("multi_mp_sgd_update", inputs=("*data",),
          num_outputs=lambda num_weights=1, **kw: num_weights)
def multi_mp_sgd_update(*data, lrs: tuple, wds: tuple, rescale_grad: float = 1.0,
                        clip_gradient: float = -1.0, num_weights: int = 1):
    """``mp_sgd_update`` on ``num_weights`` (weight, grad, weight32) triples."""
    res = [_sgd(w, g, None, w32, lr, 0.0, wd, rescale_grad, clip_gradient)
           for (w, g, w32), lr, wd in zip(_multi(data, num_weights, 3), lrs, wds)]
    return tuple(r[0] for r in res), tuple(r[2] for r in res)


@register("multi_mp_sgd_mom_update", inputs=("*data",),
          num_outputs=lambda num_weights=1, **kw: num_weights)
def multi_mp_sgd_mom_update(*data, lrs: tuple, wds: tuple, momentum: float = 0.0,
                            rescale_grad: float = 1.0, clip_gradient: float = -1.0,
                            num_weights: int = 1):
    """``mp_sgd_mom_update`` on ``num_weights`` (weight, grad, mom, weight32) quadruples."""
    res = [_sgd(w, g, m, w32, lr, momentum, wd, rescale_grad, clip_gradient)
           for (w, g, m, w32), lr, wd in zip(_multi(data, num_weights, 4), lrs, wds)]
    return tuple(r[0] for r in res), tuple(r[1] for r in res) + tuple(r[2] for r in res)


def _adamw(weight, grad, mean, var, weight32, rescale_grad, lr, eta, beta1, beta2, epsilon, wd,
           clip_gradient):
    grad, wd, clip = _clip(grad, wd, clip_gradient)
    tx = recipes.adamw(learning_rate=lr, eta=eta, wd=wd, rescale_grad=rescale_grad,
                       clip_gradient=clip, beta1=_f32(beta1), beta2=_f32(beta2),
                       epsilon=_f32(epsilon))
    new_w, out, new32 = _run(tx, weight, grad, {"mu": mean, "nu": var}, SATURATED_COUNT,
                             weight32)
    ok = jnp.isfinite(rescale_grad)  # MXNet skips the update when rescale_grad is inf/nan
    keep = (lambda new, old: jnp.where(ok, new, old))
    return (keep(new_w, weight), keep(out["mu"], mean), keep(out["nu"], var),
            None if weight32 is None else keep(new32, weight32))


@register("_contrib_adamw_update", inputs=("weight", "grad", "mean", "var", "rescale_grad"))
def adamw_update(weight, grad, mean, var, rescale_grad, *, lr: float, eta: float,
                 beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8,
                 wd: float = 0.0, clip_gradient: float = -1.0):
    """``w -= eta*(lr*m/(sqrt(v) + eps) + wd*w)`` (no bias correction); skipped when
    ``rescale_grad`` is not finite."""
    new_w, m, v, _ = _adamw(weight, grad, mean, var, None, rescale_grad, lr, eta, beta1, beta2,
                            epsilon, wd, clip_gradient)
    return new_w, (m, v)


@register("_contrib_mp_adamw_update",
          inputs=("weight", "grad", "mean", "var", "weight32", "rescale_grad"))
def mp_adamw_update(weight, grad, mean, var, weight32, rescale_grad, *, lr: float, eta: float,
                    beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8,
                    wd: float = 0.0, clip_gradient: float = -1.0):
    """``adamw_update`` on the float32 master ``weight32``."""
    new_w, m, v, new32 = _adamw(weight, grad, mean, var, weight32, rescale_grad, lr, eta, beta1,
                                beta2, epsilon, wd, clip_gradient)
    return new_w, (m, v, new32)


_SINGLE = {sgd_mom_update: (2,), mp_sgd_update: (2,), mp_sgd_mom_update: (2, 3),
           nag_mom_update: (2,), mp_nag_mom_update: (2, 3), adam_update: (2, 3),
           rmsprop_update: (2,), rmspropalex_update: (2, 3, 4), ftrl_update: (2, 3),
           ftml_update: (2, 3, 4), signum_update: (2,), lamb_update_phase1: (2, 3),
           mp_lamb_update_phase1: (2, 3),
           adamw_update: (2, 3), mp_adamw_update: (2, 3, 4)}
for _fn, _at in _SINGLE.items():
    _fn.op.mutates = _mutates(*_at)
multi_sgd_mom_update.op.mutates = _mutated(3, (2,))
multi_mp_sgd_update.op.mutates = _mutated(3, (2,))
multi_mp_sgd_mom_update.op.mutates = _mutated(4, (2, 3))
del _fn, _at
