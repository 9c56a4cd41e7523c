"""Models exported by the shim's ``HybridBlock.export``, for real MXNet to load.

Regenerate (from the repository root, with the project's environment), then run
``gen_mxnet_export.py`` with the MXNet venv (it loads these files)::

    python tests/golden/compat/gluon/gen_shim_export.py

It writes ``shim_export/<name>-symbol.json`` and ``shim_export/<name>-0000.params``
next to this file for each model of ``export_cases.py``.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", ".."))
import export_cases  # noqa: E402
import optjax.compat.mxnet as mx  # noqa: E402


def main():
    out = os.path.join(HERE, "shim_export")
    os.makedirs(out, exist_ok=True)
    for name in export_cases.NAMES:
        net, _ = export_cases.build(mx, name)
        print(net.export(os.path.join(out, name)))


if __name__ == "__main__":
    main()
