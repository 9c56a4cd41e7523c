"""One process of the 2-process test (test_state_sharding_distributed.py), and the
data-parallel training it runs, shared with the single-process reference.

Run as ``python distributed_worker.py PORT PROCESS_ID OUT.npz``: the process
joins a 2-process ``jax.distributed`` job on 127.0.0.1:PORT with 4 CPU devices
of its own, trains with replicated and with partitioned (ZeRO-1) Adam state on
the 8 devices of both, and writes the final params and state to OUT.npz.
"""

from __future__ import annotations

import os
import sys

STEPS = 3


def train(mesh) -> dict:
    """Final params (and partitioned state) of a data-parallel run on ``mesh``.

    The params are replicated and the batch split over the ``data`` axis; the
    arrays are built with ``make_array_from_callback``, so the same code serves
    one process (all devices local) and many (each process builds its shards).
    """
    import jax
    import jax.numpy as jnp
    import numpy as np
    from jax.experimental import multihost_utils
    from jax.sharding import NamedSharding, PartitionSpec as P

    import optjax

    rep, batch = NamedSharding(mesh, P()), NamedSharding(mesh, P("data"))
    rng = np.random.default_rng(0)
    host = {"w": rng.normal(size=(64, 32)).astype(np.float32) * 0.2,
            "v": rng.normal(size=(32, 16)).astype(np.float32) * 0.2,
            "b": np.zeros(16, np.float32)}
    xs = rng.normal(size=(STEPS, 32, 64)).astype(np.float32)

    def global_array(a, sharding):
        return jax.make_array_from_callback(a.shape, sharding, lambda idx: a[idx])

    def loss(p, x):
        return jnp.mean((jnp.tanh(x @ p["w"]) @ p["v"] + p["b"]) ** 2)

    out = {}
    for name, tx in (("replicated", optjax.adam(1e-2)),
                     ("partitioned", optjax.partition_state(optjax.adam(1e-2), mesh, "data"))):
        step = jax.jit(lambda p, s, x, tx=tx: optjax.update_and_apply(tx, jax.grad(loss)(p, x), s, p),
                       out_shardings=(rep, None))
        params = {k: global_array(v, rep) for k, v in host.items()}
        state = jax.jit(tx.init)(params)
        for i in range(STEPS):
            params, state = step(params, state, global_array(xs[i], batch))
        for k, v in params.items():
            out[f"{name}/params/{k}"] = np.asarray(v.addressable_data(0))
        if name == "partitioned":
            mu = state[0].mu["w"]
            out["partitioned/mu_shard_rows"] = np.array(mu.addressable_data(0).shape[0])
            out["partitioned/mu"] = np.asarray(multihost_utils.process_allgather(mu, tiled=True))
    return out


def main(port: int, process_id: int, path: str) -> None:
    import jax
    import numpy as np
    from jax.sharding import Mesh

    jax.distributed.initialize(coordinator_address=f"127.0.0.1:{port}", num_processes=2,
                               process_id=process_id, initialization_timeout=60,
                               shutdown_timeout_seconds=30)
    try:
        assert jax.process_count() == 2 and len(jax.local_devices()) == 4 and len(jax.devices()) == 8
        mesh = Mesh(np.array(jax.devices()), ("data",))
        np.savez(path, **train(mesh))
    finally:
        jax.distributed.shutdown()


if __name__ == "__main__":
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
    os.environ["JAX_PLATFORMS"] = "cpu"
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
