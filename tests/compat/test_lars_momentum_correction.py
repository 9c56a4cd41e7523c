"""LARS momentum_correction in the shim: MXNet's per-``_get_lrs``-call bookkeeping.

The numbers against MXNet 1.9.1 are in the golden test (``lars_mc``,
``lars_mc_chunks``); these check the chunking rules that golden does not vary.
"""

import numpy as np
import pytest

import optjax.compat.mxnet as mx
from optjax.compat.mxnet import optimizer as mxopt

NAMES = ["a_weight", "b_weight", "c_weight", "d_weight", "e_weight", "f_weight"]


def _run(monkeypatch, aggregation=None, correction=True, steps=4, direct=False):
    if aggregation is None:
        monkeypatch.delenv("MXNET_OPTIMIZER_AGGREGATION_SIZE", raising=False)
    else:
        monkeypatch.setenv("MXNET_OPTIMIZER_AGGREGATION_SIZE", str(aggregation))
    sched = mx.lr_scheduler.FactorScheduler(step=2, factor=0.5, base_lr=0.1)
    opt = mx.optimizer.create("lars", momentum=0.9, eta=0.01, lr_scheduler=sched,
                              momentum_correction=correction,
                              param_idx2name=dict(enumerate(NAMES)))
    upd = mx.optimizer.get_updater(opt)
    ws = [mx.nd.array(np.cos(np.arange(4.0) + k)) for k in range(len(NAMES))]
    for step in range(1, steps + 1):
        gs = [mx.nd.array(np.sin(np.arange(4.0) * step + k)) for k in range(len(NAMES))]
        idx = list(range(len(NAMES)))
        if direct:  # opt.update with lists: ONE _get_lrs call, as MXNet's _update_impl
            for i, w in zip(idx, ws):
                if i not in upd.states:
                    upd.states[i] = opt.create_state_multi_precision(i, w)
            opt.update(idx, ws, gs, [upd.states[i] for i in idx])
        else:
            upd(idx, gs, ws)
    return [w.asnumpy() for w in ws], opt


def test_only_first_chunk_sees_the_corrected_momentum(monkeypatch):
    chunked, opt = _run(monkeypatch)  # default aggregation 4: chunks [0..3], [4, 5]
    assert opt.aggregate_num == 4
    assert opt.cur_lr == opt.last_lr == pytest.approx(0.05)  # the second chunk saw last_lr == cur_lr
    whole, _ = _run(monkeypatch, aggregation=8)  # one chunk: all six corrected
    plain, _ = _run(monkeypatch, correction=False)
    direct, _ = _run(monkeypatch, direct=True)
    for k in range(4):
        np.testing.assert_array_equal(chunked[k], whole[k])
        assert np.abs(chunked[k] - plain[k]).max() > 1e-4
    for k in (4, 5):
        np.testing.assert_array_equal(chunked[k], plain[k])
        assert np.abs(chunked[k] - whole[k]).max() > 1e-4
    for k in range(6):
        np.testing.assert_array_equal(direct[k], whole[k])


def test_aggregation_off_updates_index_by_index(monkeypatch):
    single, _ = _run(monkeypatch, aggregation=0)  # MXNet: one update call per index
    whole, _ = _run(monkeypatch, aggregation=8)
    plain, _ = _run(monkeypatch, correction=False)
    np.testing.assert_array_equal(single[0], whole[0])
    for k in range(1, 6):
        np.testing.assert_array_equal(single[k], plain[k])


def test_chunks_group_by_dtype_in_order_of_first_appearance():
    opt = mx.optimizer.create("lars", momentum=0.9)
    upd = mx.optimizer.get_updater(opt)
    dts = [np.float32, np.float16, np.float32, np.float32, np.float32, np.float32, np.float16]
    ws = [mx.nd.zeros((2,), dtype=d) for d in dts]
    assert upd._chunks(ws) == [[0, 2, 3, 4], [5], [1, 6]]
    # SGD aggregates like LARS; Adam (aggregate_num 0) makes one call per index
    assert mxopt.Updater(mx.optimizer.create("sgd", momentum=0.9))._chunks(ws) == upd._chunks(ws)
    assert mxopt.Updater(mx.optimizer.create("adam"))._chunks(ws) == [[j] for j in range(7)]


def test_cur_lr_survives_states_round_trip(monkeypatch):
    _, opt = _run(monkeypatch, steps=3)
    upd = mx.optimizer.get_updater(opt)
    blob = upd.get_states(dump_optimizer=True)
    fresh = mx.optimizer.get_updater(mx.optimizer.create("lars", momentum=0.9))
    fresh.set_states(blob)
    assert fresh.optimizer.cur_lr == opt.cur_lr == pytest.approx(0.05)
    assert fresh.optimizer.last_lr == opt.last_lr
