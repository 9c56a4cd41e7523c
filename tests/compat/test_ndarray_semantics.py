"""NDArray semantics against real MXNet 1.9.1: every probe in
``tests/golden/compat/ndarray/probes.py`` gives what MXNet gave (``mxnet_ndarray.json``)."""

import importlib.util
import json
import math
import pathlib

import jax
import numpy as np
import pytest

import optjax.compat.mxnet as mx

GOLDEN = pathlib.Path(__file__).parents[1] / "golden" / "compat" / "ndarray"
_spec = importlib.util.spec_from_file_location("ndarray_probes", GOLDEN / "probes.py")
probes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(probes)
EXPECTED = json.loads((GOLDEN / "mxnet_ndarray.json").read_text())["probes"]

# Where the shim deliberately accepts more than MXNet (a script that runs on MXNet never
# reaches these), by probe and key.
LENIENT = {
    ("scalar_conversions", "float"): "float() of a one-element array works in the shim",
    ("scalar_conversions", "int"): "int() of a one-element array works in the shim",
    ("more_indexing", "l"): "an empty slice x[1:0] is an empty array in the shim; MXNet raises",
}


def _same(actual, expected, path, probe):
    if (probe, path.split("/")[0]) in LENIENT:
        return
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{probe}/{path}: {actual!r} vs {expected!r}"
        assert sorted(actual) == sorted(expected), f"{probe}/{path}: keys {sorted(actual)}"
        for k in expected:
            _same(actual[k], expected[k], f"{path}/{k}" if path else k, probe)
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), \
            f"{probe}/{path}: {actual!r} vs {expected!r}"
        for j, (a, e) in enumerate(zip(actual, expected)):
            _same(a, e, f"{path}[{j}]", probe)
    elif isinstance(expected, float):
        assert isinstance(actual, (int, float)) and math.isclose(actual, expected, rel_tol=1e-6), \
            f"{probe}/{path}: {actual!r} vs {expected!r}"
    else:
        assert actual == expected, f"{probe}/{path}: {actual!r} vs MXNet's {expected!r}"


# float64 arrays need JAX's 64-bit mode (without it the shim stores them as float32).
X64 = {"dtype_mismatch_error"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_probe_matches_mxnet(name):
    with jax.enable_x64(name in X64):
        got = json.loads(json.dumps(getattr(probes, f"probe_{name}")(mx, np)))
    _same(got, EXPECTED[name], "", name)


def test_every_probe_has_golden_data():
    assert sorted(n[len("probe_"):] for n in dir(probes) if n.startswith("probe_")) == sorted(EXPECTED)


def test_waitall_blocks_until_dispatched_work_is_done():
    """``mx.nd.waitall`` waits for every dispatched computation, as MXNet's does (JAX's
    ``effects_barrier`` alone returns while a pure computation is still running)."""
    import jax
    import jax.numpy as jnp

    import optjax.compat.mxnet as mx

    @jax.jit
    def slow(a):
        for _ in range(8):
            a = jnp.tanh(a @ a)
        return a

    a = jnp.full((1500, 1500), 1e-3, jnp.float32)
    slow(a).block_until_ready()  # compiled
    out = slow(a)
    mx.nd.waitall()
    assert out.is_ready()
