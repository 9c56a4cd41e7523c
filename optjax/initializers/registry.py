"""MXNet initializer specs (``Initializer.dumps()`` JSON, registry names) -> optjax initializers.

MXNet stores initializers as ``'["xavier", {"rnd_type": "gaussian", ...}]'`` in symbol
attributes (``__init__``: BatchNorm's ``'["zero", {}]'``, PReLU's
``'["Constant", {"value": 0.25}]'``) and accepts registry names in ``mx.init.create``.
:func:`from_mxnet` turns any of these into the optjax initializer.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from optjax.initializers.basic import constant, normal, ones, uniform, zeros
from optjax.initializers.core import Initializer
from optjax.initializers.fans import msra_prelu, xavier
from optjax.initializers.fused_rnn import fused_rnn
from optjax.initializers.orthogonal import orthogonal
from optjax.initializers.special import bilinear, lstm_bias


def _fused(init: Any = None, **kw: Any) -> Initializer:
    return fused_rnn(None if init is None else from_mxnet(init), **kw)


#: MXNet's registered names (lower case) -> a factory taking MXNet's keyword arguments.
MXNET_NAMES: dict[str, Callable[..., Initializer]] = {
    "zero": lambda: zeros,
    "zeros": lambda: zeros,
    "one": lambda: ones,
    "ones": lambda: ones,
    "constant": constant,
    "uniform": uniform,
    "normal": normal,
    "orthogonal": orthogonal,
    "xavier": xavier,
    "msraprelu": msra_prelu,
    "bilinear": lambda: bilinear,
    "lstmbias": lstm_bias,
    "fusedrnn": _fused,
}


def from_mxnet(spec: Any, **kwargs: Any) -> Initializer:
    """The optjax initializer for an MXNet spec: a registry name plus keyword
    arguments, a ``[name, {kwargs}]`` list, or its JSON string (``dumps()``).

    >>> from optjax.initializers import from_mxnet
    >>> from_mxnet('["Constant", {"value": 0.25}]').description
    'constant(0.25)'
    >>> from_mxnet("xavier", factor_type="in").description
    "xavier(rnd_type='uniform', factor_type='in', magnitude=3.0)"
    """
    if isinstance(spec, str) and spec.lstrip().startswith(("[", "{")):
        try:
            spec = json.loads(spec)
        except json.JSONDecodeError as e:
            raise ValueError(f"spec: not valid JSON ({e}): {spec!r}") from None
    if isinstance(spec, dict):
        spec = dict(spec)
        name = spec.pop("name", None) if "name" in spec else None
        if name is None:
            raise ValueError(f"spec: a dict spec needs a 'name', got {spec!r}")
        kwargs = {**spec, **kwargs}
    elif isinstance(spec, (list, tuple)):
        if len(spec) != 2 or not isinstance(spec[0], str) or not isinstance(spec[1], dict):
            raise ValueError(f"spec must be [name, {{kwargs}}], got {spec!r}")
        name, kwargs = spec[0], {**spec[1], **kwargs}
    elif isinstance(spec, str):
        name = spec
    else:
        raise ValueError(f"spec must be a name, a [name, kwargs] list or its JSON, got {spec!r}")
    factory = MXNET_NAMES.get(name.lower())
    if factory is None:
        raise ValueError(f"spec: unknown MXNet initializer {name!r}; known: {sorted(MXNET_NAMES)}")
    try:
        return factory(**kwargs)
    except TypeError as e:
        raise ValueError(f"spec: bad arguments for {name!r}: {e}") from None
