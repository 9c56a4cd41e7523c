"""Mixed-precision helpers: ``amp_cast``, ``amp_multicast``, ``all_finite``, ``multi_all_finite``."""

from __future__ import annotations

import jax.numpy as jnp

from optjax.compat.mxnet.ops.registry import register

_LOW = (jnp.float16, jnp.bfloat16)


def _is_float(dtype) -> bool:
    return jnp.issubdtype(dtype, jnp.floating)


@register("amp_cast", ("data",))
def amp_cast(data, *, dtype: str):
    """Cast between float types only (other dtypes pass through unchanged)."""
    from optjax.compat.mxnet.ndarray.dtypes import np_dtype
    return data.astype(np_dtype(dtype)) if _is_float(data.dtype) else data


@register("amp_multicast", ("*data",), num_outputs=lambda num_outputs=1, **_: int(num_outputs))
def amp_multicast(*data, num_outputs: int, cast_narrow: bool = False):
    """Cast every float input to the widest float type among them (the narrowest with
    ``cast_narrow``); other dtypes pass through."""
    floats = [d.dtype for d in data if _is_float(d.dtype)]
    if not floats:
        return tuple(data)
    pick = min if cast_narrow else max
    target = pick(floats, key=lambda d: jnp.dtype(d).itemsize)
    return tuple(d.astype(target) if _is_float(d.dtype) else d for d in data)


@register("all_finite", ("data",))
def all_finite(data, *, init_output: bool = True):
    """``[1.0]`` if every element is finite, else ``[0.0]`` (float32, shape (1,))."""
    return jnp.all(jnp.isfinite(data)).astype(jnp.float32).reshape((1,))


@register("multi_all_finite", ("*data",))
def multi_all_finite(*data, num_arrays: int = 1, init_output: bool = True):
    """``all_finite`` over several arrays at once."""
    ok = jnp.stack([jnp.all(jnp.isfinite(d)) for d in data]).all()
    return ok.astype(jnp.float32).reshape((1,))
