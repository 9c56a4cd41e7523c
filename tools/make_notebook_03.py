"""Write notebooks/03_mxnet_migration.ipynb (run: python tools/make_notebook_03.py).

Generated so the source stays reviewable; tests/test_notebooks.py executes it.
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CELLS = [
    new_markdown_cell(
        "# Migrating MXNet 1.9.1 optimizer code to optjax\n\n"
        "`import optjax.compat.mxnet as mx` runs legacy `mx.optimizer` / `mx.lr_scheduler` / "
        "`mx.init` / `mx.gluon.Trainer` code unchanged and gives MXNet's numbers; every update "
        "rule is optjax's functional core (`optjax.compat.mxnet.recipes`).\n\n"
        "The one change: there is no autograd tape. Compute gradients with `jax.grad` and "
        "**write them into the parameter's gradient buffer in place** — `p.grad()[:] = g` "
        "(`grad_req='write'`) or `p.grad()[:] += g` (`grad_req='add'`). The write marks the "
        "gradient fresh, as `backward()` would, so `trainer.step` accepts it."
    ),
    new_code_cell(
        "import jax, jax.numpy as jnp, numpy as np\n"
        "import optjax.compat.mxnet as mx\n"
        "from optjax.compat.mxnet import gluon\n"
        "import optjax.compat.mxnet.gluon.data as data\n"
        "nd = mx.nd"
    ),
    new_markdown_cell("The legacy data code: a custom `Dataset` over an `ArrayDataset`, "
                      "read by a shuffling `DataLoader`."),
    new_code_cell(
        "num_examples, num_inputs, batch_size = 1000, 2, 10\n"
        "X = nd.random_normal(shape=(num_examples, num_inputs))\n"
        "noise = 0.01 * nd.random_normal(shape=(num_examples,))\n"
        "y = 2 * X[:, 0] - 3.4 * X[:, 1] + 4.2 + noise\n"
        "XY = data.ArrayDataset(X, y)\n\n"
        "class MyFileDataset(data.Dataset):\n"
        "    def __getitem__(self, item):\n"
        "        return XY[item]\n"
        "    def __len__(self):\n"
        "        return num_examples\n\n"
        "train_data = gluon.data.DataLoader(XY, batch_size=batch_size, shuffle=True)\n"
        "custom = gluon.data.DataLoader(MyFileDataset(), batch_size=batch_size, shuffle=True)\n"
        "xb, yb = next(iter(custom)); xb.shape, yb.shape"
    ),
    new_markdown_cell("Parameters, `lr_mult`, gradient accumulation with `grad_req='add'`, "
                      "and a Trainer, as legacy MXNet code writes them."),
    new_code_cell(
        "params = gluon.ParameterDict('dense_')\n"
        "weight = params.get('weight', shape=(num_inputs,))\n"
        "bias = params.get('bias', shape=(1,), init=mx.init.Zero())\n"
        "params.initialize(mx.init.Normal(0.01))\n"
        "bias.lr_mult = 2.0\n"
        "for p in params.values():\n"
        "    p.grad_req = 'add'\n"
        "trainer = gluon.Trainer(params, 'sgd', {'learning_rate': 0.1, 'momentum': 0.9, 'wd': 1e-4})\n\n"
        "def loss_fn(w, b, xb, yb):\n"
        "    return 0.5 * jnp.sum((xb @ w + b[0] - yb) ** 2)\n\n"
        "grad_fn = jax.jit(jax.grad(loss_fn, argnums=(0, 1)))"
    ),
    new_markdown_cell("The legacy loop: accumulate two batches, `step(batch_size*2)`, "
                      "`zero_grad()`; decay the learning rate by hand with `set_learning_rate`."),
    new_code_cell(
        "for epoch in range(3):\n"
        "    for i, (xb, yb) in enumerate(train_data):\n"
        "        gw, gb = grad_fn(weight.data().data, bias.data().data, xb.data, yb.data)\n"
        "        weight.grad()[:] += gw          # instead of loss.backward()\n"
        "        bias.grad()[:] += gb\n"
        "        if i % 2 == 1:\n"
        "            trainer.step(batch_size * 2)\n"
        "            params.zero_grad()\n"
        "    trainer.set_learning_rate(trainer.learning_rate * 0.5)\n"
        "print(weight.data().asnumpy(), bias.data().asnumpy())\n"
        "assert np.allclose(weight.data().asnumpy(), [2, -3.4], atol=0.05)\n"
        "assert np.allclose(bias.data().asnumpy(), [4.2], atol=0.05)"
    ),
    new_markdown_cell("Custom optimizers and schedulers register and run as in MXNet "
                      "(names are case-insensitive)."),
    new_code_cell(
        "@mx.optimizer.Optimizer.register\n"
        "class MyOptimizer(mx.optimizer.Optimizer):\n"
        "    def update(self, index, weight, grad, state):\n"
        "        lr = self._get_lr(index)\n"
        "        self._update_count(index)\n"
        "        weight[:] += -lr * grad * self.rescale_grad\n\n"
        "class MyScheduler(mx.lr_scheduler.LRScheduler):\n"
        "    def __call__(self, num_update):\n"
        "        return self.base_lr / (1 + num_update)\n\n"
        "optim = mx.optimizer.Optimizer.create_optimizer('MyOptimizer', lr_scheduler=MyScheduler(0.5))\n"
        "updater = mx.optimizer.get_updater(optim)\n"
        "w = nd.ones((3,))\n"
        "for _ in range(3):\n"
        "    updater(0, nd.ones((3,)), w)   # (index, grad, weight)\n"
        "w"
    ),
    new_markdown_cell(
        "`MultiFactorScheduler` takes ONE factor. Legacy code's list of factors is rejected with a "
        "pointer to optjax's piecewise constant schedule:"),
    new_code_cell(
        "try:\n"
        "    mx.lr_scheduler.MultiFactorScheduler([1, 2, 3], [0.001, 0.003, 0.0003])\n"
        "except TypeError as e:\n"
        "    print(e)\n"
        "import optjax\n"
        "sched = optjax.piecewise_constant_schedule(0.001, {2: 3.0, 3: 0.1})\n"
        "[float(sched(n)) for n in range(5)]"
    ),
    new_markdown_cell("States are saved as `.npz` arrays + JSON (no pickle), so loading runs no code."),
    new_code_cell(
        "import tempfile, os\n"
        "path = os.path.join(tempfile.mkdtemp(), 'trainer.states')\n"
        "trainer.save_states(path)\n"
        "trainer.load_states(path)\n"
        "trainer.learning_rate, trainer.optimizer.num_update"
    ),
]


def main():
    nb = new_notebook(cells=CELLS, metadata={"kernelspec": {"name": "python3",
                                                            "display_name": "Python 3",
                                                            "language": "python"}})
    out = Path(__file__).resolve().parents[1] / "notebooks" / "03_mxnet_migration.ipynb"
    nbformat.write(nb, out)
    print(out)


if __name__ == "__main__":
    main()
