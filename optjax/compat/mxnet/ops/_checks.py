"""Shape and dtype checks that raise MXNet's errors (at trace time: shapes and dtypes are static)."""

from __future__ import annotations

import numpy as np

from optjax.compat.mxnet.base import MXNetError


def same_dtype(*arrays) -> None:
    """MXNet's ``Incompatible attr`` error when inputs' dtypes differ."""
    first = np.dtype(arrays[0].dtype)
    for i, a in enumerate(arrays[1:], 1):
        if np.dtype(a.dtype) != first:
            raise MXNetError(f"Incompatible attr in node at {i}-th input: expected "
                             f"{first.name}, got {np.dtype(a.dtype).name}")


def broadcastable(a, b) -> None:
    """MXNet's broadcast error: shapes must agree where neither is 1."""
    sa, sb = tuple(a.shape), tuple(b.shape)
    n = max(len(sa), len(sb))
    pa, pb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    if any(x != y and x != 1 and y != 1 for x, y in zip(pa, pb)):
        raise MXNetError("operands could not be broadcast together with shapes "
                         f"[{','.join(map(str, sa))}] [{','.join(map(str, sb))}]")


def fmt(shape) -> str:
    return "[" + ",".join(str(int(s)) for s in shape) + "]"
