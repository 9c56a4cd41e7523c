"""The main job: ``python -m optjax demo`` and ``optjax list``."""

import os
import subprocess
import sys

import pytest

from optjax import cli


def test_demo_recovers_the_regression(capsys, tmp_path):
    cli.main(["demo", "--steps", "300", "--no-progress", "--schedule", "constant", "--no-compilation-cache"])
    out = capsys.readouterr().out
    w_line = next(line for line in out.splitlines() if line.strip().startswith("weights"))
    w = [float(v) for v in w_line.split("[")[1].split("]")[0].split(",")]
    assert abs(w[0] - 2.0) < 0.02 and abs(w[1] + 3.4) < 0.02
    b = float(next(line for line in out.splitlines() if line.strip().startswith("bias")).split()[1])
    assert abs(b - 4.2) < 0.02
    assert "accuracy" in out


def test_demo_unknown_optimizer_lists_names():
    with pytest.raises(SystemExit, match="unknown optimizer 'nope'.*adam"):
        cli.main(["demo", "--optimizer", "nope", "--steps", "5", "--no-progress", "--schedule", "constant",
                  "--no-compilation-cache"])


def test_list(capsys):
    cli.main(["list"])
    out = capsys.readouterr().out
    assert "optimizers" in out and "sgd" in out and "adamw" in out


def test_demo_fills_and_reuses_the_persistent_compilation_cache(tmp_path):
    # A separate process, so this test process keeps its in-memory-only compiles.
    cache = tmp_path / "cache"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "optjax", "demo", "--steps", "5", "--no-progress", "--schedule", "constant",
           "--compilation-cache", str(cache)]
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    first = sorted(os.listdir(cache))
    assert first, "the demo wrote nothing to its compilation cache"
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    assert sorted(os.listdir(cache)) == first, "the second run compiled programs the first one had cached"
