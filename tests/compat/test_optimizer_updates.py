"""The shim's optimizer layer against MXNet 1.9.1: the functions of
tests/golden/compat/optimizer/gen_mxnet_updates.py run here with the shim and are compared
with their output under real MXNet (``mxnet_updates.json``): the ``*_update`` operators
called in MXNet's style, the built-in optimizers' states, learning rates as Python floats,
and resuming from a ``.states`` file MXNet wrote."""

import importlib.util
import json
import pathlib
import threading

import numpy as np
import pytest

import optjax.compat.mxnet as mx

HERE = pathlib.Path(__file__).resolve().parents[1] / "golden" / "compat" / "optimizer"
GOLDEN = json.loads((HERE / "mxnet_updates.json").read_text())


def _load_generator():
    spec = importlib.util.spec_from_file_location("gen_mxnet_updates",
                                                  HERE / "gen_mxnet_updates.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


gen = _load_generator()
inputs = gen.inputs

# Known core precision gap: FTML's and LAMB's bias corrections 1 - beta**t are float32 in
# the core, float64 Python in MXNet (1 - 0.999**t loses ~1e-5 relative in float32).
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


def _leaves(values, structure):
    """The arrays of a state's values (nested lists), guided by its structure."""
    if structure is None:
        return []
    if isinstance(structure, list):
        return [a for v, st in zip(values, structure) for a in _leaves(v, st)]
    return [values]


@pytest.mark.parametrize("key", sorted(GOLDEN["ops"]))
def test_update_operator_in_mxnet_style(key):
    case = GOLDEN["ops"][key]
    name = case["name"]
    got = gen.run_op(mx, name, case["states"], case["attrs"])
    # float16 weights are compared at float16's resolution
    wtol = dict(rtol=2e-3, atol=2e-3) if "weight32" in case["states"] else {}
    stol = next(({"rtol": v} for k, v in LOOSE.items() if k in name), {})
    for step, (g, r) in enumerate(zip(got, case["steps"]), 1):
        assert g.keys() == r.keys()
        for k in r:
            close(g[k], r[k], f"{key} step {step} {k}", **(wtol if k == "weight" else stol))


def test_update_operators_write_out_and_return_it():
    w, g, mom = mx.nd.ones((3,)), mx.nd.ones((3,)), mx.nd.zeros((3,))
    assert mx.nd.sgd_mom_update(w, g, mom, out=w, lr=0.1, momentum=0.9) is w
    res = mx.nd.sgd_update(w, g, lr=0.1)  # no out: a new array, w unchanged
    assert res is not w and not np.array_equal(res.asnumpy(), w.asnumpy())


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


def test_lamb_update_phase2():
    got, ref = gen.lamb_phase2(mx), GOLDEN["lamb_phase2"]
    assert got.keys() == ref.keys()
    for k in ref:
        close(got[k], ref[k], k, **(dict(rtol=1e-3, atol=1e-3) if k == "mp" else {}))


@pytest.mark.parametrize("name", sorted(GOLDEN["multi"]))
def test_multi_updates(name):
    got = gen.multi_ops(mx, only=name)[name]
    tol = dict(rtol=2e-3, atol=2e-3) if "mp" in name else {}
    for step, (g, r) in enumerate(zip(got, GOLDEN["multi"][name]), 1):
        for k in range(2):
            close(g["weights"][k], r["weights"][k], f"{name} step {step} weight {k}", **tol)
            for e, re_ in zip(g["extra"][k], r["extra"][k]):
                close(e, re_, f"{name} step {step} state of {k}")


@pytest.mark.parametrize("case", gen.STATE_CASES, ids=[gen.state_key(*c) for c in gen.STATE_CASES])
def test_builtin_state_is_what_mxnet_returns(case):
    key = gen.state_key(*case)
    ref = GOLDEN["states"][key]
    if key in MXNET_BUGS:
        pytest.skip(MXNET_BUGS[key])
    got = gen.state_case(mx, *case)
    assert got["structure"] == ref["structure"]
    if "after" not in ref:  # SGLD (random), or MXNet fails (float32 state, float16 weight)
        return
    name, dtype = case[0], case[2]
    tol = dict(rtol=2e-3, atol=2e-3) if dtype == "float16" else \
        dict(rtol=LOOSE.get(name, 3e-6), atol=2e-6)
    for k, (a, b) in enumerate(zip(_leaves(got["after"], ref["structure"]),
                                   _leaves(ref["after"], ref["structure"]))):
        close(a, b, f"{key} state array {k}", **tol)
    close(got["weight"], ref["weight"], f"{key} weight", **tol)


def test_learning_rates_are_mxnets_python_floats():
    assert gen.learning_rates(mx) == GOLDEN["lr"]


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
    assert gen.describe(u2.states[0]) == gen.describe(u.states[0])
    assert gen.describe(u2.states[1]) == gen.describe(u.states[1])
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
    for w, ref in zip(gen.resume_mp_sgd(mx), GOLDEN["resume_mp_sgd"]):
        close(w, ref, "resumed weight", rtol=1e-3, atol=1e-3)
