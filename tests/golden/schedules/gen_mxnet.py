"""Generate MXNet 1.9.1 lr_scheduler goldens.

Run from the repository root with the MXNet venv that ``tools/mxnet-venv.sh`` builds::

    bash tools/mxnet-venv.sh ../mxnet-venv     # once: a venv with MXNet 1.9.1, numpy<1.24
    ../mxnet-venv/bin/python tests/golden/schedules/gen_mxnet.py

Writes ``mxnet.json``: for each case a fresh scheduler is called with
``num_update = 0, 1, ..., N-1`` in order (as MXNet's optimizer does, which asks
for 1 on its first update) and every returned lr is recorded.
"""

import json
import logging
import os

import mxnet as mx

HERE = os.path.dirname(os.path.abspath(__file__))
N = 80
logging.disable(logging.CRITICAL)

CASES = [
    ("Factor_stop", "FactorScheduler", dict(step=5, factor=0.7, stop_factor_lr=1e-3, base_lr=0.1)),
    ("Factor_warmup_linear", "FactorScheduler",
     dict(step=3, factor=0.5, base_lr=1.0, warmup_steps=4, warmup_begin_lr=0.2)),
    ("Factor_warmup_constant", "FactorScheduler",
     dict(step=10, factor=0.9, base_lr=0.05, warmup_steps=6, warmup_begin_lr=0.01,
          warmup_mode="constant")),
    ("Factor_one", "FactorScheduler", dict(step=1, factor=0.9, base_lr=0.3)),
    ("MultiFactor", "MultiFactorScheduler", dict(step=[10, 20, 35, 50], factor=0.3, base_lr=0.1)),
    ("MultiFactor_warmup", "MultiFactorScheduler",
     dict(step=[8, 30], factor=0.1, base_lr=0.2, warmup_steps=5, warmup_begin_lr=0.02)),
    ("Poly", "PolyScheduler", dict(max_update=60, base_lr=0.1, pwr=2)),
    ("Poly_warmup_final", "PolyScheduler",
     dict(max_update=50, base_lr=0.1, pwr=1.5, final_lr=0.001, warmup_steps=10,
          warmup_begin_lr=0.01)),
    ("Cosine", "CosineScheduler", dict(max_update=60, base_lr=0.1, final_lr=0.002)),
    ("Cosine_warmup_linear", "CosineScheduler",
     dict(max_update=70, base_lr=0.5, warmup_steps=8)),
    ("Cosine_warmup_constant", "CosineScheduler",
     dict(max_update=40, base_lr=0.05, final_lr=0.001, warmup_steps=5, warmup_begin_lr=0.005,
          warmup_mode="constant")),
]


def main():
    cases = []
    for name, cls, args in CASES:
        sched = getattr(mx.lr_scheduler, cls)(**args)
        lrs = [float(sched(n)) for n in range(N)]
        cases.append({"name": name, "cls": cls, "args": args, "num_update": list(range(N)),
                      "lrs": lrs})
    with open(os.path.join(HERE, "mxnet.json"), "w") as f:
        json.dump({"mxnet": mx.__version__, "cases": cases}, f, indent=1)


if __name__ == "__main__":
    main()
