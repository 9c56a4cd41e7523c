"""Every built-in ``mx.optimizer`` against a plain NumPy reference, as MXNet's own
``tests/python/unittest/test_optimizer.py`` (``compare_optimizer``) checks them.

The references below are written from MXNet 1.9.1's documented formulas (the kernels
in ``src/operator/optimizer_op-inl.h`` and the Python classes; see
``docs/optimizers-mxnet.md``), in float64 NumPy, with MXNet's state layouts. Each case
creates the shim's state with ``create_state_multi_precision`` and checks its structure,
runs three ``update_multi_precision`` steps, and compares every state array and the
weight after each step, over dense shapes and dtypes: float32, float64 (JAX in 64-bit
mode) and float16 with ``multi_precision`` (the float32 master copy is compared).
SGLD draws random noise and is checked by its distribution elsewhere.
"""

import jax
import numpy as np
import pytest

import optjax.compat.mxnet as mx

SHAPES = [(3,), (4, 5), (2, 3, 4)]
LR = 0.05


# -- references: (state, w, g, t, hp) -> (state, w); state in MXNet's layout --------------


def clip_cpp(x, c):
    """C++ kernels: clip only when the class passes a truthy ``clip_gradient``."""
    return np.clip(x, -c, c) if c else x


def clip_py(x, c):
    """Python classes: clip whenever ``clip_gradient is not None``."""
    return np.clip(x, -c, c) if c is not None else x


def ref_sgd(st, w, g, t, h):
    mom = h["momentum"] * (st if st is not None else 0) - LR * h["wd"] * w \
        - LR * clip_cpp(h["rs"] * g, h["clip"])
    return (mom if st is not None else None), w + mom


def ref_nag(st, w, g, t, h):
    gg = clip_cpp(h["rs"] * g, h["clip"])
    if st is None:
        return None, (1 - LR * h["wd"]) * w - LR * gg
    mu = h["momentum"]
    mom = mu * st
    w_new = w - mom + (mu + 1) * (mom - LR * (gg + h["wd"] * w))
    return mom - LR * (gg + h["wd"] * w_new), w_new  # the kernel's wd term reads the new weight


def ref_lars(st, w, g, t, h):
    wn, gn = np.linalg.norm(w), np.linalg.norm(g)
    lr = LR * h["eta"] * wn / (gn * h["rs"] + h["wd"] * wn + h["eps"]) if wn > 0 and gn > 0 else LR
    mom = h["momentum"] * st - lr * h["wd"] * w - lr * clip_cpp(h["rs"] * g, h["clip"])
    return mom, w + mom


def ref_signum(st, w, g, t, h):
    if st is None:
        return None, (1 - LR * h["wd"]) * w - LR * np.sign(g)
    mu = h["momentum"]
    mom = mu * st - (1 - mu) * (h["wd"] * w + clip_cpp(h["rs"] * g, h["clip"]))
    return mom, (1 - LR * h["wd_lh"]) * w + LR * np.sign(mom)


def ref_ftml(st, w, g, t, h):
    d, v, z = st
    b1, b2 = h["beta1"], h["beta2"]
    gg = clip_cpp(h["rs"] * g + h["wd"] * w, h["clip"])
    v = b2 * v + (1 - b2) * gg * gg
    d_t = (1 - b1 ** t) / LR * (np.sqrt(v / (1 - b2 ** t)) + h["epsilon"])
    z = b1 * z + (1 - b1) * gg - (d_t - b1 * d) * w
    return (d_t, v, z), -z / d_t


def ref_lamb(st, w, g, t, h):
    m, v = st
    b1, b2 = h["beta1"], h["beta2"]
    gg = clip_cpp(h["rs"] * g, h["clip"])
    m = b1 * m + (1 - b1) * gg
    v = b2 * v + (1 - b2) * gg * gg
    upd = (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + h["epsilon"]) + h["wd"] * w
    r1, r2 = np.linalg.norm(w), np.linalg.norm(upd)
    ratio = 1.0 if r1 == 0 or r2 == 0 else r1 / r2
    return (m, v), w - LR * ratio * upd


def ref_dcasgd(st, w, g, t, h):
    _, prev = st
    gg = clip_py(h["rs"] * g, h["clip"])
    mom = -LR * (gg + h["wd"] * w + h["lamda"] * gg * gg * (w - prev))
    return (None, w.copy()), w + mom


def ref_adam(st, w, g, t, h):
    m, v = st
    b1, b2 = h["beta1"], h["beta2"]
    lr_t = LR * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    gg = clip_cpp(h["rs"] * g + h["wd"] * w, h["clip"])
    m = b1 * m + (1 - b1) * gg
    v = b2 * v + (1 - b2) * gg * gg
    return (m, v), w - lr_t * m / (np.sqrt(v) + h["epsilon"])


def ref_adagrad(st, w, g, t, h):
    gg = clip_py(h["rs"] * g, h["clip"])
    hist = st + gg * gg
    return hist, w - LR * (gg / np.sqrt(hist + h["eps"]) + h["wd"] * w)


def ref_rmsprop(st, w, g, t, h):
    g1 = h["gamma1"]
    gg = clip_cpp(h["rs"] * g + h["wd"] * w, h["clip"])
    if not h["centered"]:
        (n,) = st
        n = (1 - g1) * gg * gg + g1 * n
        return (n,), w - LR * gg / np.sqrt(n + h["epsilon"])
    n, gm, delta = st
    n = (1 - g1) * gg * gg + g1 * n
    gm = (1 - g1) * gg + g1 * gm
    delta = h["gamma2"] * delta - LR * gg / np.sqrt(n - gm * gm + h["epsilon"])
    return (n, gm, delta), w + delta


def ref_adadelta(st, w, g, t, h):
    acc_g, acc_d = st
    rho, eps = h["rho"], h["epsilon"]
    gg = clip_py(h["rs"] * g, h["clip"])
    acc_g = rho * acc_g + (1 - rho) * gg * gg
    delta = np.sqrt(acc_d + eps) / np.sqrt(acc_g + eps) * gg
    acc_d = rho * acc_d + (1 - rho) * delta * delta
    return (acc_g, acc_d), w - (delta + h["wd"] * w)


def ref_ftrl(st, w, g, t, h):
    z, n = st
    gg = clip_cpp(h["rs"] * g, h["clip"])
    z = z + gg - (np.sqrt(n + gg * gg) - np.sqrt(n)) * w / LR
    n = n + gg * gg
    w = (np.sign(z) * h["lamda1"] - z) / ((h["beta"] + np.sqrt(n)) / LR + h["wd"]) \
        * (np.abs(z) > h["lamda1"])
    return (z, n), w


def ref_adamax(st, w, g, t, h):
    m, u = st
    b1, b2 = h["beta1"], h["beta2"]
    gg = clip_py(h["rs"] * g + h["wd"] * w, h["clip"])
    m = b1 * m + (1 - b1) * gg
    u = np.maximum(b2 * u, np.abs(gg))
    return (m, u), w - LR / (1 - b1 ** t) * m / u


def ref_nadam(st, w, g, t, h):
    m, v = st
    b1, b2, sd = h["beta1"], h["beta2"], h["schedule_decay"]
    gg = clip_py(h["rs"] * g + h["wd"] * w, h["clip"])
    mom_t = b1 * (1 - 0.5 * 0.96 ** (t * sd))
    mom_t1 = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * sd))
    h["m_schedule"] = h.get("m_schedule", 1.0) * mom_t  # one per optimizer
    m_next = h["m_schedule"] * mom_t1
    m = b1 * m + (1 - b1) * gg
    v = b2 * v + (1 - b2) * gg * gg
    g_hat = gg / (1 - h["m_schedule"])
    m_hat = m / (1 - m_next)
    v_hat = v / (1 - b2 ** t)
    return (m, v), w - LR * ((1 - mom_t) * g_hat + mom_t1 * m_hat) / (np.sqrt(v_hat)
                                                                      + h["epsilon"])


def ref_groupadagrad(st, w, g, t, h):
    gg = clip_py(h["rs"] * g, h["clip"])
    hist = st + np.mean(gg * gg, axis=1, keepdims=True)
    return hist, w - LR * gg / np.sqrt(hist + h["eps"])


def ref_test(st, w, g, t, h):
    w = w + h["rs"] * g
    return w.copy(), w


# name -> (reference, its default hyperparameters, multi-precision layout)
# layout "base": (weight32, inner) ; "momentum_first": (inner, weight32)
REFS = {
    "sgd": (ref_sgd, {"momentum": 0.0}, "momentum_first"),
    "ccsgd": (ref_sgd, {"momentum": 0.0}, "momentum_first"),
    "nag": (ref_nag, {"momentum": 0.0}, "momentum_first"),
    "lars": (ref_lars, {"momentum": 0.0, "eta": 0.001, "eps": 0.0}, "momentum_first"),
    "lbsgd": (ref_sgd, {"momentum": 0.0}, None),
    "signum": (ref_signum, {"momentum": 0.9, "wd_lh": 0.0}, "base"),
    "ftml": (ref_ftml, {"beta1": 0.6, "beta2": 0.999, "epsilon": 1e-8}, "base"),
    "lamb": (ref_lamb, {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-6}, "base"),
    "dcasgd": (ref_dcasgd, {"lamda": 0.04}, "base"),
    "adam": (ref_adam, {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}, "base"),
    "adagrad": (ref_adagrad, {"eps": 1e-7}, "base"),
    "rmsprop": (ref_rmsprop, {"gamma1": 0.9, "gamma2": 0.9, "epsilon": 1e-8,
                              "centered": False}, "base"),
    "adadelta": (ref_adadelta, {"rho": 0.9, "epsilon": 1e-5}, "base"),
    "ftrl": (ref_ftrl, {"lamda1": 0.01, "beta": 1.0}, "base"),
    "adamax": (ref_adamax, {"beta1": 0.9, "beta2": 0.999}, "base"),
    "nadam": (ref_nadam, {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8,
                          "schedule_decay": 0.004}, "base"),
    "groupadagrad": (ref_groupadagrad, {"eps": 1e-5}, "base"),
    "test": (ref_test, {}, "base"),
}

# (registry name, constructor kwargs): defaults, then wd / rescale_grad / clip_gradient
COMMON = {"wd": 0.03, "rescale_grad": 0.6, "clip_gradient": 0.5}
CASES = [
    ("sgd", {}), ("sgd", {"momentum": 0.9, **COMMON}), ("ccsgd", {"momentum": 0.5, **COMMON}),
    ("nag", {"momentum": 0.9}), ("nag", {"momentum": 0.9, **COMMON}), ("nag", COMMON),
    ("lars", {"momentum": 0.9, "eta": 0.01}), ("lars", {"momentum": 0.9, "eta": 0.01, **COMMON}),
    ("lbsgd", {"momentum": 0.9, **COMMON}),
    ("signum", {}), ("signum", {"wd_lh": 0.01, **COMMON}), ("signum", {"momentum": 0.0, "wd": 0.03}),
    ("ftml", {}), ("ftml", COMMON),
    ("lamb", {}), ("lamb", COMMON),
    ("dcasgd", {}), ("dcasgd", COMMON), ("dcasgd", {"clip_gradient": 0.0}),
    ("adam", {}), ("adam", COMMON),
    ("adagrad", {}), ("adagrad", COMMON),
    ("rmsprop", {}), ("rmsprop", COMMON), ("rmsprop", {"centered": True, **COMMON}),
    ("adadelta", {}), ("adadelta", COMMON),
    ("ftrl", {}), ("ftrl", COMMON),
    ("adamax", {}), ("adamax", COMMON),
    ("nadam", {}), ("nadam", COMMON),
    ("groupadagrad", {}), ("groupadagrad", {"rescale_grad": 0.6, "clip_gradient": 0.5}),
    ("test", {"rescale_grad": 0.6}),
]
DTYPES = ["float32", "float64", "float16-mp"]
# MXNet creates these states without a dtype: float32 even for float64 weights
FLOAT32_STATE = {"adagrad", "rmsprop", "adadelta", "ftrl", "groupadagrad", "test"}


def _ref_state(name, kw, w):
    """MXNet's initial state (inner), as float64 NumPy."""
    z = np.zeros_like(w)
    if name in ("sgd", "ccsgd", "nag", "lars", "lbsgd", "signum"):
        return z if kw["momentum"] != 0 else None
    if name in ("ftml",):
        return (z, z, z)
    if name in ("lamb", "adam", "adamax", "nadam", "adadelta", "ftrl"):
        return (z, z)
    if name == "dcasgd":
        return (None, w.copy())
    if name == "rmsprop":
        return (z, z, z) if kw["centered"] else (z,)
    if name == "groupadagrad":
        return np.zeros((w.shape[0], 1))
    return z  # adagrad, test


def _flat(s):
    if s is None:
        return [None]
    if isinstance(s, (tuple, list)):
        return [x for y in s for x in _flat(y)]
    return [s]


def _close(got, ref, what, rtol, atol):
    got = np.asarray(got, np.float64)
    assert got.shape == ref.shape, f"{what}: shape {got.shape} != {ref.shape}"
    tol = atol + rtol * np.abs(ref)
    bad = np.abs(got - ref) > tol
    assert not bad.any(), f"{what}: max |diff| {np.max(np.abs(got - ref)):.3g}"


def _case_id(case):
    name, kw = case
    return name + "".join(f"-{k}={v}" for k, v in kw.items())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_compare_with_reference(case, dtype):
    name, kwargs = case
    ref_fn, defaults, mp_layout = REFS[name]
    mp = dtype == "float16-mp"
    if mp and mp_layout is None:
        pytest.skip("MXNet's LBSGD multi-precision state is inconsistent (see "
                    "test_optimizer_updates.MXNET_BUGS)")
    wdtype = "float16" if mp else dtype
    shapes = [(4, 5), (6, 3)] if name == "groupadagrad" else SHAPES
    rtol, atol = {"float32": (2e-5, 1e-6), "float64": (1e-10, 1e-12),
                  "float16-mp": (2e-5, 1e-6)}[dtype]
    # float16 weights hold the float32 master's value to float16 resolution
    wtol = [2e-3, 2e-3] if mp else [rtol, atol]
    if name in ("ftml", "lamb", "adam", "nadam", "adamax") and dtype != "float64":
        rtol = 5e-5  # the core's float32 bias corrections (see test_golden_mxnet.LOOSE)
    if dtype == "float64" and name in FLOAT32_STATE:
        rtol, atol = 2e-6, 1e-7  # float32 state arrays round every step
        wtol = (rtol, atol)
    if dtype == "float64" and name in ("lbsgd", "nadam"):
        # float32 pieces inside the core: LBSGD's warm-up multiplier, Nadam's 0.96**(t*sd)
        rtol, atol = 1e-6, 1e-8
        wtol = [rtol, atol]
    with jax.enable_x64(dtype == "float64"):
        for shape in shapes:
            rng = np.random.default_rng(hash((name, shape)) % 2 ** 32)
            h = {**defaults, **{k: v for k, v in kwargs.items() if k in defaults},
                 "wd": kwargs.get("wd", 0.0), "rs": kwargs.get("rescale_grad", 1.0),
                 "clip": kwargs.get("clip_gradient")}
            opt = mx.optimizer.create(name, learning_rate=LR, multi_precision=mp, **kwargs)
            w0 = rng.uniform(-1, 1, shape).astype(wdtype)
            w = mx.nd.array(w0, dtype=wdtype)
            state = opt.create_state_multi_precision(0, w)
            ref_w = w0.astype(np.float64)
            ref_st = _ref_state(name, h, ref_w)
            if mp:
                master, inner = (state[0], state[1]) if mp_layout == "base" else \
                    (state[1], state[0])
                assert master.dtype == np.float32
            else:
                inner = state
            got_flat, ref_flat = _flat(inner), _flat(ref_st)
            assert [x is None for x in got_flat] == [x is None for x in ref_flat], \
                f"{name}: state structure {inner!r}"
            for k, (a, b) in enumerate(zip(got_flat, ref_flat)):
                if a is not None:
                    _close(a.asnumpy(), b, f"{name} {shape} initial state[{k}]", rtol, atol)
            for t in (1, 2, 3):
                g0 = rng.uniform(-1.5, 1.5, shape).astype(wdtype)
                opt.update_multi_precision(0, w, mx.nd.array(g0, dtype=wdtype), state)
                ref_st, ref_w = ref_fn(ref_st, ref_w, g0.astype(np.float64), t, h)
                for k, (a, b) in enumerate(zip(_flat(inner), _flat(ref_st))):
                    if a is not None:
                        _close(a.asnumpy(), b, f"{name} {shape} {dtype} step {t} state[{k}]",
                               rtol, atol)
                if mp:
                    _close(master.asnumpy(), ref_w, f"{name} {shape} step {t} master",
                           rtol, atol)
                _close(w.asnumpy(), ref_w, f"{name} {shape} {dtype} step {t} weight", *wtol)
