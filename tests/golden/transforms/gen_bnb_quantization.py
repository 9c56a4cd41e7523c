"""Golden data for optjax's 8-bit state: bitsandbytes' dynamic maps and blockwise quantization.

Run with a Python that has torch and ``bitsandbytes==0.50.2`` (its CPU build
suffices), from the repository root::

    python -m pip install torch bitsandbytes==0.50.2
    python tests/golden/transforms/gen_bnb_quantization.py

Writes ``bnb_quantization.npz`` beside this file:

* ``map_signed``, ``map_unsigned``: ``create_dynamic_map(signed=...)``;
* for ``signed`` and ``unsigned`` data (normal values spread over six decades,
  and their squares): ``x_*`` (float32, 24 blocks of 256), and bitsandbytes'
  ``quantize_blockwise(x, code=map, blocksize=256)`` per-block ``absmax_*``
  and codes (uint8) from its two CPU paths, which differ: ``codes_*`` from the
  native float32 kernel, ``nearest_codes_*`` from the generic path it takes for
  float64 input (``torch.ops.bitsandbytes.quantize_blockwise``: ``argmin |x / absmax - code|``,
  the nearest code).
"""

import os

import bitsandbytes
import bitsandbytes.functional as F
import numpy as np
import torch

BLOCK = 256
BLOCKS = 24


def data(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(BLOCKS, BLOCK)) * 10.0 ** rng.uniform(-6, 0, size=(BLOCKS, BLOCK))
    x *= 10.0 ** rng.uniform(-3, 3, size=(BLOCKS, 1))  # a different scale per block
    return x.astype(np.float32).reshape(-1)


def main():
    out = {"bitsandbytes_version": np.array(bitsandbytes.__version__)}
    for name, signed in (("signed", True), ("unsigned", False)):
        code = F.create_dynamic_map(signed=signed)
        x = data(0)
        if not signed:
            x = (x * x).astype(np.float32)
        q, state = F.quantize_blockwise(torch.from_numpy(x), code=code, blocksize=BLOCK)
        out[f"map_{name}"] = code.numpy().astype(np.float32)
        out[f"x_{name}"] = x
        out[f"codes_{name}"] = q.numpy().astype(np.uint8)
        # functional.quantize_blockwise refuses float64; its CPU kernel takes the generic path for it
        q64, absmax64 = torch.ops.bitsandbytes.quantize_blockwise(torch.from_numpy(x.astype(np.float64)), code, BLOCK)
        assert np.allclose(absmax64.numpy(), state.absmax.numpy(), rtol=1e-7, atol=0)
        out[f"nearest_codes_{name}"] = q64.numpy().astype(np.uint8)
        out[f"absmax_{name}"] = state.absmax.numpy().astype(np.float32)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bnb_quantization.npz")
    np.savez_compressed(path, **out)
    print("wrote", path)


if __name__ == "__main__":
    main()
