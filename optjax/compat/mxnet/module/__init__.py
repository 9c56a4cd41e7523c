"""``mx.mod`` / ``mx.module``: MXNet 1.9.1's Module API on one compiled executor."""

from optjax.compat.mxnet.module.base_module import BaseModule
from optjax.compat.mxnet.module.bucketing_module import BucketingModule
from optjax.compat.mxnet.module.module import Module

__all__ = ["BaseModule", "BucketingModule", "Module"]
