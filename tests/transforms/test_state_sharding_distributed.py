"""Two processes on the loopback address, 4 simulated CPU devices each, joined by
``jax.distributed``: a data-parallel Adam run with replicated and with
partitioned (ZeRO-1) state gets the single-process numbers (8 devices here).

Each process runs distributed_worker.py; both are killed if they have not
finished within the timeout, so the test always ends by itself.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import jax
import numpy as np
import pytest
from jax.sharding import Mesh

import distributed_worker

TIMEOUT_S = 180
HERE = os.path.dirname(os.path.abspath(__file__))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_two_processes(tmp_path) -> list[dict]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "JAX_PLATFORMS")}
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.dirname(HERE)), env.get("PYTHONPATH", "")])
    outs = [tmp_path / f"process{i}.npz" for i in range(2)]
    procs = [subprocess.Popen([sys.executable, os.path.join(HERE, "distributed_worker.py"), str(port), str(i),
                               str(outs[i])], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
             for i in range(2)]
    logs = []
    try:
        for p in procs:
            out, _ = p.communicate(timeout=TIMEOUT_S)
            logs.append(out.decode(errors="replace")[-3000:])
    except subprocess.TimeoutExpired:
        pytest.fail(f"the 2-process run did not finish within {TIMEOUT_S} s")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for i, p in enumerate(procs):
        assert p.returncode == 0, f"process {i} failed:\n{logs[i] if i < len(logs) else ''}"
    return [dict(np.load(o)) for o in outs]


def test_two_processes_get_the_single_process_numbers(tmp_path):
    results = _run_two_processes(tmp_path)
    reference = distributed_worker.train(Mesh(np.array(jax.devices()[:8]), ("data",)))
    for res in results:
        assert set(res) == set(reference)
        # each process holds 4 of the 8 devices, so 1/8 of the partitioned moments per device
        assert int(res["partitioned/mu_shard_rows"]) == 64 // 8
        for key, ref in reference.items():
            # gloo's all-reduce may add the 8 partial gradients in another order than the
            # in-process one: equal to float32 rounding
            np.testing.assert_allclose(res[key], ref, rtol=1e-5, atol=1e-7, err_msg=key)
        # replicated and partitioned state give the same params, in both settings
        for k in ("w", "v", "b"):
            np.testing.assert_allclose(res[f"partitioned/params/{k}"], res[f"replicated/params/{k}"],
                                       rtol=1e-6, atol=1e-8)
    for key in reference:  # the two processes agree bit for bit
        np.testing.assert_array_equal(results[0][key], results[1][key])
