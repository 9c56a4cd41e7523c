"""``mx.gluon.data.vision``: local-file image datasets and image transforms."""

from optjax.compat.mxnet.gluon.data.vision import datasets, transforms  # noqa: F401
from optjax.compat.mxnet.gluon.data.vision.datasets import CIFAR10, MNIST, FashionMNIST  # noqa: F401

__all__ = ["datasets", "transforms", "MNIST", "FashionMNIST", "CIFAR10"]
