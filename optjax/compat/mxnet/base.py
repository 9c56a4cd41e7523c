"""``mx.base``: the error type MXNet raises, and the names scripts import from it."""

from __future__ import annotations

__all__ = ["MXNetError", "string_types", "numeric_types", "integer_types"]


class MXNetError(RuntimeError):
    """Raised where MXNet 1.9.1 raises ``mxnet.base.MXNetError``."""


string_types = (str,)
numeric_types = (float, int)
integer_types = (int,)
