"""Bad input: each a ValueError that names the argument or the parameter."""

import jax
import numpy as np
import pytest

import optjax
from optjax import initializers as I

from _init_golden import GOLDEN_DIR

KEY = jax.random.key(0)


@pytest.mark.parametrize("make", [I.xavier, I.msra_prelu, lambda: I.xavier("gaussian", "in")])
@pytest.mark.parametrize("shape", [(5,), ()])
def test_fan_initializers_need_two_dims(make, shape):
    with pytest.raises(ValueError, match=r"shape must have at least 2 dimensions.*" + str(shape).replace("(", r"\(").replace(")", r"\)")):
        make()(KEY, shape)


@pytest.mark.parametrize("call,arg", [
    (lambda: I.xavier(rnd_type="bogus"), "rnd_type"),
    (lambda: I.xavier(factor_type="bogus"), "factor_type"),
    (lambda: I.msra_prelu(factor_type="fan_avg"), "factor_type"),
    (lambda: I.xavier(rnd_type="normal"), "rnd_type"),      # Xavier says "gaussian"
    (lambda: I.orthogonal(rand_type="gaussian"), "rand_type"),  # Orthogonal says "normal"
    (lambda: I.xavier(magnitude=-1.0), "magnitude"),
    (lambda: I.uniform(-0.1), "scale"),
    (lambda: I.normal(float("nan")), "sigma"),
    (lambda: I.constant("abc"), "value"),
    (lambda: I.param_kind("fc_weight", style="gluon"), "style"),
    (lambda: I.by_name(I.ones, weights=I.zeros), "weights"),
    (lambda: I.fused_rnn(I.ones, 4, 1, "LSTM"), "mode"),
    (lambda: I.fused_rnn(None, 4, 1, "lstm"), "init"),
    (lambda: I.fused_rnn(I.ones, 0, 1, "lstm"), "num_hidden"),
    (lambda: I.mixed(["a", "b"], [I.ones]), "patterns and initializers"),
    (lambda: I.mixed(["(unclosed"], [I.ones]), "patterns"),
    (lambda: I.from_mxnet("nosuch"), "nosuch"),
    (lambda: I.from_mxnet('["xavier", {"bogus": 1}]'), "xavier"),
    (lambda: I.load(42), "params"),
])
def test_bad_arguments_name_themselves(call, arg):
    with pytest.raises(ValueError, match=arg):
        call()


def test_shape_errors():
    with pytest.raises(ValueError, match="4-D"):
        I.bilinear(KEY, (4, 4))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        I.constant(np.ones((2, 3)))(KEY, (4,))
    with pytest.raises(ValueError, match="not a fused lstm parameter vector"):
        I.fused_rnn(I.ones, 4, 1, "lstm")(KEY, (17,))
    with pytest.raises(ValueError, match="1-D"):
        I.fused_rnn(I.ones, 4, 1, "lstm")(KEY, (4, 4))


def test_load_shape_mismatch_names_parameter_and_shapes():
    init = I.load({"arg:fc_weight": np.zeros((3, 4))}, default=I.ones)
    with pytest.raises(ValueError, match=r"'fc_weight'.*target \(4, 3\) vs loaded \(3, 4\)"):
        init(KEY, "fc_weight", (4, 3))
    with pytest.raises(ValueError, match=r"'fc_weight'.*\(4, 3\).*\(3, 4\)"):
        optjax.init_params(KEY, {"fc_weight": (4, 3)}, init)


def test_load_missing_without_default():
    with pytest.raises(ValueError, match="'fc_bias'.*no default"):
        I.load({"fc_weight": np.zeros(2)})(KEY, "fc_bias", (2,))


def test_load_npz_file(tmp_path):
    path = tmp_path / "p.npz"
    np.savez(path, **{"arg:w_weight": np.arange(6.0).reshape(2, 3), "aux:bn_moving_var": np.full(2, 3.0)})
    out = optjax.init_params(KEY, {"w_weight": (2, 3), "bn_moving_var": (2,), "b_bias": (2,)},
                             I.load(str(path), default=I.uniform(1.0)))
    np.testing.assert_array_equal(out["w_weight"], np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(out["bn_moving_var"], [3.0, 3.0])
    np.testing.assert_array_equal(out["b_bias"], [0.0, 0.0])  # default goes through the dispatch


def test_mixed_no_match_names_parameter():
    init = I.mixed(["bias", "fc.*"], [I.zeros, I.ones])
    with pytest.raises(ValueError, match="'conv_bias' did not match any pattern"):
        init(KEY, "conv_bias", (2,))  # "bias" is matched from the start of the name


def test_unknown_name_names_parameter():
    with pytest.raises(ValueError, match="Unknown initialization pattern.*'dense/kernel'"):
        optjax.init_params(KEY, {"dense": {"kernel": (2, 2)}}, I.xavier())
    with pytest.raises(ValueError, match="'bn_moving_mean'"):
        optjax.init_params(KEY, {"bn_moving_mean": (2,)}, I.xavier(), style="initdesc")


def test_init_params_errors_name_the_parameter():
    with pytest.raises(ValueError, match=r"parameter 'fc/weight'.*at least 2 dimensions"):
        optjax.init_params(KEY, {"fc": {"weight": (3,)}}, I.xavier())
    with pytest.raises(ValueError, match=r"rules.*'typo_\*'"):
        optjax.init_params(KEY, {"fc_weight": (2, 2)}, I.xavier(), rules={"typo_*": I.ones})
    with pytest.raises(ValueError, match="leaf 'x'"):
        optjax.init_params(KEY, {"x": "nope"}, I.xavier())
    with pytest.raises(ValueError, match="rules"):
        optjax.init_params(KEY, {"fc_weight": (2, 2)}, I.xavier(), rules={"fc_weight": 3.0})
    bad = I.NamedInitializer(lambda k, n, s, d: np.zeros(3), "bad")
    with pytest.raises(ValueError, match=r"'fc_weight'.*returned shape \(3,\)"):
        optjax.init_params(KEY, {"fc_weight": (2, 2)}, bad)


def test_golden_load_source_is_committed():
    import os
    assert os.path.exists(os.path.join(GOLDEN_DIR, "load_source.npz"))
