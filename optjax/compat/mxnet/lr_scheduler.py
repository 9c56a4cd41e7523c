"""``mx.lr_scheduler``: MXNet 1.9.1's stateful schedulers over optjax's pure ones.

The values come from :mod:`optjax.schedules.mxnet_lr` (pure functions of
``num_update``); these classes add MXNet's state on top:

* ``FactorScheduler`` / ``MultiFactorScheduler`` never go back: after being
  called with ``n``, a call with a smaller ``n`` (past the warm-up) returns the
  value at the largest ``n`` seen so far, and ``base_lr`` reads as the decayed
  learning rate, as MXNet mutates it.
* ``PolyScheduler`` / ``CosineScheduler`` hold the last value computed for
  ``n <= max_update``; ``base_lr_orig`` is frozen at construction, so an
  optimizer's ``learning_rate`` overriding ``base_lr`` has no effect (MXNet's quirk).
* The warm-up goes to ``warmup_final_lr``, frozen at construction.

User subclasses override ``__call__(self, num_update)`` as in MXNet.
"""

from __future__ import annotations

import math

from optjax.schedules import mxnet_lr

__all__ = ["LRScheduler", "FactorScheduler", "MultiFactorScheduler", "PolyScheduler",
           "CosineScheduler"]


class LRScheduler:
    """Base class: ``__call__(num_update) -> lr``; warm-up helpers."""

    def __init__(self, base_lr=0.01, warmup_steps=0, warmup_begin_lr=0, warmup_mode="linear"):
        self.base_lr = base_lr
        assert isinstance(warmup_steps, int)
        self.warmup_steps = warmup_steps
        self.warmup_final_lr = base_lr
        self.warmup_begin_lr = warmup_begin_lr
        if self.warmup_begin_lr > self.warmup_final_lr:
            raise ValueError("Base lr has to be higher than warmup_begin_lr")
        if self.warmup_steps < 0:
            raise ValueError("Warmup steps has to be positive or 0")
        if warmup_mode not in ["linear", "constant"]:
            raise ValueError("Supports only linear and constant modes of warmup")
        self.warmup_mode = warmup_mode

    def get_warmup_lr(self, num_update):
        assert num_update < self.warmup_steps
        if self.warmup_mode == "linear":
            increase = ((self.warmup_final_lr - self.warmup_begin_lr)
                        * float(num_update) / float(self.warmup_steps))
            return self.warmup_begin_lr + increase
        if self.warmup_mode == "constant":
            return self.warmup_begin_lr
        raise ValueError("Invalid warmup mode %s" % self.warmup_mode)

    def __call__(self, num_update):
        raise NotImplementedError("must override this")


class _Monotone(LRScheduler):
    """Value = pure schedule (built from the current ``base_lr``) at the largest ``n`` seen."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self._start_lr = self.base_lr
        self._hi = 0
        self._fn = None
        self._fn_base = None

    def _pure(self, base_lr):
        raise NotImplementedError

    def _value(self, n):
        start = self.__dict__["_start_lr"]
        if getattr(self, "_fn", None) is None or getattr(self, "_fn_base", None) != start:
            self._fn, self._fn_base = self._pure(start), start
        return float(self._fn(n))

    @property
    def base_lr(self):
        d = self.__dict__
        if "_hi" not in d:
            return d.get("_start_lr")
        return self._value(d["_hi"]) if d["_hi"] > 0 else d["_start_lr"]

    @base_lr.setter
    def base_lr(self, value):
        # MXNet's optimizer overrides base_lr at construction (before any decay).
        self.__dict__["_start_lr"] = value

    def __call__(self, num_update):
        if num_update < self.warmup_steps:
            return self.get_warmup_lr(num_update)
        if num_update > self._hi:
            self._hi = num_update
        return self._value(self._hi)


class FactorScheduler(_Monotone):
    """``base_lr * factor**floor((n-1)/step)``, floored at ``stop_factor_lr``; never goes back."""

    def __init__(self, step, factor=1, stop_factor_lr=1e-8, base_lr=0.01, warmup_steps=0,
                 warmup_begin_lr=0, warmup_mode="linear"):
        super().__init__(base_lr=base_lr, warmup_steps=warmup_steps,
                         warmup_begin_lr=warmup_begin_lr, warmup_mode=warmup_mode)
        if step < 1:
            raise ValueError("Schedule step must be greater or equal than 1 round")
        if factor > 1.0:
            raise ValueError("Factor must be no more than 1 to make lr reduce")
        self.step = step
        self.factor = factor
        self.stop_factor_lr = stop_factor_lr
        self.count = 0

    def _pure(self, base_lr):
        return mxnet_lr.factor_scheduler(self.step, self.factor, self.stop_factor_lr, base_lr)

    def __call__(self, num_update):
        lr = super().__call__(num_update)
        if num_update >= self.warmup_steps and self._hi > 0:
            self.count = max(0, (self._hi - 1) // self.step * self.step)
        return lr


class MultiFactorScheduler(_Monotone):
    """``base_lr * factor**(number of s in step with n > s)``; never goes back."""

    def __init__(self, step, factor=1, base_lr=0.01, warmup_steps=0, warmup_begin_lr=0,
                 warmup_mode="linear"):
        if isinstance(factor, (list, tuple)):
            raise TypeError(
                "MultiFactorScheduler takes ONE factor applied at every step in `step` "
                f"(MXNet 1.9.1 rejects a list such as {list(factor)!r}). For one learning rate "
                "per interval use optjax's piecewise constant schedule: "
                "optjax.piecewise_constant_schedule(init_value, {boundary: scale, ...}) "
                "(or optjax.schedules.mxnet_lr.multi_factor_scheduler(step, [f1, f2, ...]), "
                "which multiplies by factor[i] when num_update > step[i]).")
        super().__init__(base_lr=base_lr, warmup_steps=warmup_steps,
                         warmup_begin_lr=warmup_begin_lr, warmup_mode=warmup_mode)
        assert isinstance(step, list) and len(step) >= 1
        for i, _step in enumerate(step):
            if i != 0 and step[i] <= step[i - 1]:
                raise ValueError("Schedule step must be an increasing integer list")
            if _step < 1:
                raise ValueError("Schedule step must be greater or equal than 1 round")
        if factor > 1.0:
            raise ValueError("Factor must be no more than 1 to make lr reduce")
        self.step = step
        self.cur_step_ind = 0
        self.factor = factor
        self.count = 0

    def _pure(self, base_lr):
        return mxnet_lr.multi_factor_scheduler(self.step, self.factor, base_lr)

    def __call__(self, num_update):
        lr = super().__call__(num_update)
        if num_update >= self.warmup_steps:
            passed = [s for s in self.step if self._hi > s]
            self.cur_step_ind = len(passed)
            self.count = passed[-1] if passed else 0
        return lr


class _Held(LRScheduler):
    """Poly/Cosine: the pure value for ``n <= max_update``, else the last one computed."""

    def __init__(self, max_update, base_lr, final_lr, warmup_steps, warmup_begin_lr, warmup_mode):
        super().__init__(base_lr=base_lr, warmup_steps=warmup_steps,
                         warmup_begin_lr=warmup_begin_lr, warmup_mode=warmup_mode)
        assert isinstance(max_update, int)
        if max_update < 1:
            raise ValueError("maximum number of updates must be strictly positive")
        self.base_lr_orig = self.base_lr
        self.max_update = max_update
        self.final_lr = final_lr
        self.max_steps = self.max_update - self.warmup_steps
        self._fn = None

    def _pure(self):
        raise NotImplementedError

    def __call__(self, num_update):
        if num_update < self.warmup_steps:
            return self.get_warmup_lr(num_update)
        if num_update <= self.max_update:
            if getattr(self, "_fn", None) is None:
                self._fn = self._pure()
            self.base_lr = float(self._fn(num_update))
        return self.base_lr

    def __getstate__(self):
        d = dict(self.__dict__)
        d["_fn"] = None
        return d


class PolyScheduler(_Held):
    """``final_lr + (base_lr_orig - final_lr) * (1 - (n - warmup)/max_steps)**pwr``."""

    def __init__(self, max_update, base_lr=0.01, pwr=2, final_lr=0, warmup_steps=0,
                 warmup_begin_lr=0, warmup_mode="linear"):
        super().__init__(max_update, base_lr, final_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        self.power = pwr

    def _pure(self):
        return mxnet_lr.poly_scheduler(self.max_update, self.base_lr_orig, self.power,
                                       self.final_lr, self.warmup_steps, self.warmup_begin_lr,
                                       self.warmup_mode)


class CosineScheduler(_Held):
    """``final_lr + (base_lr_orig - final_lr) * (1 + cos(pi (n - warmup)/max_steps))/2``."""

    def __init__(self, max_update, base_lr=0.01, final_lr=0, warmup_steps=0, warmup_begin_lr=0,
                 warmup_mode="linear"):
        super().__init__(max_update, base_lr, final_lr, warmup_steps, warmup_begin_lr, warmup_mode)

    def _pure(self):
        return mxnet_lr.cosine_scheduler(self.max_update, self.base_lr_orig, self.final_lr,
                                         self.warmup_steps, self.warmup_begin_lr,
                                         self.warmup_mode)


del math
