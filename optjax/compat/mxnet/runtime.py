"""``mx.runtime``: which of MXNet 1.9.1's compile-time features the shim provides.

MXNet reports the options its native library was built with; the shim reports
what its JAX backend offers under the same 32 names, in MXNet's order: ``CUDA``
and ``CUDNN`` when JAX has a GPU, ``CPU_SSE*`` / ``CPU_AVX*`` / ``F16C`` on an
x86-64 host (XLA compiles for the host's vector units), ``LAPACK`` (XLA's linear
algebra), ``INT64_TENSOR_SIZE`` when JAX runs with 64-bit types. Everything tied
to MXNet's own native library (OpenMP, MKL-DNN, OpenCV, the distributed
kvstore, its profiler, signal handler, TVM operators, ...) is off.

>>> import optjax.compat.mxnet as mx
>>> mx.runtime.Features().is_enabled("MKLDNN")
False
"""

from __future__ import annotations

import collections
import platform

__all__ = ["Feature", "Features", "feature_list"]

NAMES = ("CUDA", "CUDNN", "NCCL", "CUDA_RTC", "TENSORRT", "CPU_SSE", "CPU_SSE2", "CPU_SSE3",
         "CPU_SSE4_1", "CPU_SSE4_2", "CPU_SSE4A", "CPU_AVX", "CPU_AVX2", "OPENMP", "SSE", "F16C",
         "JEMALLOC", "BLAS_OPEN", "BLAS_ATLAS", "BLAS_MKL", "BLAS_APPLE", "LAPACK", "MKLDNN",
         "OPENCV", "CAFFE", "PROFILER", "DIST_KVSTORE", "CXX14", "INT64_TENSOR_SIZE",
         "SIGNAL_HANDLER", "DEBUG", "TVM_OP")


class Feature:
    """One feature: ``name`` and ``enabled``; prints as MXNet's (``✔ CUDA`` / ``✖ CUDA``)."""

    def __init__(self, name: str, enabled: bool):
        self.name = name
        self.enabled = enabled

    def __repr__(self):
        return ("✔ " if self.enabled else "✖ ") + self.name


def _enabled() -> set:
    import jax
    on = {"LAPACK", "CXX14"}
    try:
        if jax.devices("gpu"):
            on |= {"CUDA", "CUDNN"}
    except RuntimeError:
        pass
    if platform.machine().lower() in ("x86_64", "amd64"):
        on |= {"CPU_SSE", "CPU_SSE2", "CPU_SSE3", "CPU_SSE4_1", "CPU_SSE4_2", "CPU_AVX",
               "CPU_AVX2", "F16C"}
    if jax.config.jax_enable_x64:
        on.add("INT64_TENSOR_SIZE")
    return on


def feature_list() -> list:
    """Every feature, in MXNet's order, as :class:`Feature` objects."""
    on = _enabled()
    return [Feature(n, n in on) for n in NAMES]


class Features(collections.OrderedDict):
    """OrderedDict of name to :class:`Feature` (one instance, as MXNet's)."""

    instance = None

    def __new__(cls):
        if cls.instance is None:
            cls.instance = super().__new__(cls)
            super(Features, cls.instance).__init__([(f.name, f) for f in feature_list()])
        return cls.instance

    def __init__(self):  # filled once in __new__
        pass

    def __repr__(self):
        return str(list(self.values()))

    def is_enabled(self, feature_name: str) -> bool:
        """Whether ``feature_name`` (case-insensitive) is on; RuntimeError if unknown."""
        feature_name = feature_name.upper()
        if feature_name not in self:
            raise RuntimeError("Feature '{}' is unknown, known features are: {}".format(
                feature_name, list(self.keys())))
        return self[feature_name].enabled
