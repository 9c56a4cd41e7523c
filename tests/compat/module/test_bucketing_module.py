"""``mx.mod.BucketingModule`` against real MXNet 1.9.1
(tests/golden/compat/module/gen_mxnet_bucketing.py)."""

import json
import os

import numpy as np
import pytest

import optjax.compat.mxnet as mx
from tests.golden.compat.module.module_cases import bucket_iter, bucket_sym_gen, epoch_params

GOLDEN = os.path.join(os.path.dirname(__file__), "..", "..", "golden", "compat", "module")
GOLD = np.load(os.path.join(GOLDEN, "bucketing.npz"))
KEYS = [5, 3, 3, 5, 3]
TOL = {"rtol": 1e-4, "atol": 1e-6}


def test_bucketing_fit_and_predict_match_mxnet():
    it = bucket_iter(mx, KEYS)
    mod = mx.mod.BucketingModule(bucket_sym_gen(mx), default_bucket_key=it.default)
    epochs, outs = [], []
    init = {k[len("init/"):]: mx.nd.array(GOLD[k]) for k in GOLD.files if k.startswith("init/")}
    mod.fit(it, num_epoch=2, optimizer="sgd",
            optimizer_params={"learning_rate": 0.1, "momentum": 0.9, "wd": 1e-3},
            arg_params=init,
            batch_end_callback=lambda p: outs.append(p.locals["self"].get_outputs()[0].asnumpy()),
            epoch_end_callback=epoch_params(epochs))
    np.testing.assert_allclose(np.stack(outs), GOLD["outputs"], **TOL)
    for e, params in enumerate(epochs):
        for k, v in params.items():
            np.testing.assert_allclose(v, GOLD[f"epoch{e}/{k}"], err_msg=k, **TOL)
    np.testing.assert_allclose(mod.predict(it).asnumpy(), GOLD["predict"], **TOL)
    assert sorted(mod._buckets) == GOLD["buckets"].tolist()
    # the buckets share one set of parameter arrays and one optimizer
    a, b = mod._buckets[3], mod._buckets[5]
    assert a._exec.arg_dict["fc_weight"] is b._exec.arg_dict["fc_weight"]
    assert a._updater is b._updater


def test_bucketing_module_needs_a_default_key():
    with pytest.raises(ValueError, match="default_bucket_key"):
        mx.mod.BucketingModule(bucket_sym_gen(mx))


def _symbol_ops(path):
    """(op, argument names) of each node of a symbol JSON file (auto names aside)."""
    with open(path) as f:
        nodes = json.load(f)["nodes"]
    return [(n["op"], n["name"] if n["op"] == "null" else None, n.get("attrs")) for n in nodes]


def test_bucketing_loads_mxnets_checkpoint_and_writes_the_same_files(tmp_path):
    it = bucket_iter(mx, KEYS)
    prefix = os.path.join(GOLDEN, "bucketing")
    mod = mx.mod.BucketingModule.load(prefix, 2, sym_gen=bucket_sym_gen(mx),
                                      default_bucket_key=it.default)
    assert sorted(mod._buckets) == [3, 5] and not mod.binded
    mod.bind(it.provide_data, it.provide_label, for_training=False)
    np.testing.assert_allclose(mod.predict(it).asnumpy(), GOLD["load_predict"], **TOL)
    np.testing.assert_array_equal(mod.get_params()[0]["fc_weight"].asnumpy(),
                                  mx.nd.load(prefix + "-0002.params")["arg:fc_weight"].asnumpy())
    # what we write is what MXNet wrote: same bytes, same graphs (MXNet loads it)
    ours = str(tmp_path / "bucketing")
    mod.save_checkpoint(ours, 2)
    for suffix in ("-0002.params", ".buckets"):
        with open(ours + suffix, "rb") as a, open(prefix + suffix, "rb") as b:
            assert a.read() == b.read(), suffix
    for key in (3, 5):
        assert _symbol_ops(f"{ours}-{key}-symbol.json") == _symbol_ops(f"{prefix}-{key}-symbol.json")


def test_bucketing_checkpoint_round_trip_after_fit(tmp_path):
    it = bucket_iter(mx, KEYS)
    mod = mx.mod.BucketingModule(bucket_sym_gen(mx), default_bucket_key=it.default)
    init = {k[len("init/"):]: mx.nd.array(GOLD[k]) for k in GOLD.files if k.startswith("init/")}
    mod.fit(it, num_epoch=2, optimizer="sgd",
            optimizer_params={"learning_rate": 0.1, "momentum": 0.9, "wd": 1e-3},
            arg_params=init)
    prefix = str(tmp_path / "b")
    mod.save_checkpoint(prefix, 2)
    loaded = mx.mod.BucketingModule.load(prefix, 2, sym_gen=bucket_sym_gen(mx),
                                         default_bucket_key=it.default)
    loaded.bind(it.provide_data, it.provide_label, for_training=False)
    np.testing.assert_array_equal(loaded.predict(it).asnumpy(), mod.predict(it).asnumpy())
    np.testing.assert_allclose(loaded.predict(it).asnumpy(), GOLD["predict"], **TOL)
    # load_dict: the same from symbols and parameters in memory
    args, auxs = mod.get_params()
    syms = {k: mx.sym.load(f"{prefix}-{k}-symbol.json") for k in (3, 5)}
    again = mx.mod.BucketingModule.load_dict(syms, sym_gen=bucket_sym_gen(mx),
                                             default_bucket_key=it.default,
                                             arg_params=args, aux_params=auxs)
    again.bind(it.provide_data, it.provide_label, for_training=False)
    np.testing.assert_array_equal(again.predict(it).asnumpy(), mod.predict(it).asnumpy())


def test_bucketing_load_errors_name_the_missing_file(tmp_path):
    with pytest.raises(mx.MXNetError, match="nothere.buckets"):
        mx.mod.BucketingModule.load(str(tmp_path / "nothere"), 1, sym_gen=bucket_sym_gen(mx),
                                    default_bucket_key=5)
