"""Invalid hyperparameters raise ValueError naming the argument; Muon names a
non-matrix leaf; small transforms added with the catalogue.

The comparisons with live torch (from the `test` extra) skip without it outside CI.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import optjax

BAD = [
    (optjax.adam, {"learning_rate": -1e-3}, "learning_rate"),
    (optjax.adam, {"eps": -1.0}, "eps"),
    (optjax.adam, {"b1": 1.0}, "b1"),
    (optjax.adam, {"b2": -0.1}, "b2"),
    (optjax.adamw, {"weight_decay": -1.0}, "weight_decay"),
    (optjax.nadam, {"b1": 1.5, "momentum_decay": 4e-3}, "b1"),
    (optjax.nadam, {"momentum_decay": -1.0}, "momentum_decay"),
    (optjax.radam, {"eps": -1e-8}, "eps"),
    (optjax.amsgrad, {"b2": 1.0}, "b2"),
    (optjax.adamax, {"b1": -0.5}, "b1"),
    (optjax.rmsprop, {"decay": 1.0}, "decay"),
    (optjax.rmsprop, {"momentum": 1.5}, "momentum"),
    (optjax.rmsprop, {"eps": -1.0}, "eps"),
    (optjax.adagrad, {"eps": -1.0}, "eps"),
    (optjax.adagrad, {"lr_decay": -1.0}, "lr_decay"),
    (optjax.adagrad, {"initial_accumulator_value": -0.1}, "initial_accumulator_value"),
    (optjax.adadelta, {"rho": 0.0}, "rho"),
    (optjax.adadelta, {"rho": -0.5}, "rho"),
    (optjax.sgd, {"momentum": 1.5}, "momentum"),
    (optjax.sgd, {"momentum": -0.1}, "momentum"),
    (optjax.sgd, {"learning_rate": -0.1}, "learning_rate"),
    (optjax.asgd, {"lambd": -1.0}, "lambd"),
    (optjax.rprop, {"eta_minus": 1.5}, "eta_minus"),
    (optjax.rprop, {"eta_plus": 0.5}, "eta_plus"),
    (optjax.rprop, {"learning_rate": lambda c: 0.1}, "learning_rate"),
    (optjax.lion, {"b1": 1.5}, "b1"),
    (optjax.adabelief, {"eps": -1.0}, "eps"),
    (optjax.adafactor, {"clipping_threshold": 0.0}, "clipping_threshold"),
    (optjax.adafactor, {"variant": "keras"}, "variant"),
    (optjax.muon, {"momentum": 1.5}, "momentum"),
    (optjax.muon, {"non_matrix": "skip"}, "non_matrix"),
]


@pytest.mark.parametrize("factory,kwargs,arg", BAD, ids=[f"{f.__name__}-{a}" for f, _, a in BAD])
def test_invalid_hyperparameter_names_argument(factory, kwargs, arg):
    with pytest.raises(ValueError, match=arg):
        factory(**kwargs)


def test_nesterov_needs_zero_dampening():
    with pytest.raises(ValueError, match="dampening"):
        optjax.sgd(0.1, momentum=0.9, nesterov=True, dampening=0.1)


def test_muon_error_names_non_matrix_leaf():
    params = {"dense": {"kernel": jnp.ones((3, 4)), "bias": jnp.zeros(4)}}
    with pytest.raises(ValueError, match="dense/bias"):
        optjax.muon(1e-3, non_matrix="error").init(params)


def test_muon_adamw_fallback_for_non_matrix_leaves():
    params = {"kernel": jnp.ones((3, 4)), "bias": jnp.zeros(4)}
    grads = {"kernel": jnp.eye(3, 4), "bias": jnp.ones(4)}
    tx = optjax.muon(1e-2, weight_decay=0.0)
    u, _ = tx.update(grads, tx.init(params), params)
    ref, _ = optjax.adamw(1e-2, weight_decay=0.0).update(
        {"bias": grads["bias"]}, optjax.adamw(1e-2, weight_decay=0.0).init({"bias": params["bias"]}),
        {"bias": params["bias"]})
    np.testing.assert_allclose(np.asarray(u["bias"]), np.asarray(ref["bias"]), rtol=1e-6)


def test_newton_schulz_matches_torch_bf16():
    torch = pytest.importorskip("torch")
    from torch.optim._muon import _zeropower_via_newtonschulz as torch_ns

    rng = np.random.default_rng(0)
    exact = 0
    for shape in [(3, 4), (5, 3), (8, 8), (16, 4)] * 5:
        x = rng.standard_normal(shape).astype(np.float32)
        want = torch_ns(torch.tensor(x), (3.4445, -4.775, 2.0315), 5, 1e-7).float().numpy()
        got = np.asarray(optjax.newton_schulz(jnp.asarray(x)).astype(jnp.float32))
        exact += int(np.array_equal(got, want))
        np.testing.assert_allclose(got, want, atol=2e-2)  # at most a few bf16 ulps
    assert exact >= 18  # bit-identical on almost every matrix (measured 20/20 here)


def test_clip_params():
    from optjax.transforms.constraints import clip_params

    tx = optjax.chain(optjax.sgd(1.0), clip_params(0.5))
    p = {"w": jnp.array([0.4, -0.4, 0.0])}
    u, _ = tx.update({"w": jnp.array([-1.0, 1.0, 0.1])}, tx.init(p), p)
    np.testing.assert_allclose(np.asarray(optjax.apply_updates(p, u)["w"]), [0.5, -0.5, -0.1], rtol=1e-6)


def test_clip_by_global_norm_torch_eps():
    torch = pytest.importorskip("torch")
    g = {"a": jnp.array([3.0, 0.0]), "b": jnp.array([0.0, 4.0])}
    tx = optjax.clip_by_global_norm(1.0, eps=1e-6)
    u, _ = tx.update(g, tx.init(g))
    tg = [torch.tensor([3.0, 0.0]), torch.tensor([0.0, 4.0])]
    ps = [torch.nn.Parameter(torch.zeros(2)) for _ in tg]
    for p, t in zip(ps, tg):
        p.grad = t.clone()
    torch.nn.utils.clip_grad_norm_(ps, 1.0)
    np.testing.assert_allclose(np.asarray(u["a"]), ps[0].grad.numpy(), rtol=1e-7)
    np.testing.assert_allclose(np.asarray(u["b"]), ps[1].grad.numpy(), rtol=1e-7)
