"""Golden data: when real MXNet 1.9.1 changes BatchNorm's moving statistics.

Regenerate (from the repository root, with the MXNet venv made by
``tools/mxnet-venv.sh DIR``)::

    DIR/bin/python tests/golden/compat/gluon/gen_mxnet_bn_moving.py

It writes ``mxnet_bn_moving.npz`` next to this file; the programs are in
``bn_moving_cases.py`` and run unchanged by the tests under the shim.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bn_moving_cases  # noqa: E402
import mxnet as mx  # noqa: E402


def main():
    out = {"meta/mxnet_version": np.array(mx.__version__)}
    out.update(bn_moving_cases.run_all(mx))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mxnet_bn_moving.npz")
    np.savez_compressed(path, **out)
    print("wrote", path, len(out), "arrays")


if __name__ == "__main__":
    main()
