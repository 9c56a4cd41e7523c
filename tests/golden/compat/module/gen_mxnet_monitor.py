"""Golden data for ``mx.monitor.Monitor`` on a Module from real MXNet 1.9.1.

Regenerate (MXNet's own virtual environment, built by ``tools/mxnet-venv.sh DIR``)::

    DIR/bin/python tests/golden/compat/module/gen_mxnet_monitor.py tests/golden/compat/module

Writes ``monitor.json``: for 3 training batches of ``module_cases.multi_net`` (SGD) with
``Monitor(2)`` installed (default statistic, sorted, and a pattern for ``fc``), the
``toc()`` lines ``[batch, name, statistic]`` for the names of the symbol's internals and
the backward nodes' outputs (``module_cases.monitor_rows``); the ``fanout`` case runs
``module_cases.fanout_net`` (an output read twice, an add whose gradient MXNet passes
through without a node); ``legacy_names``: the names the monitor callback of an executor
sees for ``module_cases.legacy_monitor_names``.
"""

import json
import os
import sys

import mxnet as mx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from module_cases import MONITOR_CASES, legacy_monitor_names, monitor_rows  # noqa: E402


def main(out_dir):
    out = {"mxnet": mx.__version__}
    for name, kwargs in MONITOR_CASES.items():
        out[name] = monitor_rows(mx, kwargs)
    out["legacy_names"] = legacy_monitor_names(mx)
    with open(os.path.join(out_dir, "monitor.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
