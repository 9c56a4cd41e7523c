"""``mx.optimizer.contrib``: MXNet 1.9.1's contributed optimizers (``GroupAdaGrad``)."""

from __future__ import annotations

from optjax.compat.mxnet import recipes
from optjax.compat.mxnet.ndarray import zeros
from optjax.compat.mxnet.optimizer.optimizer import CoreCall, Optimizer, register

__all__ = ["GroupAdaGrad"]


@register
class GroupAdaGrad(Optimizer):
    """AdaGrad with one history value per row of a 2-D weight:
    ``h += mean(g'^2, axis=1)``; ``w -= lr*g'/sqrt(h + eps)``. State: ``h`` of shape
    ``(rows, 1)`` (float32). Weight decay must be 0."""

    def __init__(self, eps=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.float_stable_eps = eps

    def create_state(self, index, weight):
        assert len(weight.shape) == 2
        return zeros((weight.shape[0], 1), weight.context)

    def _core(self, index):
        assert self.wd == 0, "Weight decay is not supported for GroupAdaGrad"
        return CoreCall(recipes.groupadagrad, clip_gradient=self.clip_gradient,
                        eps=self.float_stable_eps)

    def _state_fields(self):
        return ("sum_of_squares",)

    def _state_shape(self, weight_shape):
        return (weight_shape[0], 1)
