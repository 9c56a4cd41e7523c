#!/usr/bin/env bash
# Make a virtual environment holding the real MXNet 1.9.1, for regenerating the reference
# numbers that tests compare against (tests/golden/**/gen_mxnet.py and friends). MXNet needs
# numpy<1.24, so it cannot share an environment with jax: keep it apart, and commit only the
# numbers it produces. The test suite never installs MXNet.
#   usage (from the repository root):  bash tools/mxnet-venv.sh DIR
#   then:                              DIR/bin/python tests/golden/<area>/gen_mxnet.py
set -euo pipefail
dir=${1:?usage: tools/mxnet-venv.sh DIR}
python3 -m venv "$dir"
dir=$(cd "$dir" && pwd)
"$dir/bin/pip" install -q "numpy<1.24" "mxnet==1.9.1"
# import from / so that nothing in the current directory shadows mxnet
(cd / && "$dir/bin/python" -c "import mxnet as mx, numpy as np; print('mxnet', mx.__version__, 'numpy', np.__version__)")
echo "ready: $dir/bin/python"
