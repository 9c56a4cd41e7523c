"""Write notebooks/04_gluon_on_jax.ipynb (run: python tools/make_notebook_04.py).

Generated so the source stays reviewable; tests/test_notebooks.py executes it.
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CELLS = [
    new_markdown_cell(
        "# A gluon training loop on JAX, unchanged — then the same model in plain JAX + optjax\n\n"
        "`optjax.compat.mxnet` runs MXNet 1.9.1 gluon code as written: `autograd.record()`, "
        "`loss.backward()`, `trainer.step(batch_size)`, layers with deferred shapes, "
        "`hybridize()` (one `jax.jit` of the whole forward, recorded as one autograd entry). "
        "A script runs untouched with `python -m optjax.compat.mxnet train.py`; in a notebook, "
        "`runner.install()` makes `import mxnet` resolve to the shim."
    ),
    new_code_cell(
        "from optjax.compat.mxnet import runner\n"
        "runner.install()\n\n"
        "import numpy as np\n"
        "import mxnet as mx\n"
        "from mxnet import gluon, autograd, nd, init\n"
        "from mxnet.gluon import nn\n"
        "print(mx.__name__)"
    ),
    new_markdown_cell(
        "Data: 4 classes from a fixed random linear map; the same arrays feed both loops."
    ),
    new_code_cell(
        "rng = np.random.default_rng(0)\n"
        "X = rng.normal(size=(512, 10)).astype(np.float32)\n"
        "y = (X @ rng.normal(size=(10, 4))).argmax(1).astype(np.float32)\n"
        "batch_size, steps = 32, 60\n"
        "batches = [(X[i % 16 * 32:(i % 16 + 1) * 32], y[i % 16 * 32:(i % 16 + 1) * 32]) for i in range(steps)]"
    ),
    new_markdown_cell("## 1. The classic gluon loop (hybridized MLP, SGD with momentum)"),
    new_code_cell(
        "net = nn.HybridSequential()\n"
        "with net.name_scope():\n"
        "    net.add(nn.Dense(64, activation='relu'), nn.Dense(64, activation='relu'), nn.Dense(4))\n"
        "net.initialize(init.Xavier())\n"
        "net.hybridize()\n"
        "loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()\n"
        "trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.1, 'momentum': 0.9})\n\n"
        "with autograd.pause():\n"
        "    net(nd.array(X[:1]))                       # deferred shapes are known now\n"
        "init_params = {k: p.data().asnumpy() for k, p in net._collect_params_with_prefix().items()}\n\n"
        "gluon_losses = []\n"
        "for xb, yb in batches:\n"
        "    data, label = nd.array(xb), nd.array(yb)\n"
        "    with autograd.record():\n"
        "        loss = loss_fn(net(data), label)\n"
        "    loss.backward()\n"
        "    trainer.step(batch_size)\n"
        "    gluon_losses.append(loss.mean().asscalar())\n"
        "print(sorted(init_params))\n"
        "print('gluon loss: first %.4f, last %.4f' % (gluon_losses[0], gluon_losses[-1]))"
    ),
    new_markdown_cell(
        "## 2. The same model in plain JAX + optjax\n\n"
        "Parameters become a pytree (MXNet's layout: `Dense` weight is `(units, in_units)`), "
        "the forward is a pure function, the loss is the mean of the per-sample losses "
        "(`trainer.step(batch_size)` divides the summed gradient by the batch size), and "
        "MXNet's SGD with momentum is `optjax.sgd(lr, momentum)`. One jitted step."
    ),
    new_code_cell(
        "import jax, jax.numpy as jnp\n"
        "import optjax\n\n"
        "params = {k: jnp.asarray(v) for k, v in init_params.items()}\n\n"
        "def forward(p, x):\n"
        "    h = jax.nn.relu(x @ p['0.weight'].T + p['0.bias'])\n"
        "    h = jax.nn.relu(h @ p['1.weight'].T + p['1.bias'])\n"
        "    return h @ p['2.weight'].T + p['2.bias']\n\n"
        "def loss_of(p, x, y):\n"
        "    logp = jax.nn.log_softmax(forward(p, x))\n"
        "    per_sample = -jnp.take_along_axis(logp, y.astype(jnp.int32)[:, None], axis=1)[:, 0]\n"
        "    return per_sample.mean()\n\n"
        "tx = optjax.sgd(0.1, momentum=0.9)\n"
        "state = tx.init(params)\n\n"
        "@jax.jit\n"
        "def step(p, s, x, y):\n"
        "    loss, g = jax.value_and_grad(loss_of)(p, x, y)\n"
        "    p, s = optjax.update_and_apply(tx, g, s, p)\n"
        "    return p, s, loss\n\n"
        "jax_losses = []\n"
        "for xb, yb in batches:\n"
        "    params, state, loss = step(params, state, xb, yb)\n"
        "    jax_losses.append(float(loss))\n"
        "print('jax   loss: first %.4f, last %.4f' % (jax_losses[0], jax_losses[-1]))"
    ),
    new_markdown_cell("## Side by side: the same numbers"),
    new_code_cell(
        "for i in (0, 1, 10, 30, steps - 1):\n"
        "    print(f'step {i:2d}  gluon {gluon_losses[i]:.6f}  jax+optjax {jax_losses[i]:.6f}')\n"
        "np.testing.assert_allclose(gluon_losses, jax_losses, rtol=1e-4, atol=1e-6)\n"
        "for k, p in net._collect_params_with_prefix().items():\n"
        "    np.testing.assert_allclose(p.data().asnumpy(), np.asarray(params[k]), rtol=1e-4, atol=1e-5)\n"
        "print('parameters agree')"
    ),
    new_markdown_cell(
        "What differs between the shim and MXNet is listed in `docs/mxnet-migration.md` "
        "(random streams are JAX's: `Dropout` masks and random initializers draw different "
        "values from the same distributions)."
    ),
    new_code_cell("runner.uninstall()"),
]


def write(path: Path, cells) -> None:
    nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    path.write_text(nbformat.writes(nb))


if __name__ == "__main__":
    write(Path(__file__).resolve().parents[1] / "notebooks" / "04_gluon_on_jax.ipynb", CELLS)
