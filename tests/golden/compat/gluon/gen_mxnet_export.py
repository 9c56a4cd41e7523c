"""Golden data for export/import between real MXNet 1.9.1 and the shim.

Regenerate (from the repository root, with the MXNet venv made by
``tools/mxnet-venv.sh DIR``), after ``gen_shim_export.py``::

    DIR/bin/python tests/golden/compat/gluon/gen_mxnet_export.py

For each model of ``export_cases.py`` it writes ``mxnet_export/<name>-symbol.json`` and
``<name>-0000.params`` (real MXNet's ``export``) and ``mxnet_export.npz`` with the
inputs, real MXNet's outputs of its own model, of its ``SymbolBlock.imports`` of its
export, and of its ``SymbolBlock.imports`` of the shim's export (``shim_export/``).
"""

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import export_cases  # noqa: E402
import mxnet as mx  # noqa: E402


def main():
    out_dir = os.path.join(HERE, "mxnet_export")
    os.makedirs(out_dir, exist_ok=True)
    data = {"meta/mxnet_version": np.array(mx.__version__)}
    for name in export_cases.NAMES:
        net, inputs = export_cases.build(mx, name)
        names = export_cases.input_names(inputs)
        for i, x in enumerate(inputs):
            data[f"{name}/input/{i}"] = x
        for i, y in enumerate(export_cases.predict(mx, net, inputs)):
            data[f"{name}/output/{i}"] = y
        prefix = os.path.join(out_dir, name)
        net.export(prefix)
        block = mx.gluon.SymbolBlock.imports(prefix + "-symbol.json", names,
                                             prefix + "-0000.params")
        for i, y in enumerate(export_cases.predict(mx, block, inputs)):
            data[f"{name}/mxnet_import/{i}"] = y
        shim = os.path.join(HERE, "shim_export", name)
        block = mx.gluon.SymbolBlock.imports(shim + "-symbol.json", names,
                                             shim + "-0000.params")
        for i, y in enumerate(export_cases.predict(mx, block, inputs)):
            data[f"{name}/mxnet_loads_shim_export/{i}"] = y
        mod = mx.mod.Module(mx.sym.load(shim + "-symbol.json"), data_names=names,
                            label_names=None)
        mod.bind([(n, x.shape) for n, x in zip(names, inputs)], for_training=False)
        _, arg, aux = mx.model.load_checkpoint(shim, 0)
        mod.set_params(arg, aux)
        mod.forward(mx.io.DataBatch([mx.nd.array(x) for x in inputs]), is_train=False)
        for i, y in enumerate(mod.get_outputs()):
            data[f"{name}/mxnet_module_loads_shim_export/{i}"] = y.asnumpy()
    path = os.path.join(HERE, "mxnet_export.npz")
    np.savez_compressed(path, **data)
    print("wrote", path, len(data), "arrays")


if __name__ == "__main__":
    main()
