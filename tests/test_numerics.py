"""optjax.numerics.cast: a no-op cast returns its input; every other cast is ``astype``."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from optjax import numerics


def test_cast_to_own_dtype_returns_the_array_itself():
    x = jnp.ones(3)
    assert numerics.cast(x, jnp.float32) is x
    assert numerics.cast(x, np.dtype("float32")) is x


def test_cast_to_own_dtype_returns_the_tracer_itself():
    seen = []

    def f(x):
        y = numerics.cast(x, x.dtype)
        seen.append(y is x)
        return y

    jax.jit(f)(jnp.ones(3))
    assert seen == [True]


@pytest.mark.parametrize("x, dtype", [
    (jnp.ones(3, jnp.bfloat16), jnp.float32),
    (jnp.ones(3), jnp.bfloat16),
    (jnp.ones(3, jnp.int32), jnp.float32),
])
def test_cast_to_another_dtype_is_astype(x, dtype):
    y = numerics.cast(x, dtype)
    assert y.dtype == dtype
    np.testing.assert_array_equal(np.asarray(y), np.asarray(x.astype(dtype)))


def test_weakly_typed_value_becomes_strong_like_astype():
    x = jnp.asarray(0.5)  # weakly typed float32
    assert x.aval.weak_type
    y = numerics.cast(x, jnp.float32)
    assert y is not x and not y.aval.weak_type


def test_numpy_array_goes_through_astype():
    x = np.ones(3, np.float32)
    y = numerics.cast(x, np.float16)
    assert isinstance(y, np.ndarray) and y.dtype == np.float16
