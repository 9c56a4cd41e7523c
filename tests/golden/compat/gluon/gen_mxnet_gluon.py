"""Golden data for the gluon shim from real MXNet 1.9.1: every layer and loss, whole loops.

Regenerate (from the repository root, with the MXNet venv made by
``tools/mxnet-venv.sh DIR``)::

    DIR/bin/python tests/golden/compat/gluon/gen_mxnet_gluon.py

It writes ``mxnet_gluon.npz`` and two parameter files (``lenet_bn.params`` by
``save_parameters``, ``lenet_bn_prefixed.params`` by ``collect_params().save``) next
to this file. The
programs are in ``cases.py`` and run unchanged by the tests under the shim.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases  # noqa: E402
import mxnet as mx  # noqa: E402


def main():
    out = {"meta/mxnet_version": np.array(mx.__version__)}
    for i, name in enumerate(cases.LAYERS):
        rng = np.random.default_rng(i)
        for k, v in cases.run_layer(mx, name, rng).items():
            out[f"layer/{name}/{k}"] = v
    for i, name in enumerate(cases.LOSSES):
        given = cases.make_loss_inputs(name, np.random.default_rng(1000 + i))
        given.update(cases.run_loss(mx, name, given))
        for k, v in given.items():
            out[f"loss/{name}/{k}"] = v
    for name in cases.LOOPS:
        rng = np.random.default_rng(11)
        xs, ys = cases.loop_data(name, rng)
        values, (losses, net) = cases.run_loop(mx, name, xs, ys, rng=rng)
        out[f"loop/{name}/xs"] = xs
        out[f"loop/{name}/ys"] = ys
        out[f"loop/{name}/losses"] = losses
        for k, v in values.items():
            out[f"loop/{name}/init/{k}"] = v
        for k, p in cases.structural_params(net).items():
            out[f"loop/{name}/final/{k}"] = p.data().asnumpy()
        if name == "lenet_bn":  # parameter files as MXNet writes them
            here = os.path.dirname(os.path.abspath(__file__))
            net.save_parameters(os.path.join(here, "lenet_bn.params"))
            net.collect_params().save(os.path.join(here, "lenet_bn_prefixed.params"))
            out["params/lenet_bn/prefix"] = np.array(net.prefix)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mxnet_gluon.npz")
    np.savez_compressed(path, **out)
    print("wrote", path, len(out), "arrays")


if __name__ == "__main__":
    main()
