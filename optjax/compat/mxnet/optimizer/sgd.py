"""MXNet 1.9.1's SGD family: ``SGD``, ``ccSGD``, ``NAG``, ``LARS``, ``LBSGD``, ``Signum``,
``DCASGD``, ``SGLD``.

Each class keeps MXNet's constructor, state (``create_state`` returns what
MXNet's returns) and bookkeeping, and names its functional call in ``_core``;
the math is the recipe's (``docs/optimizers-mxnet.md`` gives each chain).
"""

from __future__ import annotations

import os

import numpy as np

from optjax.compat.mxnet import recipes
from optjax.compat.mxnet.ndarray import from_jax
from optjax.compat.mxnet.ndarray import random as _random
from optjax.compat.mxnet.optimizer.optimizer import (CoreCall, Optimizer, copy_of, register,
                                                     zeros_like_weight)

__all__ = ["SGD", "ccSGD", "NAG", "LARS", "LBSGD", "Signum", "DCASGD", "SGLD"]


def _aggregation_size() -> int:
    return int(os.getenv("MXNET_OPTIMIZER_AGGREGATION_SIZE", "4"))


class _MomentumFirst(Optimizer):
    """SGD, NAG, LARS, LBSGD: the multi-precision state is ``(momentum or None, float32 master)``."""

    momentum = 0.0

    def create_state(self, index, weight):
        return zeros_like_weight(weight) if self.momentum != 0.0 else None

    def create_state_multi_precision(self, index, weight):
        if self.multi_precision and weight.dtype == np.float16:
            master = weight.astype(np.float32)
            return (self.create_state(index, master), master)
        return super().create_state_multi_precision(index, weight)

    def _split_master(self, state):
        return state[1], state[0]


@register
class SGD(_MomentumFirst):
    """``mom = momentum*mom - lr*wd*w - lr*clip(rs*g); w += mom`` (``mom`` only if momentum > 0).

    State: None, or the momentum NDArray (multi-precision: ``(mom or None, weight32)``).
    """

    def __init__(self, momentum=0.0, lazy_update=True, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum
        self.lazy_update = lazy_update
        self.aggregate_num = _aggregation_size()

    def _core(self, index):
        return CoreCall(recipes.sgd, clip_gradient=self.clip_gradient, momentum=self.momentum)

    def _state_fields(self):
        return ("trace",)


@register
class ccSGD(SGD):
    """``ccSGD`` is ``SGD`` (MXNet keeps the name)."""


@register
class NAG(_MomentumFirst):
    """Nesterov momentum as ``nag_mom_update`` computes it (its wd term reads the updated weight)."""

    def __init__(self, momentum=0.0, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum

    def _core(self, index):
        return CoreCall(recipes.nag, clip_gradient=self.clip_gradient, momentum=self.momentum)

    def _state_fields(self):
        return ("velocity",)


@register
class LARS(_MomentumFirst):
    """Layer-wise adaptive rate SGD with momentum.

    ``lr_l = lr*eta*|w|/(|rs g| + wd |w| + eps)`` (plain ``lr`` for names ending in
    gamma/beta/bias or a zero norm), then SGD momentum. ``momentum_correction``:
    ``momentum * cur_lr/last_lr``, both updated on every ``_get_lrs`` call, i.e. per
    Updater chunk of ``aggregate_num`` indices (MXNet's bookkeeping, kept here).
    ``set_wd_mult`` keeps weight decay only for ``_weight`` names.
    """

    def __init__(self, momentum=0.0, lazy_update=True, eta=0.001, eps=0,
                 momentum_correction=True, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum
        self.momentum_correction = momentum_correction
        self.eta = eta
        self.eps = eps
        self.lazy_update = lazy_update
        self.aggregate_num = _aggregation_size()
        self.skip = 0
        self.last_lr = None
        self.cur_lr = None

    def _decays(self, name):
        return name.endswith("_weight")

    def _get_lrs(self, indices):
        lr = self.learning_rate
        cur = getattr(self, "cur_lr", None)
        self.last_lr = cur if cur is not None else lr
        self.cur_lr = lr
        return self._scaled(lr, indices, "lr_mult", self.lr_mult)

    def _hyper(self, indices):
        hyper = super()._hyper(indices)
        # MXNet 1.9.1 LARS._update_impl: float64 Python, cast to float32 by the kernel.
        momentum = self.momentum
        if (self.momentum > 0 and self.momentum_correction and self.last_lr is not None
                and self.last_lr != 0):
            momentum = self.momentum * (self.cur_lr / self.last_lr)
        for h in hyper:
            h["momentum"] = float(momentum)
        return hyper

    def _core(self, index):
        return CoreCall(recipes.lars, clip_gradient=self.clip_gradient, eta=self.eta,
                        eps=self.eps, param_name=self._param_name(index))

    def _state_fields(self):
        return ("trace",)


@register
class LBSGD(_MomentumFirst):
    """Large-batch SGD: accumulate ``batch_scale`` gradients, then SGD(-momentum) with the
    warm-up multiplier. Reads the learning rate BEFORE counting (MXNet's order).

    The accumulated gradient and its count live in ``self.cumgrads[index]`` as in MXNet.
    """

    def __init__(self, momentum=0.0, multi_precision=False, warmup_strategy="linear",
                 warmup_epochs=5, batch_scale=1, updates_per_epoch=32, begin_epoch=0,
                 num_epochs=60, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum
        self.multi_precision = multi_precision
        self.warmup_strategy = warmup_strategy
        self.warmup_epochs = warmup_epochs
        self.batch_scale = batch_scale
        self.updates_per_epoch = updates_per_epoch
        self.begin_epoch = begin_epoch
        self.init_updates = begin_epoch * updates_per_epoch
        self.num_epochs = num_epochs
        self.lbmult = 1
        self.cumgrads = {}
        self.adaptive = False
        self.admult = 1

    def _hyper(self, indices):
        out = []
        for i in indices:  # lr first, then count
            lr, wd = self._get_lr(i), self._get_wd(i)
            self._update_count(i)
            out.append({"learning_rate": float(lr), "wd": float(wd),
                        "rescale_grad": float(self.rescale_grad)})
        return out

    def _core(self, index):
        return CoreCall(recipes.lbsgd, clip_gradient=self.clip_gradient, momentum=self.momentum,
                        warmup_strategy=self.warmup_strategy, warmup_epochs=self.warmup_epochs,
                        batch_scale=self.batch_scale, updates_per_epoch=self.updates_per_epoch,
                        begin_epoch=self.begin_epoch, num_epochs=self.num_epochs)

    def _state_fields(self):
        return ("velocity",)

    # MXNet keeps the accumulated gradient and its count on the optimizer (``cumgrads``).
    def _core_count(self, index):
        return self.cumgrads.get(index, {}).get("num_cums", self.init_updates) - self.init_updates

    def _extras(self, index, weight):
        cum = self.cumgrads.get(index, {}).get("cum_grad", 0)
        return {"cum_grad": cum._data if hasattr(cum, "_data") else
                np.zeros(weight.shape, np.dtype(weight.dtype))}

    def _keep_extras(self, index, values):
        num = self.cumgrads.get(index, {}).get("num_cums", self.init_updates) + 1
        self.cumgrads[index] = {"cum_grad": from_jax(values["cum_grad"]), "num_cums": num}


@register
class Signum(Optimizer):
    """``momentum > 0``: ``mom = mu mom - (1-mu)(wd w + clip(rs g)); w = (1-lr wd_lh) w +
    lr sign(mom)``; ``momentum == 0``: ``w = (1-lr wd) w - lr sign(g)`` (signsgd).

    State: None or the momentum NDArray (MXNet's sign: the negated EMA)."""

    _negated_fields = ("ema",)

    def __init__(self, learning_rate=0.01, momentum=0.9, wd_lh=0.0, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.momentum = momentum
        self.wd_lh = wd_lh

    def create_state(self, index, weight):
        return zeros_like_weight(weight) if self.momentum != 0.0 else None

    def _core(self, index):
        return CoreCall(recipes.signum, clip_gradient=self.clip_gradient,
                        momentum=self.momentum, wd_lh=self.wd_lh)

    def _state_fields(self):
        return ("ema",)


@register
class DCASGD(Optimizer):
    """Delay-compensated SGD: ``mom = -lr*(g' + wd*w + lamda*g'^2*(w - w_prev))``;
    ``w_prev = w; w += mom``. State: ``(momentum or None, previous weight)``.
    (MXNet 1.9.1 crashes for momentum != 0; the shim does what its code intends.)"""

    def __init__(self, momentum=0.0, lamda=0.04, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum
        self.weight_previous = {}
        self.lamda = lamda

    def create_state(self, index, weight):
        if self.momentum == 0.0:
            return (None, copy_of(weight))
        return (zeros_like_weight(weight), copy_of(weight))

    def _core(self, index):
        return CoreCall(recipes.dcasgd, clip_gradient=self.clip_gradient,
                        momentum=self.momentum, lamda=self.lamda)

    def _state_fields(self):
        return ("velocity", "previous")


@register
class SGLD(Optimizer):
    """Stochastic Langevin dynamics: ``w += -lr/2*(g' + wd*w) + N(0, lr)``; state None.

    The noise comes from ``mx.random`` (one key per index per step), so
    ``mx.random.seed(s)`` repeats it."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def create_state(self, index, weight):
        return None

    def _hyper(self, indices):
        hyper = super()._hyper(indices)
        for h in hyper:
            h["key"] = _random.next_key()
        return hyper

    def _core(self, index):
        return CoreCall(recipes.sgld, clip_gradient=self.clip_gradient)
