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
