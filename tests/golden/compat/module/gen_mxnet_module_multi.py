"""Golden data for ``mx.mod.Module`` on several contexts, from real MXNet 1.9.1.

Regenerate (MXNet's own virtual environment, built by ``tools/mxnet-venv.sh DIR``)::

    DIR/bin/python tests/golden/compat/module/gen_mxnet_module_multi.py tests/golden/compat/module

Writes ``module_multi.npz``. MXNet's data-parallel executor group splits each batch
of 8 over the contexts (``cpu(0)``..``cpu(n-1)``, n = 2 and 4), runs each slice on its
own executor (BatchNorm statistics and ``SoftmaxOutput(normalization='batch')`` per
slice), sums the gradients in the ``local`` kvstore, updates once, and averages the
auxiliary states over the contexts in ``get_params``. Each run starts from the same
``arg_params``/``aux_params``; keys ``n{n}/...``: per-batch outputs and metric (through
a ``batch_end_callback``), parameters after each epoch, and ``predict`` on the inputs.
"""

import os
import sys

import mxnet as mx
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from module_cases import epoch_params, multi_net  # noqa: E402

OPT = {"learning_rate": 0.1, "momentum": 0.9, "wd": 1e-3}


def main(out_dir):
    rng = np.random.RandomState(7)
    X = rng.randn(40, 5).astype("float16").astype("float32")
    Y = rng.randint(0, 4, 40).astype("float32")
    sym = multi_net(mx)
    ref = mx.mod.Module(sym)
    ref.bind(data_shapes=[("data", (8, 5))], label_shapes=[("softmax_label", (8,))])
    ref.init_params(mx.init.Xavier(magnitude=2.0))
    arg, aux = ref.get_params()
    out = {"X": X, "Y": Y}
    out.update({"init/arg:" + k: v.asnumpy() for k, v in arg.items()})
    out.update({"init/aux:" + k: v.asnumpy() for k, v in aux.items()})
    for n in (2, 4):
        mod = mx.mod.Module(sym, context=[mx.cpu(i) for i in range(n)])
        epochs, outs, metric = [], [], []

        def record(p, outs=outs, metric=metric):
            outs.append(p.locals["self"].get_outputs()[0].asnumpy())
            metric.append([v for _, v in p.eval_metric.get_name_value()])

        mod.fit(mx.io.NDArrayIter(X, Y, batch_size=8), num_epoch=2, optimizer="sgd",
                optimizer_params=OPT, eval_metric=["acc", "ce"],
                arg_params={k: v.copy() for k, v in arg.items()},
                aux_params={k: v.copy() for k, v in aux.items()},
                batch_end_callback=record, epoch_end_callback=epoch_params(epochs))
        out[f"n{n}/outputs"] = np.stack(outs)
        out[f"n{n}/metric"] = np.asarray(metric)
        for e, params in enumerate(epochs):
            out.update({f"n{n}/epoch{e}/{k}": v for k, v in params.items()})
        out[f"n{n}/predict"] = mod.predict(mx.io.NDArrayIter(X, Y, batch_size=8)).asnumpy()
    np.savez_compressed(os.path.join(out_dir, "module_multi.npz"), mxnet=mx.__version__, **out)


if __name__ == "__main__":
    main(sys.argv[1])
