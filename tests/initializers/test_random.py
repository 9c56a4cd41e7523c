"""Random initializers: MXNet's bounds/standard deviations (fan computation from the
golden data) and their defining statistical properties on large arrays."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optjax
from optjax import initializers as I

from _init_golden import GOLDEN

KEY = jax.random.key(42)


@pytest.mark.parametrize("case", [c for c in GOLDEN["random_calls"] if "call" in c],
                         ids=lambda c: f"{c['init'][0]}-{c['init'][1]}-{c['shape']}")
def test_mxnet_scale_and_fans(case):
    """MXNet's own random call (bounds / std / sample shape) equals the formula here."""
    name, kw = case["init"]
    dist, a, b, shape = case["call"]
    if name in ("xavier", "msraprelu"):
        kw = dict(kw)
        if name == "msraprelu":
            slope = kw.pop("slope", 0.25)
            kw = {"factor_type": kw.get("factor_type", "avg"), "magnitude": 2.0 / (1 + slope**2)}
        else:
            kw = {"factor_type": kw.get("factor_type", "avg"), "magnitude": kw.get("magnitude", 3.0)}
        scale = I.xavier_scale(case["shape"], **kw)
        if dist == "uniform":
            assert (a, b) == pytest.approx((-scale, scale), rel=1e-12)
        else:
            assert (a, b) == pytest.approx((0.0, scale), rel=1e-12)
        assert shape == case["shape"]
    elif name == "uniform":
        assert (a, b) == (-kw.get("scale", 0.07), kw.get("scale", 0.07))
    elif name == "normal":
        assert (a, b) == (0.0, kw.get("sigma", 0.01))
    elif name == "orthogonal":
        assert shape == [case["shape"][0], math.prod(case["shape"][1:])]


def test_fan_in_out_conv_shapes():
    assert I.fan_in_out((64, 32, 3, 3)) == (288.0, 576.0)
    assert I.fan_in_out((10, 20)) == (20.0, 10.0)
    assert I.fan_in_out((16, 8, 5)) == (40.0, 80.0)
    # flax layout (kh, kw, in, out)
    assert I.fan_in_out((3, 3, 32, 64), in_axis=-2, out_axis=-1) == (288.0, 576.0)


N = 400_000


def _stats(x):
    x = np.asarray(x, np.float64).ravel()
    return x.min(), x.max(), x.mean(), x.std()


def test_uniform_is_symmetric_mxnet_convention():
    s = 0.3
    lo, hi, mean, std = _stats(I.uniform(s)(KEY, (N,)))
    assert -s <= lo < -0.99 * s and 0.99 * s < hi < s
    sd = s / math.sqrt(3)
    assert abs(mean) < 5 * sd / math.sqrt(N)
    assert std == pytest.approx(sd, rel=0.01)
    assert I.uniform()(KEY, (N,)).max() < 0.07


def test_normal_sigma():
    _, _, mean, std = _stats(I.normal(0.5)(KEY, (N,)))
    assert abs(mean) < 5 * 0.5 / math.sqrt(N)
    assert std == pytest.approx(0.5, rel=0.01)


@pytest.mark.parametrize("shape,factor_type,rnd_type", [
    ((128, 64, 7, 7), "avg", "uniform"),
    ((128, 64, 7, 7), "in", "gaussian"),
    ((512, 800), "out", "uniform"),
])
def test_xavier_statistics(shape, factor_type, rnd_type):
    fan_in, fan_out = I.fan_in_out(shape)
    factor = {"avg": (fan_in + fan_out) / 2, "in": fan_in, "out": fan_out}[factor_type]
    scale = math.sqrt(2.34 / factor)
    w = I.xavier(rnd_type, factor_type, 2.34)(KEY, shape)
    assert w.shape == shape and w.dtype == jnp.float32
    lo, hi, mean, std = _stats(w)
    n = math.prod(shape)
    sd = scale / math.sqrt(3) if rnd_type == "uniform" else scale
    assert abs(mean) < 5 * sd / math.sqrt(n)
    assert std == pytest.approx(sd, rel=0.02)
    if rnd_type == "uniform":
        assert -scale <= lo and hi <= scale and hi > 0.99 * scale


def test_msra_prelu_is_he_normal():
    shape = (256, 128, 3, 3)
    w = I.msra_prelu("in", 0.0)(KEY, shape)
    _, _, mean, std = _stats(w)
    assert std == pytest.approx(math.sqrt(2.0 / (128 * 9)), rel=0.02)
    w = I.msra_prelu()(KEY, shape)
    _, _, _, std = _stats(w)
    assert std == pytest.approx(math.sqrt(2.0 / (1 + 0.0625) / ((128 + 256) * 9 / 2)), rel=0.02)


@pytest.mark.parametrize("shape,rand_type,scale", [
    ((64, 128), "uniform", 1.0),
    ((128, 64), "normal", 1.0),
    ((16, 8, 3, 3), "uniform", 1.414),
    ((32, 32), "normal", 0.5),
    ((5,), "uniform", 2.0),
])
def test_orthogonal(shape, rand_type, scale):
    w = I.orthogonal(scale, rand_type)(KEY, shape)
    assert w.shape == shape
    m = np.asarray(w, np.float64).reshape(shape[0], -1)
    gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
    np.testing.assert_allclose(gram / scale**2, np.eye(gram.shape[0]), atol=1e-5)


def test_orthogonal_default_scale():
    w = np.asarray(I.orthogonal()(KEY, (8, 8)), np.float64)
    np.testing.assert_allclose(w @ w.T, 1.414**2 * np.eye(8), atol=1e-5 * 2)


SHAPES = {"fc1_weight": (50, 20), "fc1_bias": (50,), "bn_gamma": (50,), "bn_moving_mean": (50,),
          "conv": {"weight": (8, 4, 3, 3), "bias": (8,)}}


def test_init_params_deterministic_and_keyed_by_name():
    a = optjax.init_params(KEY, SHAPES, I.xavier())
    b = optjax.init_params(KEY, SHAPES, I.xavier())
    c = optjax.init_params(jax.random.key(1), SHAPES, I.xavier())
    jax.tree.map(lambda x, y: np.testing.assert_array_equal(x, y), a, b)
    assert not np.array_equal(a["fc1_weight"], c["fc1_weight"])
    # adding a parameter does not change the others (keys come from names)
    d = optjax.init_params(KEY, {**SHAPES, "aaa_weight": (3, 3)}, I.xavier())
    np.testing.assert_array_equal(a["fc1_weight"], d["fc1_weight"])
    np.testing.assert_array_equal(a["conv"]["weight"], d["conv"]["weight"])
    # the key is fold_in(key, crc32(name))
    np.testing.assert_array_equal(a["fc1_weight"], I.xavier()(I.name_key(KEY, "fc1_weight"), (50, 20)))
    assert not np.array_equal(a["fc1_weight"][:8, :4], a["conv"]["weight"][:, :, 0, 0])


def test_init_params_leaf_kinds_dtypes_and_jit():
    tree = {"w": jax.ShapeDtypeStruct((4, 3), jnp.bfloat16), "a_weight": jnp.zeros((2, 2), jnp.float16),
            "none": None, "t_bias": (3,)}
    out = optjax.init_params(KEY, tree, I.normal(1.0), rules={"w": I.orthogonal()})
    assert out["w"].dtype == jnp.bfloat16 and out["a_weight"].dtype == jnp.float16
    assert out["none"] is None and out["t_bias"].dtype == jnp.float32
    jitted = jax.jit(lambda k: optjax.init_params(k, SHAPES, I.xavier()))(KEY)
    eager = optjax.init_params(KEY, SHAPES, I.xavier())
    jax.tree.map(lambda x, y: np.testing.assert_allclose(x, y, rtol=1e-6), jitted, eager)


def test_rules_bypass_dispatch_and_first_match_wins():
    out = optjax.init_params(KEY, SHAPES, I.zeros, rules={"conv/*": I.ones, "re:fc1_.*": I.constant(2.0),
                                                          "*gamma": I.constant(3.0)})
    assert float(out["fc1_bias"][0]) == 2.0  # re: rule first, applied without dispatch
    assert float(out["conv"]["bias"][0]) == 1.0
    assert float(out["bn_gamma"][0]) == 3.0 and float(out["bn_moving_mean"][0]) == 0.0


def test_fused_rnn_random_pieces_and_forget_bias():
    n = I.fused_rnn_size(8, 16, 2, "lstm", True)
    v = I.fused_rnn(I.uniform(0.5), 16, 2, "lstm", True, forget_bias=1.5)(KEY, (n,))
    pieces = I.fused_rnn_unpack(v, 16, 2, "lstm", True)
    for name, p in pieces.items():
        p = np.asarray(p)
        if name.endswith("_f_bias"):
            assert (p == 1.5).all()
        elif name.endswith("bias"):
            assert (p == 0).all()
        else:
            assert np.abs(p).max() <= 0.5 and p.std() > 0.1
    assert not np.array_equal(pieces["l0_i2h_i_weight"][:, :4], pieces["l0_h2h_i_weight"][:, :4])
