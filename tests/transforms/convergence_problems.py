"""Training problems for comparing a transform's convergence with a reference run
(used by test_quantized_state.py and test_low_precision.py, and by benchmarks/scale.py).

* ``regression``: the demo's (``optjax demo``) synthetic regression,
  y = 2 x0 - 3.4 x1 + 4.2 + noise over 1000 examples, mini-batches of 10;
* ``classifier``: the demo's MLP 2-32-3 on three noisy clusters of 1200 points;
* ``digits``: an MLP 64-128-10 on scikit-learn's bundled digits data set
  (``sklearn.datasets.load_digits``, 1797 images of 8x8 pixels, no download).

Each problem gives initial params, a loss ``loss(params, x, y)``, the batches of
every step (drawn once, so every run sees the same ones) and the full data set
for the final loss. :func:`train` runs the steps in one ``lax.scan``.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

import optjax


class Problem(NamedTuple):
    params: Any
    loss: Callable
    batches: tuple[np.ndarray, np.ndarray]  # (steps, batch, ...) inputs and targets
    data: tuple[np.ndarray, np.ndarray]  # the whole training set


def regression(steps: int = 600, batch_size: int = 10, seed: int = 0) -> Problem:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(1000, 2)).astype(np.float32)
    y = (2 * x[:, 0] - 3.4 * x[:, 1] + 4.2 + 0.01 * rng.normal(size=1000)).astype(np.float32)
    order = rng.permutation(1000)
    idx = np.stack([order[(i * batch_size) % 1000:][:batch_size] for i in range(steps)])

    def loss(p, xb, yb):
        return jnp.mean((xb @ p["w"] + p["b"] - yb) ** 2) / 2

    return Problem({"w": jnp.zeros(2), "b": jnp.zeros(())}, loss, (x[idx], y[idx]), (x, y))


def _mlp_loss(p, xb, yb):
    h = jnp.tanh(xb @ p["hidden"]["w"] + p["hidden"]["b"])
    logits = h @ p["out"]["w"] + p["out"]["b"]
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), yb[:, None], 1))


def _mlp_params(key: jax.Array, sizes: tuple[int, int, int], scale: tuple[float, float]) -> dict:
    k1, k2 = jax.random.split(key)
    return {
        "hidden": {"w": jax.random.normal(k1, sizes[:2]) * scale[0], "b": jnp.zeros(sizes[1])},
        "out": {"w": jax.random.normal(k2, sizes[1:]) * scale[1], "b": jnp.zeros(sizes[2])},
    }


def classifier(steps: int = 600, batch_size: int = 64, seed: int = 0) -> Problem:
    rng = np.random.default_rng(seed + 1)
    n = 1200
    labels = rng.integers(0, 3, size=n)
    angles = labels * 2 * np.pi / 3 + rng.normal(scale=0.3, size=n)
    radius = 1.0 + rng.normal(scale=0.1, size=n)
    x = np.stack([radius * np.cos(angles), radius * np.sin(angles)], 1).astype(np.float32)
    idx = rng.integers(0, n, size=(steps, batch_size))
    params = _mlp_params(jax.random.PRNGKey(seed), (2, 32, 3), (0.5, 0.5))
    return Problem(params, _mlp_loss, (x[idx], labels[idx]), (x, labels))


def digits(steps: int = 500, batch_size: int = 64, seed: int = 0) -> Problem:
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.data / 16.0).astype(np.float32)
    labels = data.target.astype(np.int32)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(x), size=(steps, batch_size))
    params = _mlp_params(jax.random.PRNGKey(seed), (64, 128, 10), (64 ** -0.5, 128 ** -0.5))
    return Problem(params, _mlp_loss, (x[idx], labels[idx]), (x, labels))


def train(tx: optjax.GradientTransformation, problem: Problem, params: Any = None) -> tuple[np.ndarray, float, Any]:
    """``(loss of each step's batch, final loss on the whole set, final params)``."""
    params = problem.params if params is None else params
    xs, ys = (jnp.asarray(a) for a in problem.batches)

    def body(carry, batch):
        p, s = carry
        loss, grads = jax.value_and_grad(problem.loss)(p, *batch)
        p, s = optjax.update_and_apply(tx, grads, s, p)
        return (p, s), loss

    @jax.jit
    def run(p):
        (p, _), losses = jax.lax.scan(body, (p, tx.init(p)), (xs, ys))
        return losses, problem.loss(p, *(jnp.asarray(a) for a in problem.data)), p

    losses, final, p = run(params)
    return np.asarray(losses), float(final), p
