"""Write notebooks/01_quickstart.ipynb from the cells below (run: python tools/make_notebooks.py).

The notebook is generated so its source stays reviewable as plain Python; the
test suite executes it (tests/test_notebooks.py), so it cannot rot.
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

QUICKSTART = [
    new_markdown_cell(
        "# optjax quickstart\n\n"
        "An optimizer is a pure `(init, update)` pair over pytrees. This notebook fits the "
        "classic synthetic regression `y = 2*x0 - 3.4*x1 + 4.2 + noise` with a jitted train step "
        "that clips by global norm, runs AdamW on a warm-up cosine schedule, gives the bias a "
        "larger learning rate (`lr_mult`), and donates params and state."
    ),
    new_code_cell(
        "import jax, jax.numpy as jnp, numpy as np\n"
        "import optjax\n\n"
        "rng = np.random.default_rng(0)\n"
        "X = rng.normal(size=(1000, 2)).astype(np.float32)\n"
        "y = (2 * X[:, 0] - 3.4 * X[:, 1] + 4.2 + 0.01 * rng.normal(size=1000)).astype(np.float32)\n"
        "params = {'dense': {'w': jnp.zeros(2), 'b': jnp.zeros(())}}"
    ),
    new_markdown_cell("Compose the optimizer from small pieces; every piece is a `GradientTransformation`."),
    new_code_cell(
        "steps = 500\n"
        "schedule = optjax.warmup_cosine_decay_schedule(0.0, 0.05, 50, steps)\n"
        "tx = optjax.chain(\n"
        "    optjax.clip_by_global_norm(1.0),\n"
        "    optjax.adamw(schedule, weight_decay=1e-4, weight_decay_mult={'*/b': 0.0}),\n"
        "    optjax.lr_mult({'*/b': 2.0}),          # MXNet's lr_mult, by path pattern\n"
        ")\n"
        "state = tx.init(params)\n\n"
        "def loss_fn(p, xb, yb):\n"
        "    return jnp.mean((xb @ p['dense']['w'] + p['dense']['b'] - yb) ** 2) / 2\n\n"
        "def step(p, s, xb, yb):\n"
        "    loss, g = jax.value_and_grad(loss_fn)(p, xb, yb)\n"
        "    p, s = optjax.update_and_apply(tx, g, s, p)   # = tx.update, then apply_updates\n"
        "    return p, s, loss\n\n"
        "step = jax.jit(step, donate_argnums=(0, 1))   # params and state are updated in place\n\n"
        "for i in range(steps):\n"
        "    idx = rng.integers(0, 1000, size=10)\n"
        "    params, state, loss = step(params, state, X[idx], y[idx])\n"
        "print('loss', float(loss))\n"
        "print('w', params['dense']['w'], 'b', params['dense']['b'])\n"
        "assert abs(float(params['dense']['b']) - 4.2) < 0.05"
    ),
    new_markdown_cell(
        "The state is a readable pytree. With `inject_hyperparams` a hyperparameter lives in it "
        "by name and can be changed between steps without recompiling (MXNet's "
        "`trainer.set_learning_rate`, torch's `group['lr'] = x`)."
    ),
    new_code_cell(
        "tx = optjax.inject_hyperparams(optjax.sgd)(learning_rate=0.1, momentum=0.9)\n"
        "state = tx.init(params)\n"
        "print(optjax.get_hyperparam(state, 'learning_rate'))\n"
        "state = optjax.set_hyperparams(state, learning_rate=0.01)\n"
        "print(optjax.get_hyperparam(state, 'learning_rate'))"
    ),
    new_markdown_cell(
        "Parameter groups (PyTorch's `param_groups`) are `partition`; fixed parameters and "
        "BatchNorm statistics are `freeze`d and hold no optimizer state."
    ),
    new_code_cell(
        "params = {'base': {'w': jnp.ones(3)}, 'head': {'w': jnp.ones(3)},\n"
        "          'bn': {'moving_mean': jnp.zeros(3)}}\n"
        "tx = optjax.freeze({'*moving_*': True}, optjax.partition(\n"
        "    {'base': optjax.sgd(1e-2, momentum=0.9), 'head': optjax.sgd(1e-3, momentum=0.9)},\n"
        "    {'head/*': 'head', '*': 'base'}))\n"
        "state = tx.init(params)\n"
        "grads = {'base': {'w': jnp.ones(3)}, 'head': {'w': jnp.ones(3)}}   # no gradient for BN stats\n"
        "updates, state = tx.update(grads, state, params)\n"
        "params = optjax.apply_updates(params, updates)\n"
        "print(jax.tree.map(lambda x: x.tolist(), params))"
    ),
]


def write(path: Path, cells) -> None:
    nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    path.write_text(nbformat.writes(nb))


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1]
    write(root / "notebooks" / "01_quickstart.ipynb", QUICKSTART)
