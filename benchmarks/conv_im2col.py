"""XLA:CPU's convolution against an im2col + one dot formulation, same process, alternating.

    PYTHONPATH=. python benchmarks/conv_im2col.py [--rounds 11]

Per kernel, for LeNet's two convolutions (1 -> 20 channels on 28x28 and 20 -> 50 on 12x12,
5x5 kernels) at batch 128 (Module benchmark) and 64 (gluon benchmark): the forward, the
forward + weight gradient (``fbw``, conv1 in a training step: no gradient for the data) and
the forward + weight and input gradients (``fbxw``, conv2); then a whole LeNet
``value_and_grad`` step in plain JAX with each convolution. Best of ``--rounds`` calls,
the two formulations timed alternately; ratio = im2col / XLA. The im2col formulation
builds the channel-last patch matrix from ``kh * kw`` slices of the input and multiplies
it with the weight reshaped to ``(num_filter, kh * kw * C)`` (autodiff gives the
gradients, the slices transposing to pads). It changes the summation order, so it is not
bit-identical to XLA's convolution.
"""

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

HI = lax.Precision.HIGHEST


def conv_xla(x, w):
    return lax.conv_general_dilated(x, w, (1, 1), [(0, 0), (0, 0)],
                                    dimension_numbers=("NCHW", "OIHW", "NCHW"), precision=HI)


def conv_im2col(x, w):
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    ho, wo = h - kh + 1, wd - kw + 1
    xt = jnp.transpose(x, (0, 2, 3, 1))
    p = jnp.stack([xt[:, a:a + ho, b:b + wo, :] for a in range(kh) for b in range(kw)], axis=3)
    wm = jnp.transpose(w, (0, 2, 3, 1)).reshape(f, -1)
    y = lax.dot_general(p.reshape(n * ho * wo, -1), wm, (((1,), (1,)), ((), ())), precision=HI)
    return jnp.transpose(y.reshape(n, ho, wo, f), (0, 3, 1, 2))


def kernels(conv):
    def loss(x, w, g):
        return jnp.sum(conv(x, w) * g)
    fwd = jax.jit(conv)
    return {"fwd": lambda x, w, g: fwd(x, w),
            "fbw": jax.jit(jax.value_and_grad(loss, argnums=1)),
            "fbxw": jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))}


def lenet_step(conv):
    def pool(x):
        n, c, h, w = x.shape
        return jnp.max(x.reshape(n, c, h // 2, 2, w // 2, 2), axis=(3, 5))

    def loss(p, x, y):
        h = pool(jnp.tanh(conv(x, p["w1"]) + p["b1"][:, None, None]))
        h = pool(jnp.tanh(conv(h, p["w2"]) + p["b2"][:, None, None]))
        o = jnp.tanh(h.reshape(h.shape[0], -1) @ p["f1"].T) @ p["f2"].T
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(o), y[:, None], 1))
    return jax.jit(jax.value_and_grad(loss))


def best_of(fns, args, rounds):
    best = {k: float("inf") for k in fns}
    for k in fns:
        jax.block_until_ready(fns[k](*args))
    for r in range(rounds):
        for k in (list(fns) if r % 2 == 0 else list(fns)[::-1]):
            t = time.perf_counter()
            jax.block_until_ready(fns[k](*args))
            best[k] = min(best[k], time.perf_counter() - t)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=11)
    rounds = ap.parse_args().rounds
    rng = np.random.default_rng(0)
    impls = {"xla": kernels(conv_xla), "im2col": kernels(conv_im2col)}
    print(f"{'kernel':22s} {'what':5s} {'XLA ms':>8s} {'im2col ms':>10s} {'ratio':>6s}")
    for batch in (128, 64):
        for name, xs, ws in (("conv1 1->20 28x28", (batch, 1, 28, 28), (20, 1, 5, 5)),
                             ("conv2 20->50 12x12", (batch, 20, 12, 12), (50, 20, 5, 5))):
            x = jnp.asarray(rng.standard_normal(xs), jnp.float32)
            w = jnp.asarray(rng.standard_normal(ws), jnp.float32)
            g = jnp.asarray(rng.standard_normal(conv_xla(x, w).shape), jnp.float32)
            for what in ("fwd", "fbw", "fbxw"):
                b = best_of({k: v[what] for k, v in impls.items()}, (x, w, g), rounds)
                print(f"{name + f' b{batch}':22s} {what:5s} {b['xla'] * 1e3:8.2f} "
                      f"{b['im2col'] * 1e3:10.2f} {b['im2col'] / b['xla']:6.2f}")
        shapes = dict(w1=(20, 1, 5, 5), b1=(20,), w2=(50, 20, 5, 5), b2=(50,), f1=(500, 800),
                      f2=(10, 500))
        p = {k: jnp.asarray(rng.standard_normal(s) * 0.1, jnp.float32) for k, s in shapes.items()}
        x = jnp.asarray(rng.standard_normal((batch, 1, 28, 28)), jnp.float32)
        y = jnp.asarray(rng.integers(0, 10, batch))
        b = best_of({"xla": lenet_step(conv_xla), "im2col": lenet_step(conv_im2col)},
                    (p, x, y), rounds)
        print(f"{f'LeNet step b{batch}':22s} {'step':5s} {b['xla'] * 1e3:8.2f} "
              f"{b['im2col'] * 1e3:10.2f} {b['im2col'] / b['xla']:6.2f}")


if __name__ == "__main__":
    main()
