"""NDArray semantics of MXNet 1.9.1 (views, indexing shapes, dtypes, contexts, errors).

Run with the MXNet virtual environment built by ``tools/mxnet-venv.sh DIR``, from
the repository root::

    DIR/bin/python tests/golden/compat/ndarray/gen_mxnet_ndarray.py

Runs every ``probe_*`` in ``probes.py`` with real MXNet and writes
``mxnet_ndarray.json`` beside this file.
"""

import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import probes  # noqa: E402


def main():
    import mxnet as mx
    out = {"mxnet": mx.__version__, "probes": {}}
    for name in sorted(n for n in dir(probes) if n.startswith("probe_")):
        try:
            out["probes"][name[len("probe_"):]] = getattr(probes, name)(mx, np)
        except Exception as e:  # noqa: BLE001  (a probe MXNet itself cannot run)
            out["probes"][name[len("probe_"):]] = {"probe_error": type(e).__name__}
    with open(os.path.join(HERE, "mxnet_ndarray.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
