"""``mx.mod.BucketingModule`` against real MXNet 1.9.1
(tests/golden/compat/module/gen_mxnet_bucketing.py)."""

import os

import numpy as np
import pytest

import optjax.compat.mxnet as mx
from tests.golden.compat.module.module_cases import bucket_iter, bucket_sym_gen, epoch_params

GOLD = np.load(os.path.join(os.path.dirname(__file__), "..", "..", "golden", "compat", "module",
                            "bucketing.npz"))
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
