"""Load the committed goldens and build the optjax schedule each case describes."""

from __future__ import annotations

import json
import os
import re
import sys

import numpy as np

from optjax.schedules import mxnet_lr, torch_lr

GOLDEN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "golden", "schedules")
sys.path.insert(0, GOLDEN)
from lambdas import LAMBDAS  # noqa: E402


def load(name: str) -> dict:
    with open(os.path.join(GOLDEN, name)) as f:
        return json.load(f)


def snake(cls: str) -> str:
    s = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.replace("LR", "Lr")).lower()
    return s


NO_BASE = {"CyclicLR", "OneCycleLR", "SequentialLR", "ChainedScheduler"}


def build_torch(spec: dict, base_lr: float, num_steps: int):
    cls, args = spec["cls"], dict(spec["args"])
    args.pop("cycle_momentum", None)  # momentum is not part of the lr schedule
    if "lr_lambda" in args:
        args["lr_lambda"] = LAMBDAS[args["lr_lambda"]]
    if cls == "MultiplicativeLR":
        args["num_steps"] = num_steps
    if cls in ("SequentialLR", "ChainedScheduler"):
        args["schedulers"] = [build_torch(c, base_lr, num_steps) for c in args["schedulers"]]
    if cls == "ChainedScheduler":
        args["base_lr"] = base_lr
    fn = getattr(torch_lr, snake(cls))
    return fn(**args) if cls in NO_BASE else fn(base_lr, **args)


def build_mxnet(case: dict):
    return getattr(mxnet_lr, snake(case["cls"]))(**case["args"])


def ulps(got, want) -> np.ndarray:
    """Distance in float32 ulps between ``got`` and float32(``want``)."""
    want32 = np.asarray(want, np.float64).astype(np.float32)
    got32 = np.asarray(got, np.float32)
    spacing = np.spacing(np.maximum(np.abs(want32), np.finfo(np.float32).tiny))
    return np.abs(got32.astype(np.float64) - want32.astype(np.float64)) / spacing
