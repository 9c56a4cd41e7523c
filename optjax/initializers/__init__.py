"""optjax.initializers: MXNet's initializers as pure functions, and name-based tree init.

Pure initializers follow ``jax.nn.initializers``: ``init(key, shape, dtype=float32)``.

* constant: :func:`zeros`, :func:`ones`, :func:`constant`
* random: :func:`uniform` (``U(-scale, scale)``), :func:`normal`, :func:`orthogonal`,
  :func:`xavier`, :func:`msra_prelu` (fans: :func:`fan_in_out`)
* structured: :func:`bilinear`, :func:`lstm_bias`, :func:`fused_rnn` (+ layout helpers)
* by name: :func:`param_kind`, :func:`by_name`, :func:`mixed`, :func:`load`,
  :func:`init_params` (also ``optjax.init_params``)
* MXNet specs (``'["xavier", {...}]'``, registry names): :func:`from_mxnet`

Everything is in ``__all__``; only the names in ``TOP_LEVEL`` are also re-exported
as ``optjax.<name>`` (the others, like ``uniform``, would be ambiguous there).
See ``docs/initializers.md`` for the MXNet correspondence.
"""

from optjax.initializers.basic import constant, normal, ones, uniform, zeros
from optjax.initializers.by_name import KIND_DEFAULTS, KINDS, STYLES, as_named, by_name, init_params, load, mixed, param_kind
from optjax.initializers.core import Initializer, NamedInitializer, name_key
from optjax.initializers.fans import fan_in_out, msra_prelu, xavier, xavier_scale
from optjax.initializers.fused_rnn import (
    fused_rnn,
    fused_rnn_layout,
    fused_rnn_num_input,
    fused_rnn_pack,
    fused_rnn_size,
    fused_rnn_unpack,
)
from optjax.initializers.orthogonal import orthogonal
from optjax.initializers.registry import MXNET_NAMES, from_mxnet
from optjax.initializers.special import bilinear, bilinear_kernel, loc_bias, lstm_bias, quantized_weight

__all__: list[str] = [
    "Initializer",
    "NamedInitializer",
    "zeros",
    "ones",
    "constant",
    "uniform",
    "normal",
    "orthogonal",
    "fan_in_out",
    "xavier_scale",
    "xavier",
    "msra_prelu",
    "bilinear",
    "bilinear_kernel",
    "lstm_bias",
    "loc_bias",
    "quantized_weight",
    "fused_rnn",
    "fused_rnn_layout",
    "fused_rnn_size",
    "fused_rnn_num_input",
    "fused_rnn_pack",
    "fused_rnn_unpack",
    "KINDS",
    "KIND_DEFAULTS",
    "STYLES",
    "param_kind",
    "by_name",
    "as_named",
    "mixed",
    "load",
    "init_params",
    "name_key",
    "from_mxnet",
    "MXNET_NAMES",
]
TOP_LEVEL: tuple[str, ...] = ("init_params",)
