"""Loading the committed MXNet 1.9.1 golden data (tests/golden/initializers)."""

import json
import os

import numpy as np

GOLDEN_DIR = os.path.join(os.path.dirname(__file__), "..", "golden", "initializers")

with open(os.path.join(GOLDEN_DIR, "mxnet_initializers.json")) as f:
    GOLDEN = json.load(f)


def array(entry):
    """A golden ``{"dtype", "shape", "data"}`` entry as a numpy array of its dtype."""
    return np.asarray(entry["data"], np.float64).astype(entry["dtype"]).reshape(entry["shape"])


def spec_init(spec):
    """``["constant", 2.5]`` / ``["ones"]`` -> the optjax initializer (positional args)."""
    from optjax.initializers import from_mxnet

    if spec[0] == "constant":
        return from_mxnet("constant", value=spec[1])
    return from_mxnet(spec[0])
