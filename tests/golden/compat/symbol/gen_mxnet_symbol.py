"""Golden data for ``mx.sym`` from real MXNet 1.9.1: names, attributes, inferred shapes
and the symbol JSON of a few graphs built by ``symbol_cases.py`` (shared with the tests).

Regenerate (MXNet's own virtual environment, built by ``tools/mxnet-venv.sh DIR``)::

    DIR/bin/python tests/golden/compat/symbol/gen_mxnet_symbol.py tests/golden/compat/symbol
"""

import json
import os
import sys

import mxnet as mx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from symbol_cases import CASES  # noqa: E402


def describe(mx, build):
    sym, shapes = build(mx)
    arg, out, aux = sym.infer_shape(**shapes) if shapes else (None, None, None)
    return {
        "arguments": sym.list_arguments(), "outputs": sym.list_outputs(),
        "aux": sym.list_auxiliary_states(), "inputs": sym.list_inputs(),
        "attr_dict": sym.attr_dict(), "internals": sym.get_internals().list_outputs(),
        "infer_shape": [arg and [list(s) for s in arg], out and [list(s) for s in out],
                        aux and [list(s) for s in aux]],
        "json": json.loads(sym.tojson()),
    }


def main(out_dir):
    result = {"mxnet": mx.__version__}
    for name, build in CASES.items():
        with mx.name.NameManager():
            result[name] = describe(mx, build)
    with mx.name.NameManager():
        sym, _ = CASES["creation"](mx)
    result["creation_values"] = [o.asnumpy().tolist()
                                 for o in sym.eval(x=mx.nd.array([[1, 2, 3], [4, 5, 6]]))]
    with open(os.path.join(out_dir, "symbol_golden.json"), "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
