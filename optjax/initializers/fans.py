"""MXNet's fan computation, ``Xavier`` and ``MSRAPrelu``.

MXNet lays weights out as ``(out, in, *spatial)`` (``FullyConnected``: ``(out, in)``,
``Convolution``: ``(out, in/groups, kh, kw)``), and computes

    hw      = prod(shape[2:])          (1 for a 2-D shape)
    fan_in  = shape[1] * hw
    fan_out = shape[0] * hw

For other layouts (flax's ``Dense`` ``(in, out)``, ``Conv`` ``(kh, kw, in, out)``),
pass ``in_axis=-2, out_axis=-1``: the receptive field is then the product of the
remaining axes. The defaults reproduce MXNet exactly.
"""

from __future__ import annotations

import math

import jax
import numpy as np

from optjax import validation
from optjax.initializers.core import DEFAULT_DTYPE, DType, Initializer, Shape, normalize_shape, set_description

FACTOR_TYPES = ("avg", "in", "out")
RND_TYPES = ("uniform", "gaussian")


def fan_in_out(shape: Shape, in_axis: int = 1, out_axis: int = 0) -> tuple[float, float]:
    """``(fan_in, fan_out)`` of a weight shape, MXNet's way (see the module docstring).

    A shape with fewer than two dimensions is a ``ValueError`` naming ``shape``.

    >>> from optjax.initializers import fan_in_out
    >>> fan_in_out((64, 32, 3, 3))
    (288.0, 576.0)
    """
    shape = normalize_shape(shape)
    if len(shape) < 2:
        raise ValueError(
            f"shape must have at least 2 dimensions for a fan computation (Xavier/MSRAPrelu), got {shape}"
        )
    nd = len(shape)
    ia, oa = in_axis % nd, out_axis % nd
    if ia == oa:
        raise ValueError(f"in_axis and out_axis must differ, got {in_axis} and {out_axis} for shape {shape}")
    receptive = float(math.prod(d for i, d in enumerate(shape) if i not in (ia, oa)))
    return shape[ia] * receptive, shape[oa] * receptive


def xavier_scale(shape: Shape, factor_type: str = "avg", magnitude: float = 3.0,
                 in_axis: int = 1, out_axis: int = 0) -> float:
    """``sqrt(magnitude / factor)``, the bound (uniform) or standard deviation (gaussian)."""
    validation.one_of("factor_type", factor_type, FACTOR_TYPES)
    fan_in, fan_out = fan_in_out(shape, in_axis, out_axis)
    factor = {"avg": (fan_in + fan_out) / 2.0, "in": fan_in, "out": fan_out}[factor_type]
    return float(np.sqrt(float(magnitude) / factor))


def xavier(rnd_type: str = "uniform", factor_type: str = "avg", magnitude: float = 3.0,
           *, in_axis: int = 1, out_axis: int = 0) -> Initializer:
    """MXNet's ``Xavier(rnd_type="uniform", factor_type="avg", magnitude=3)``.

    ``scale = sqrt(magnitude / factor)`` with ``factor`` = ``(fan_in + fan_out) / 2``
    ("avg"), ``fan_in`` ("in") or ``fan_out`` ("out"), fans from :func:`fan_in_out`.
    ``rnd_type="uniform"`` draws ``U(-scale, scale)``; ``"gaussian"`` draws
    ``N(0, scale)``. An unknown ``rnd_type``/``factor_type`` is a ``ValueError`` at
    construction; a shape with fewer than 2 dimensions is one at call time.

    >>> import jax
    >>> from optjax.initializers import xavier
    >>> w = xavier()(jax.random.key(0), (64, 32, 3, 3))   # bound sqrt(3 / 432)
    >>> bool(abs(w).max() <= (3 / 432) ** 0.5)
    True
    """
    validation.one_of("rnd_type", rnd_type, RND_TYPES)
    validation.one_of("factor_type", factor_type, FACTOR_TYPES)
    validation.check("magnitude", magnitude, low=0.0)
    magnitude = float(magnitude)

    def init(key: jax.Array, shape: Shape, dtype: DType = DEFAULT_DTYPE) -> jax.Array:
        shape = normalize_shape(shape)
        scale = xavier_scale(shape, factor_type, magnitude, in_axis, out_axis)
        if rnd_type == "uniform":
            return jax.random.uniform(key, shape, dtype, minval=-scale, maxval=scale)
        return scale * jax.random.normal(key, shape, dtype)

    return set_description(
        init, f"xavier(rnd_type={rnd_type!r}, factor_type={factor_type!r}, magnitude={magnitude!r})"
    )


def msra_prelu(factor_type: str = "avg", slope: float = 0.25, *, in_axis: int = 1, out_axis: int = 0) -> Initializer:
    """MXNet's ``MSRAPrelu(factor_type="avg", slope=0.25)`` (He et al. 2015).

    Exactly ``xavier("gaussian", factor_type, magnitude=2 / (1 + slope**2))``:
    ``N(0, sqrt(2 / ((1 + slope**2) * factor)))``.

    >>> import jax
    >>> from optjax.initializers import msra_prelu
    >>> msra_prelu("in", 0.0)(jax.random.key(0), (256, 128)).shape   # He normal, fan_in
    (256, 128)
    """
    validation.check("slope", slope)
    init = xavier("gaussian", factor_type, 2.0 / (1.0 + float(slope) ** 2), in_axis=in_axis, out_axis=out_axis)
    return set_description(init, f"msra_prelu(factor_type={factor_type!r}, slope={slope!r})")
