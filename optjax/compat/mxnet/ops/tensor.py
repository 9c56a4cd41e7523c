"""Tensor layout operators: ``broadcast_to``/``_like``/``_axis``, ``tile``, ``repeat``,
``flip``/``reverse``, ``Pad``, ``SequenceMask``, ``diag``, ``moments``, ``khatri_rao``.
"""

from __future__ import annotations

import jax.numpy as jnp

from optjax.compat.mxnet.base import MXNetError
from optjax.compat.mxnet.ops._checks import fmt
from optjax.compat.mxnet.ops.registry import register


@register("Pad", ("data",), aliases=("pad",))
def pad(data, *, mode: str = "constant", pad_width: tuple, constant_value: float = 0.0):
    """Pad with ``pad_width = (before_0, after_0, before_1, after_1, ...)`` (one pair per
    axis; MXNet requires 4-D/5-D data and zeros for the first two axes): ``constant``
    (``constant_value``), ``edge`` (repeat the border) or ``reflect`` (mirror)."""
    if len(pad_width) != 2 * data.ndim:
        raise MXNetError(f"Pad: pad_width {tuple(pad_width)} must have 2 * ndim = {2 * data.ndim} "
                         f"entries for data {fmt(data.shape)}")
    pairs = [(int(pad_width[2 * i]), int(pad_width[2 * i + 1])) for i in range(data.ndim)]
    if mode == "constant":
        return jnp.pad(data, pairs, constant_values=jnp.asarray(constant_value, data.dtype))
    if mode in ("edge", "reflect"):
        return jnp.pad(data, pairs, mode=mode)
    raise MXNetError(f"Invalid Input: '{mode}', valid values are: {{'constant', 'edge', 'reflect'}}")
