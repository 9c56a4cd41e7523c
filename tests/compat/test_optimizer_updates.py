"""The shim's optimizer layer against MXNet 1.9.1 (goldens from
tests/golden/compat/optimizer/gen_mxnet_updates.py): the ``*_update`` operators called
in MXNet's style, the built-in optimizers' states, and learning rates as Python floats."""

import json
import pathlib
import threading

import numpy as np
import pytest

import optjax.compat.mxnet as mx

GOLDEN = json.loads((pathlib.Path(__file__).resolve().parents[1] / "golden" / "compat" /
                     "optimizer" / "mxnet_updates.json").read_text())
SHAPE = (3, 4)


def inputs(step, shape=SHAPE, dtype="float32"):
    k = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    w = np.cos(0.7 * k + 0.3) * 0.8
    g = np.sin(1.3 * k + 0.5 * step) * 1.5
    return w.astype(dtype), g.astype(dtype)


# Known core precision gap: FTML's bias corrections 1 - beta**t are float32 in the core,
# float64 Python in MXNet (1 - 0.999**t loses ~1e-5 relative in float32).
LOOSE = {"ftml": 2e-5, "lamb": 5e-6}

# MXNet 1.9.1 bugs the shim does not reproduce (docs/optimizers-mxnet.md):
MXNET_BUGS = {
    # single-index mp_lamb_update_phase2 never updates the float32 master
    "lamb{}/float16/mp=True": "MXNet's mp LAMB does not update its master copy",
    # LBSGD builds (mom, weight32) but the base update_multi_precision reads (weight32, state)
    "lbsgd{'momentum': 0.9}/float16/mp=True": "MXNet's mp LBSGD swaps its state's halves",
}


def close(got, ref, what, rtol=2e-6, atol=1e-6):
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    assert got.shape == ref.shape, what
    tol = atol + rtol * max(1.0, float(np.max(np.abs(ref))))
    err = float(np.max(np.abs(got - ref)))
    assert err <= tol, f"{what}: max |diff| {err:.3g} > {tol:.3g}"


@pytest.mark.parametrize("key", sorted(GOLDEN["ops"]))
def test_update_operator_in_mxnet_style(key):
    case = GOLDEN["ops"][key]
    name, states, attrs = case["name"], case["states"], case["attrs"]
    fn = mx.nd.contrib if name.startswith("contrib.") else mx.nd
    fn = getattr(fn, name.split(".")[-1])
    mp = "weight32" in states
    w0, _ = inputs(0, dtype="float16" if mp else "float32")
    w = mx.nd.array(w0, dtype=w0.dtype)
    st = {s: (mx.nd.array(w0, dtype="float32") if s == "weight32" else
              mx.nd.zeros(SHAPE, dtype="float32")) for s in states}
    # float16 results are compared at float16's resolution
    tol = dict(rtol=2e-3, atol=2e-3) if mp else {}
    stol = next(({"rtol": v} for k, v in LOOSE.items() if k in name), {})
    for step, ref in enumerate(case["steps"], 1):
        g = mx.nd.array(inputs(step, dtype=w0.dtype)[1], dtype=w0.dtype)
        kw = {k: (step if v == "step" else v) for k, v in attrs.items()}
        args = [w, g] + [st[s] for s in states]
        if name.endswith("adamw_update"):
            args.append(mx.nd.array([kw.pop("rescale_grad")]))
        if name.endswith("lamb_update_phase1"):
            close(fn(*args, **kw).asnumpy(), ref["out"], f"{key} step {step} out", **stol)
        else:
            res = fn(*args, out=w, **kw)
            assert res is w
            close(w.asnumpy(), ref["weight"], f"{key} step {step} weight", **tol)
        for s in states:
            close(st[s].asnumpy(), ref[s], f"{key} step {step} {s}", **stol)


def test_custom_optimizer_in_mxnet_style_runs_unchanged():
    """The seeds' pattern with the operator MXNet's own SGD calls."""
    from optjax.compat.mxnet.ndarray import sgd_mom_update

    @mx.optimizer.register
    class OpSGD(mx.optimizer.Optimizer):
        def __init__(self, momentum=0.0, **kwargs):
            super().__init__(**kwargs)
            self.momentum = momentum

        def create_state(self, index, weight):
            return mx.nd.zeros(weight.shape, weight.context, dtype=weight.dtype)

        def update(self, index, weight, grad, state):
            self._update_count(index)
            lr, wd = self._get_lr(index), self._get_wd(index)
            sgd_mom_update(weight, grad, state, out=weight, lr=lr, wd=wd, momentum=self.momentum,
                           rescale_grad=self.rescale_grad, clip_gradient=self.clip_gradient or -1)

    ws = [mx.nd.array(inputs(0)[0]) for _ in range(2)]
    us = [mx.optimizer.get_updater(mx.optimizer.create(n, learning_rate=0.1, momentum=0.9,
                                                       wd=0.01, clip_gradient=0.5))
          for n in ("opsgd", "sgd")]
    for step in (1, 2, 3):
        for u, w in zip(us, ws):
            u(0, mx.nd.array(inputs(step)[1]), w)
    close(ws[0].asnumpy(), ws[1].asnumpy(), "custom vs built-in")
    close(us[0].states[0].asnumpy(), us[1].states[0].asnumpy(), "momentum")


@pytest.mark.parametrize("case", ["2.0,-1.0", "-1.0,0.5", "-1.0,-1.0", "mp"])
def test_lamb_update_phase2(case):
    if case == "mp":
        w0, g0 = inputs(1)
        w16, w32, g = mx.nd.array(w0, dtype="float16"), mx.nd.array(w0), mx.nd.array(g0)
        mx.nd.mp_lamb_update_phase2(w16, g, w32.norm(), g.norm(), w32, out=w16, lr=0.1)
        close(w16.asnumpy(), GOLDEN["lamb_phase2"]["mp"], "mp", rtol=1e-3, atol=1e-3)
        close(w32.asnumpy(), GOLDEN["lamb_phase2"]["mp_weight32"], "mp weight32 unchanged")
        return
    lb, ub = (float(x) for x in case.split(","))
    w0, g0 = inputs(1)
    w, g = mx.nd.array(w0), mx.nd.array(g0)
    mx.nd.lamb_update_phase2(w, g, w.norm(), g.norm(), out=w, lr=0.1, lower_bound=lb,
                             upper_bound=ub)
    close(w.asnumpy(), GOLDEN["lamb_phase2"][f"{lb},{ub}"], case)


@pytest.mark.parametrize("name", sorted(GOLDEN["multi"]))
def test_multi_updates(name):
    ws = [inputs(0, (3, 4))[0], inputs(0, (5,))[0]]
    mp = "mp" in name
    dt = "float16" if mp else "float32"
    wn = [mx.nd.array(w, dtype=dt) for w in ws]
    extra = []
    for w in ws:
        e = [mx.nd.zeros(w.shape)] if "mom" in name else []
        if mp:
            e.append(mx.nd.array(w, dtype="float32"))
        extra.append(e)
    kw = {"lrs": (0.1, 0.2), "wds": (0.01, 0.0), "rescale_grad": 0.5, "num_weights": 2}
    if "mom" in name:
        kw["momentum"] = 0.9
    tol = dict(rtol=2e-3, atol=2e-3) if mp else {}
    for step, ref in enumerate(GOLDEN["multi"][name], 1):
        data = []
        for k, w in enumerate(ws):
            data += [wn[k], mx.nd.array(inputs(step, w.shape, dt)[1], dtype=dt)] + extra[k]
        getattr(mx.nd, name)(*data, out=wn, **kw)
        for k in range(2):
            close(wn[k].asnumpy(), ref["weights"][k], f"{name} step {step} weight {k}", **tol)
            for e, r in zip(extra[k], ref["extra"][k]):
                close(e.asnumpy(), r, f"{name} step {step} state of {k}")


def _describe(s):
    if s is None:
        return None
    if isinstance(s, (tuple, list)):
        return [_describe(x) for x in s]
    assert isinstance(s, mx.nd.NDArray), type(s)
    return {"shape": list(s.shape), "dtype": np.dtype(s.dtype).name}


def _values(s):
    if s is None:
        return None
    if isinstance(s, (tuple, list)):
        return [_values(x) for x in s]
    return s.asnumpy().astype(np.float64)


def _compare_values(got, ref, what, **tol):
    if ref is None:
        assert got is None, what
    elif isinstance(got, list):
        assert len(got) == len(ref), what
        for k, (a, b) in enumerate(zip(got, ref)):
            _compare_values(a, b, f"{what}[{k}]", **tol)
    else:
        close(got, ref, what, **tol)


@pytest.mark.parametrize("key", sorted(GOLDEN["states"]))
def test_builtin_state_is_what_mxnet_returns(key):
    import ast
    spec, dtype, mp = key.split("/")
    name, kw = spec[:spec.index("{")], ast.literal_eval(spec[spec.index("{"):])
    mp = mp == "mp=True"
    ref = GOLDEN["states"][key]
    if key in MXNET_BUGS:
        pytest.skip(MXNET_BUGS[key])
    wd = 0.0 if name == "groupadagrad" else 0.01
    opt = mx.optimizer.create(name, learning_rate=0.01, wd=wd, multi_precision=mp, **kw)
    w = mx.nd.array(inputs(0, dtype=dtype)[0], dtype=dtype)
    st = opt.create_state_multi_precision(0, w)
    assert _describe(st) == ref["structure"]
    if "after" not in ref:  # SGLD (random), or MXNet itself fails (float32 state, float16 weight)
        return
    for step in (1, 2, 3):
        opt.update_multi_precision(0, w, mx.nd.array(inputs(step, dtype=dtype)[1], dtype=dtype),
                                   st)
    tol = dict(rtol=2e-3, atol=2e-3) if dtype == "float16" else \
        dict(rtol=LOOSE.get(name, 3e-6), atol=2e-6)
    _compare_values(_values(st), ref["after"], f"{key} state", **tol)
    close(w.asnumpy(), ref["weight"], f"{key} weight", **tol)


def test_learning_rates_are_mxnets_python_floats():
    ref = GOLDEN["lr"]
    assert repr(mx.optimizer.SGD(learning_rate=0.3).learning_rate) == ref["sgd_lr"]
    sched = mx.lr_scheduler.FactorScheduler(step=2, factor=0.3, base_lr=0.7, stop_factor_lr=1e-3)
    assert [repr(sched(n)) for n in range(0, 30, 3)] == ref["factor"]
    sched = mx.lr_scheduler.MultiFactorScheduler(step=[2, 5, 9], factor=0.7, base_lr=0.3)
    assert [repr(sched(n)) for n in range(0, 12)] == ref["multifactor"]
    sched = mx.lr_scheduler.PolyScheduler(max_update=10, base_lr=0.3, pwr=2, final_lr=0.01,
                                          warmup_steps=3, warmup_begin_lr=0.1)
    assert [repr(sched(n)) for n in range(0, 13)] == ref["poly"]
    sched = mx.lr_scheduler.CosineScheduler(max_update=10, base_lr=0.3, final_lr=0.01,
                                            warmup_steps=2, warmup_mode="constant",
                                            warmup_begin_lr=0.05)
    assert [repr(sched(n)) for n in range(0, 13)] == ref["cosine"]
    sched = mx.lr_scheduler.FactorScheduler(step=1, factor=0.9, base_lr=0.1)
    opt = mx.optimizer.Adam(learning_rate=0.3, lr_scheduler=sched)
    opt.num_update = 5
    assert repr(opt.learning_rate) == ref["adam_sched_lr"]
    params = mx.gluon.ParameterDict("dense_")
    params.get("weight", shape=(2, 3))
    params.initialize()
    trainer = mx.gluon.Trainer(params, "sgd", {"learning_rate": 0.3})
    assert repr(trainer.learning_rate) == ref["trainer_lr"]
    trainer.set_learning_rate(0.7)
    assert repr(trainer.learning_rate) == ref["trainer_lr_set"]


# -- issue 15 items: counts, validation, load_states, threads ---------------------------------


def test_begin_num_update_beyond_int32_does_not_wrap():
    opt = mx.optimizer.Adam(learning_rate=0.1, begin_num_update=2 ** 31 + 5)
    u = mx.optimizer.get_updater(opt)
    w = mx.nd.ones((3,))
    u(0, mx.nd.ones((3,)), w)
    assert opt.num_update == 2 ** 31 + 6
    # bias corrections at a huge t are 1: w -= lr * m/(sqrt(v) + eps) with m = 0.1, v = 0.001
    close(w.asnumpy(), 1 - 0.1 * 0.1 / (np.sqrt(0.001) + 1e-8) * np.ones(3), "adam at t > 2**31",
          rtol=1e-5)


def test_multi_index_call_validates_every_index_first():
    opt = mx.optimizer.Adam(learning_rate=0.1)
    u = mx.optimizer.get_updater(opt)
    ws = [mx.nd.ones((2,)), mx.nd.ones((3,))]
    with pytest.raises(ValueError, match=r"index 1.*\(4,\).*\(3,\)"):
        u([0, 1], [mx.nd.ones((2,)), mx.nd.ones((4,))], ws)
    assert all((w.asnumpy() == 1).all() for w in ws)
    assert opt.num_update == 0 and u.states == {}
    # a state of the wrong shape (after set_states) is refused before anything changes
    u([0, 1], [mx.nd.ones((2,)), mx.nd.ones((3,))], ws)
    u.states[1] = (mx.nd.zeros((5,)), mx.nd.zeros((5,)))
    before = [w.asnumpy().copy() for w in ws]
    with pytest.raises(ValueError, match="state array"):
        u([0, 1], [mx.nd.ones((2,)), mx.nd.ones((3,))], ws)
    assert all((w.asnumpy() == b).all() for w, b in zip(ws, before))
    assert opt.num_update == 1


def test_failed_step_after_load_states_keeps_the_loaded_state(tmp_path):
    params = mx.gluon.ParameterDict("net_")
    p = params.get("weight", shape=(3,), init=mx.init.One())
    params.initialize()
    trainer = mx.gluon.Trainer(params, "adam", {"learning_rate": 0.1})
    p.grad()[:] = mx.nd.ones((3,))
    trainer.step(1)
    f = str(tmp_path / "t.states")
    trainer.save_states(f)
    mean = trainer._updaters[0].states[0][0].asnumpy().copy()
    trainer.load_states(f)
    p.grad()[:] = mx.nd.ones((3,), dtype="float16") if False else mx.nd.ones((3,))
    p.grad()._data = p.grad()._data.astype("float16")  # a bad gradient: the step fails
    with pytest.raises(TypeError, match="float16"):
        trainer.step(1)
    state = trainer._updaters[0].states[0]
    assert isinstance(state, tuple) and np.array_equal(state[0].asnumpy(), mean)
    assert trainer.optimizer.num_update == 1


def test_updater_is_safe_from_several_threads():
    opt = mx.optimizer.SGD(learning_rate=0.01, momentum=0.9)
    u = mx.optimizer.get_updater(opt)
    ws = [mx.nd.zeros((4,)) for _ in range(8)]

    def work(k):
        for _ in range(5):
            u(k, mx.nd.ones((4,)), ws[k])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(u.states) == list(range(8))
    assert all(opt._index_update_count[k] == 5 for k in range(8))
    for w in ws[1:]:
        np.testing.assert_array_equal(w.asnumpy(), ws[0].asnumpy())


def test_sgld_noise_repeats_under_mx_random_seed():
    def run():
        mx.random.seed(7)
        opt = mx.optimizer.SGLD(learning_rate=0.1)
        u = mx.optimizer.get_updater(opt)
        w = mx.nd.zeros((50,))
        for _ in range(2):
            u(0, mx.nd.zeros((50,)), w)
        return w.asnumpy()

    a, b = run(), run()
    np.testing.assert_array_equal(a, b)
    assert a.std() > 0.1  # two draws of N(0, lr): std sqrt(0.2)
    mx.random.seed(8)
    c = run.__wrapped__() if hasattr(run, "__wrapped__") else None
    del c


def test_states_round_trip_keeps_mxnet_structure():
    opt = mx.optimizer.create("sgd", learning_rate=0.1, momentum=0.9, multi_precision=True)
    u = mx.optimizer.get_updater(opt)
    w16, w32 = mx.nd.ones((2,), dtype="float16"), mx.nd.ones((3,))
    u([0, 1], [mx.nd.ones((2,), dtype="float16"), mx.nd.ones((3,))], [w16, w32])
    blob = u.get_states(dump_optimizer=True)
    u2 = mx.optimizer.get_updater(mx.optimizer.SGD())
    u2.set_states(blob)
    assert _describe(u2.states[0]) == _describe(u.states[0])
    assert _describe(u2.states[1]) == _describe(u.states[1])
    np.testing.assert_array_equal(u2.states[0][0].asnumpy(), u.states[0][0].asnumpy())
    assert isinstance(u2.optimizer, mx.optimizer.SGD) and u2.optimizer.num_update == 1


def test_optimizer_contrib_and_runtime():
    assert mx.optimizer.contrib.GroupAdaGrad is mx.optimizer.GroupAdaGrad
    feats = mx.runtime.Features()
    assert feats.is_enabled("cpu_sse") in (True, False)
    assert not feats.is_enabled("MKLDNN") and feats.is_enabled("LAPACK")
    assert repr(feats["MKLDNN"]) == "✖ MKLDNN"
    names = [f.name for f in mx.runtime.feature_list()]
    assert "CUDA" in names and "MKLDNN" in names
    with pytest.raises(RuntimeError, match="NOSUCH"):
        feats.is_enabled("NOSUCH")


FORMATS = pathlib.Path(__file__).resolve().parents[1] / "golden" / "compat" / "formats"


def test_set_states_reads_mxnet_pickles_without_running_them():
    manifest = json.loads((FORMATS / "manifest.json").read_text())["states_files"]
    expected = np.load(FORMATS / "expected.npz")
    u = mx.optimizer.get_updater(mx.optimizer.SGD())
    u.set_states((FORMATS / "trainer_adam.states").read_bytes())
    opt = u.optimizer
    assert isinstance(opt, mx.optimizer.Adam) and opt.num_update == 2
    assert isinstance(opt.lr_scheduler, mx.lr_scheduler.FactorScheduler)
    assert opt.learning_rate == 0.005 and opt._index_update_count[4] == 2
    for index, spec in manifest["trainer_adam.states"]["states"]["dict"]:
        got = u.states[index]
        assert isinstance(got, tuple) and len(got) == len(spec["tuple"])
        for a, s in zip(got, spec["tuple"]):
            np.testing.assert_array_equal(a.asnumpy(), expected[s["array"]["key"]])
    # a step after loading uses the loaded moments and counts
    w = mx.nd.ones(u.states[0][0].shape)
    u(0, mx.nd.ones(w.shape), w)
    assert opt._index_update_count[0] == 3


def test_resume_from_mxnet_multi_precision_states():
    opt = mx.optimizer.SGD(learning_rate=np.float32(0.1), momentum=0.9, multi_precision=True,
                           wd=1e-3)
    updater = mx.optimizer.get_updater(opt)
    rs = np.random.RandomState(8)
    weights = [mx.nd.array(rs.standard_normal(s), dtype="float16") for s in [(2, 3), (3,)]]

    def steps(n, rs):
        for _ in range(n):
            for i, w in enumerate(weights):
                updater(i, mx.nd.array(rs.standard_normal(w.shape), dtype="float16"), w)

    steps(2, rs)
    updater.set_states((FORMATS / "updater_sgd_multi_precision.states").read_bytes())
    steps(1, np.random.RandomState(9))
    for w, ref in zip(weights, GOLDEN["resume_mp_sgd"]):
        close(w.asnumpy(), ref, "resumed weight", rtol=1e-3, atol=1e-3)
