"""MXNet 1.9.1's adaptive optimizers: ``Adam``, ``AdaGrad``, ``RMSProp``, ``AdaDelta``,
``Adamax``, ``Nadam``, ``FTML``, ``Ftrl``, ``LAMB``.

Each class keeps MXNet's constructor, state (``create_state`` returns what
MXNet's returns, with MXNet's dtypes) and bookkeeping, and names its functional
call in ``_core``; the math is the recipe's (``docs/optimizers-mxnet.md``).
"""

from __future__ import annotations

import os

import numpy as np

from optjax.compat.mxnet import recipes
from optjax.compat.mxnet.optimizer.optimizer import (CoreCall, Optimizer, register,
                                                     zeros_like_weight)

__all__ = ["Adam", "AdaGrad", "RMSProp", "AdaDelta", "Adamax", "Nadam", "FTML", "Ftrl", "LAMB"]


@register
class Adam(Optimizer):
    """``g' = clip(rs*g + wd*w)``; ``w -= lr*sqrt(1-b2^t)/(1-b1^t) * m/(sqrt(v) + eps)``.
    State: ``(mean, var)``."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 lazy_update=True, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.lazy_update = lazy_update

    def create_state(self, index, weight):
        return (zeros_like_weight(weight), zeros_like_weight(weight))

    def _core(self, index):
        return CoreCall(recipes.adam, clip_gradient=self.clip_gradient, beta1=self.beta1,
                        beta2=self.beta2, epsilon=self.epsilon)

    def _state_fields(self):
        return ("mu", "nu")


@register
class AdaGrad(Optimizer):
    """``g' = clip(rs*g)``; ``h += g'^2``; ``w -= lr*(g'/sqrt(h + eps) + wd*w)``.
    State: the history ``h`` (float32)."""

    def __init__(self, eps=1e-7, **kwargs):
        super().__init__(**kwargs)
        self.float_stable_eps = eps

    def create_state(self, index, weight):
        return zeros_like_weight(weight, np.float32)

    def _core(self, index):
        return CoreCall(recipes.adagrad, clip_gradient=self.clip_gradient,
                        eps=self.float_stable_eps)

    def _state_fields(self):
        return ("sum_of_squares",)


@register
class RMSProp(Optimizer):
    """Tieleman & Hinton's RMSProp (``centered``: Graves' variant with ``gamma2`` momentum);
    ``clip_weights`` clips the weight after the step. State: ``(n,)`` or ``(n, g, delta)``
    (float32)."""

    def __init__(self, learning_rate=0.001, gamma1=0.9, gamma2=0.9, epsilon=1e-8,
                 centered=False, clip_weights=None, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.gamma1 = gamma1
        self.gamma2 = gamma2
        self.centered = centered
        self.epsilon = epsilon
        self.clip_weights = clip_weights

    def create_state(self, index, weight):
        n = 3 if self.centered else 1
        return tuple(zeros_like_weight(weight, np.float32) for _ in range(n))

    def _core(self, index):
        return CoreCall(recipes.rmsprop, clip_gradient=self.clip_gradient, gamma1=self.gamma1,
                        gamma2=self.gamma2, epsilon=self.epsilon, centered=self.centered,
                        clip_weights=self.clip_weights)

    def _state_fields(self):
        return ("nu", "mu", "trace") if self.centered else ("nu",)


@register
class AdaDelta(Optimizer):
    """Zeiler's AdaDelta (no learning rate); ``w -= delta + wd*w``.
    State: ``(acc_g, acc_delta)`` (float32)."""

    def __init__(self, rho=0.90, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.rho = rho
        self.epsilon = epsilon

    def create_state(self, index, weight):
        return (zeros_like_weight(weight, np.float32), zeros_like_weight(weight, np.float32))

    def _core(self, index):
        return CoreCall(recipes.adadelta, clip_gradient=self.clip_gradient, rho=self.rho,
                        epsilon=self.epsilon)

    def _state_fields(self):
        return ("e_g", "e_x")


@register
class Adamax(Optimizer):
    """``u = max(b2 u, |g'|)``; ``w -= lr/(1-b1^t) * m/u`` (no epsilon). State: ``(m, u)``."""

    def __init__(self, learning_rate=0.002, beta1=0.9, beta2=0.999, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2

    def create_state(self, index, weight):
        return (zeros_like_weight(weight), zeros_like_weight(weight))

    def _core(self, index):
        return CoreCall(recipes.adamax, clip_gradient=self.clip_gradient, beta1=self.beta1,
                        beta2=self.beta2)

    def _state_fields(self):
        return ("mu", "nu")


@register
class Nadam(Optimizer):
    """Dozat's NAdam with MXNet's ONE ``m_schedule`` per optimizer, multiplied by every
    index's update in order. State: ``(m, v)``."""

    _carry_field = "mu_product"

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 schedule_decay=0.004, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.schedule_decay = schedule_decay
        self.m_schedule = 1.

    def create_state(self, index, weight):
        return (zeros_like_weight(weight), zeros_like_weight(weight))

    def _core(self, index):
        return CoreCall(recipes.nadam, clip_gradient=self.clip_gradient, beta1=self.beta1,
                        beta2=self.beta2, epsilon=self.epsilon,
                        schedule_decay=self.schedule_decay)

    def _state_fields(self):
        return ("mu", "nu")

    def _get_carry(self):
        return float(self.m_schedule)

    def _set_carry(self, value):
        self.m_schedule = float(value)


@register
class FTML(Optimizer):
    """Follow the Moving Leader (``ftml_update``). State: ``(d, v, z)``."""

    def __init__(self, beta1=0.6, beta2=0.999, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon

    def create_state(self, index, weight):
        return tuple(zeros_like_weight(weight) for _ in range(3))

    def _core(self, index):
        return CoreCall(recipes.ftml, clip_gradient=self.clip_gradient, beta1=self.beta1,
                        beta2=self.beta2, epsilon=self.epsilon)

    def _state_fields(self):
        return ("d", "v", "z")


@register
class Ftrl(Optimizer):
    """FTRL-proximal (``ftrl_update``), ``wd`` in the denominator. State: ``(z, n)`` (float32).

    ``learning_rate`` is not forwarded to the base class (a scheduler's ``base_lr`` is
    kept) and ``self.lr`` is set afterwards, as MXNet does."""

    def __init__(self, lamda1=0.01, learning_rate=0.1, beta=1, **kwargs):
        super().__init__(**kwargs)
        self.lamda1 = lamda1
        self.beta = beta
        self.lr = learning_rate

    def create_state(self, index, weight):
        return (zeros_like_weight(weight, np.float32), zeros_like_weight(weight, np.float32))

    def _core(self, index):
        return CoreCall(recipes.ftrl, clip_gradient=self.clip_gradient, lamda1=self.lamda1,
                        beta=self.beta)

    def _state_fields(self):
        return ("z", "n")


@register
class LAMB(Optimizer):
    """``r = m_hat/(sqrt(v_hat)+eps) + wd*w``; ``w -= lr*(|w|/|r|)*r`` (bounds on ``|w|`` if
    truthy). State: ``(mean, var)``."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-6,
                 lower_bound=None, upper_bound=None, bias_correction=True, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound
        self.bias_correction = bias_correction
        self.aggregate_num = max(1, min(45, int(os.getenv("MXNET_OPTIMIZER_AGGREGATION_SIZE",
                                                          "45"))))

    def create_state(self, index, weight):
        return (zeros_like_weight(weight), zeros_like_weight(weight))

    def _core(self, index):
        return CoreCall(recipes.lamb, clip_gradient=self.clip_gradient, beta1=self.beta1,
                        beta2=self.beta2, epsilon=self.epsilon, lower_bound=self.lower_bound,
                        upper_bound=self.upper_bound, bias_correction=self.bias_correction)

    def _state_fields(self):
        return ("mu", "nu")
