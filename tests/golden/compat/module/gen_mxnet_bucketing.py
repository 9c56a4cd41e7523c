"""Golden data for ``mx.mod.BucketingModule`` from real MXNet 1.9.1.

Regenerate (MXNet's own virtual environment, built by ``tools/mxnet-venv.sh DIR``)::

    DIR/bin/python tests/golden/compat/module/gen_mxnet_bucketing.py tests/golden/compat/module

Writes ``bucketing.npz``: a BucketingModule over ``module_cases.bucket_sym_gen`` (bucket
keys 3 and 5, default 5) trained with ``fit`` for 2 epochs on ``bucket_iter`` from given
initial weights (SGD, momentum 0.9): per-batch outputs, parameters after each epoch and
``predict``; and the checkpoint that MXNet's ``BucketingModule.save_checkpoint`` writes after
training (``bucketing-0002.params``, ``bucketing-3-symbol.json``, ``bucketing-5-symbol.json``,
``bucketing.buckets``), with ``load_predict``: the ``predict`` of ``BucketingModule.load`` of it.
"""

import os
import sys

import mxnet as mx
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from module_cases import bucket_iter, bucket_sym_gen, epoch_params  # noqa: E402

KEYS = [5, 3, 3, 5, 3]


def main(out_dir):
    rng = np.random.RandomState(11)
    init = {"emb_weight": rng.randn(10, 4).astype("float32"),
            "fc_weight": rng.randn(3, 4).astype("float32") * 0.5,
            "fc_bias": np.zeros(3, "float32")}
    it = bucket_iter(mx, KEYS)
    mod = mx.mod.BucketingModule(bucket_sym_gen(mx), default_bucket_key=it.default)
    epochs, outs = [], []
    mod.fit(it, num_epoch=2, optimizer="sgd",
            optimizer_params={"learning_rate": 0.1, "momentum": 0.9, "wd": 1e-3},
            arg_params={k: mx.nd.array(v) for k, v in init.items()},
            batch_end_callback=lambda p: outs.append(p.locals["self"].get_outputs()[0].asnumpy()),
            epoch_end_callback=epoch_params(epochs))
    out = {f"init/{k}": v for k, v in init.items()}
    out["outputs"] = np.stack(outs)
    for e, params in enumerate(epochs):
        out.update({f"epoch{e}/{k}": v for k, v in params.items()})
    out["predict"] = mod.predict(it).asnumpy()
    out["buckets"] = np.asarray(sorted(mod._buckets))
    prefix = os.path.join(out_dir, "bucketing")
    mod.save_checkpoint(prefix, 2)
    loaded = mx.mod.BucketingModule.load(prefix, 2, sym_gen=bucket_sym_gen(mx),
                                         default_bucket_key=it.default)
    loaded.bind(it.provide_data, it.provide_label, for_training=False)
    out["load_predict"] = loaded.predict(it).asnumpy()
    np.savez_compressed(os.path.join(out_dir, "bucketing.npz"), mxnet=mx.__version__, **out)


if __name__ == "__main__":
    main(sys.argv[1])
