"""``python -m optjax.compat.mxnet script.py``: an untouched MXNet gluon script runs on the shim."""

import os
import subprocess
import sys
import textwrap

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))

SCRIPT = textwrap.dedent('''
    import sys
    import mxnet as mx
    from mxnet import gluon, autograd, nd, init
    from mxnet.gluon import nn
    import mxnet.ndarray as F2
    from mxnet.gluon.loss import L2Loss

    assert mx.__name__ == "optjax.compat.mxnet" and F2 is nd
    mx.random.seed(1)
    X = nd.random_normal(shape=(100, 2))
    y = 2 * X[:, 0] - 3.4 * X[:, 1] + 4.2
    data = gluon.data.DataLoader(gluon.data.ArrayDataset(X, y), batch_size=10, shuffle=True)
    net = nn.Sequential()
    with net.name_scope():
        net.add(nn.Dense(1))
    net.initialize(init.Normal(sigma=0.01))
    loss = L2Loss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    for epoch in range(int(sys.argv[1])):
        for data_, label in data:
            with autograd.record():
                l = loss(net(data_), label)
            l.backward()
            trainer.step(10)
    print("weight", [round(float(v), 1) for v in net[0].weight.data().asnumpy().ravel()], __name__)
''')


def test_untouched_script_runs_as_main(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(SCRIPT)
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-m", "optjax.compat.mxnet", str(path), "5"],
                       capture_output=True, text=True, cwd=str(tmp_path), env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "weight [2.0, -3.4] __main__" in r.stdout


def test_missing_submodule_is_a_clear_import_error(tmp_path):
    from optjax.compat.mxnet import runner
    runner.install()
    try:
        import pytest
        with pytest.raises(ModuleNotFoundError, match="shim has no 'optjax.compat.mxnet.nope'"):
            import mxnet.nope  # noqa: F401
    finally:
        runner.uninstall()


def test_xla_threads_option_sizes_the_pool_before_jax_starts(tmp_path):
    """``--xla-threads N`` reaches JAX (``PJRT_NPROC``) because importing the shim starts
    no JAX backend; the script runs with its arguments, and a bad count is named."""
    path = tmp_path / "probe.py"
    path.write_text(textwrap.dedent('''
        import os, sys
        from jax._src import xla_bridge
        started = xla_bridge.backends_are_initialized()
        import mxnet as mx
        print("threads", os.environ.get("PJRT_NPROC"), "started-before", started,
              "sum", mx.nd.ones((2, 2)).sum().asscalar(), sys.argv[1:])
    '''))
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("PJRT_NPROC", None)
    run = [sys.executable, "-m", "optjax.compat.mxnet"]
    r = subprocess.run(run + ["--xla-threads", "1", str(path), "a"], capture_output=True,
                       text=True, cwd=str(tmp_path), env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "threads 1 started-before False sum 4.0 ['a']" in r.stdout
    r = subprocess.run(run + ["--xla-threads=0", str(path)], capture_output=True, text=True,
                       cwd=str(tmp_path), env=env, timeout=300)
    assert r.returncode != 0 and "--xla-threads must be a positive integer, got '0'" in r.stderr


def test_set_xla_threads_refuses_once_jax_has_started():
    import jax.numpy as jnp
    import pytest
    from optjax.compat.mxnet import runner
    jnp.ones(1).block_until_ready()
    before = os.environ.get("PJRT_NPROC")
    with pytest.raises(RuntimeError, match="already started"):
        runner.set_xla_threads(1)
    with pytest.raises(ValueError, match="positive integer"):
        runner.set_xla_threads(0)
    assert os.environ.get("PJRT_NPROC") == before
