"""8-bit optimizer state (quantized_state): the code books and codes against
bitsandbytes (golden data), unbiased stochastic rounding, which leaves are
quantized, bytes per parameter, convergence against float32 state, composition
with the other wrappers and with partition_state, and bad input."""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

import optjax
from optjax.transforms.state_quantization import QuantizedArray, QuantizedState, dynamic_code_book, quantize_blockwise

import convergence_problems as cp

GOLDEN = os.path.join(os.path.dirname(__file__), "..", "golden", "transforms", "bnb_quantization.npz")


def _book_index(q: QuantizedArray) -> np.ndarray:
    return np.asarray(q.codes).astype(np.int32) + (128 if q.signed else 0)


@pytest.mark.parametrize("name,signed", [("signed", True), ("unsigned", False)])
def test_code_books_are_bitsandbytes_dynamic_maps(name, signed):
    g = np.load(GOLDEN)
    book = dynamic_code_book(signed)
    assert book.shape == (256,) and np.all(np.diff(book) > 0)
    # bitsandbytes builds its map with float32 linspace, optjax in float64: last-bit differences
    np.testing.assert_allclose(book, g[f"map_{name}"], rtol=1e-6, atol=0)


@pytest.mark.parametrize("name,signed", [("signed", True), ("unsigned", False)])
def test_nearest_codes_equal_bitsandbytes_nearest_codes(name, signed):
    g = np.load(GOLDEN)
    x = g[f"x_{name}"]
    q = quantize_blockwise(jnp.asarray(x), 256, signed=signed)
    scales = np.asarray(q.scales)
    np.testing.assert_array_equal(np.abs(scales), g[f"absmax_{name}"])
    blocks = len(scales)
    codes = _book_index(q).reshape(blocks, 256)
    near = g[f"nearest_codes_{name}"].astype(np.int32).reshape(blocks, 256)
    positive = scales > 0  # optjax's scale carries the sign of the block's largest element
    assert positive.sum() >= blocks // 3
    np.testing.assert_array_equal(codes[positive], near[positive])
    # blocks led by a negative element: the leader is exact, the rest within half a code gap
    deq = np.asarray(q.dequantize()).reshape(blocks, 256)
    xs = x.reshape(blocks, 256)
    lead = np.argmax(np.abs(xs), axis=1)
    np.testing.assert_array_equal(deq[np.arange(blocks), lead], xs[np.arange(blocks), lead])
    half_gap = np.max(np.diff(dynamic_code_book(signed))) / 2
    assert np.all(np.abs(deq - xs) <= half_gap * np.abs(scales)[:, None] * (1 + 1e-6))


def test_stochastic_rounding_is_unbiased_between_neighbouring_codes():
    x = jnp.asarray(np.random.default_rng(0).normal(size=512).astype(np.float32))
    x = x.at[0].set(4.0)  # block leaders, stored exactly
    x = x.at[256].set(-4.0)
    seeds = jnp.arange(4000, dtype=jnp.uint32)
    deq = jax.jit(jax.vmap(lambda s: quantize_blockwise(x, 256, signed=True, seed=s).dequantize()))(seeds)
    deq = np.asarray(deq)
    near = np.asarray(quantize_blockwise(x, 256).dequantize())
    xs = np.asarray(x)
    below, above = np.empty_like(xs), np.empty_like(xs)
    for block, scale in ((slice(0, 256), 4.0), (slice(256, 512), -4.0)):
        book = np.sort(dynamic_code_book(True) * np.float32(scale))  # the values this block can hold
        below[block] = book[np.searchsorted(book, xs[block], side="right") - 1]
        above[block] = book[np.minimum(np.searchsorted(book, xs[block], side="left"), 255)]
    near_to = lambda a, b: np.isclose(a, b, rtol=1e-6, atol=0)  # noqa: E731 (fused a + b*o may differ in the last bit)
    assert np.all(near_to(deq, below) | near_to(deq, above))  # only the two neighbours
    assert np.all(deq[:, [0, 256]] == xs[[0, 256]])
    sd = (above - below) / 2 / np.sqrt(len(seeds))
    assert np.all(np.abs(deq.mean(0) - xs) <= 5 * sd + 1e-7)  # unbiased
    # rounding to nearest is biased for values off a code's centre
    assert np.mean(np.abs(deq.mean(0) - xs)) < 0.2 * np.mean(np.abs(near - xs))


@pytest.mark.parametrize("shape,block", [((5, 77), 64), ((3,), 256), ((4096,), 1), ((2, 300), 128)])
def test_blocks_padding_and_shapes(shape, block):
    x = jax.random.normal(jax.random.PRNGKey(1), shape)
    q = quantize_blockwise(x, block)
    size = int(np.prod(shape))
    assert q.codes.shape == shape and q.scales.shape == (-(-size // block),)
    err = np.abs(np.asarray(q.dequantize()) - np.asarray(x))
    assert err.max() <= 0.0071 * float(jnp.max(jnp.abs(x)))


def _tree():
    k = jax.random.split(jax.random.PRNGKey(0), 2)
    return {"w1": jax.random.normal(k[0], (256, 512)), "b1": jnp.zeros(512),
            "w2": jax.random.normal(k[1], (512, 256)), "b2": jnp.zeros(256)}


def _bytes(tree) -> int:
    return sum(x.size * x.dtype.itemsize for x in jax.tree.leaves(tree))


def test_adam_state_bytes_per_parameter():
    params = _tree()
    n = sum(x.size for x in jax.tree.leaves(params))
    f32 = _bytes(optjax.adam(1e-3).init(params)) / n
    q8 = _bytes(optjax.quantized_state(optjax.adam(1e-3)).init(params)) / n
    assert f32 == pytest.approx(8.0, abs=1e-4)
    assert q8 <= 2.1, q8
    big = 2 * 256 * 512
    # int8 + uint8 codes, two float32 scales per 256, float32 moments of the biases, two int32 counts
    assert q8 * n == 2 * big + 8 * big / 256 + 8 * 768 + 8


@pytest.mark.parametrize("factory,fields", [
    (lambda: optjax.adam(1e-3), {"mu": "int8", "nu": "uint8"}),
    (lambda: optjax.adamw(1e-3), {"mu": "int8", "nu": "uint8"}),
    (lambda: optjax.lion(1e-4), {"mu": "int8"}),
    (lambda: optjax.sgd(1e-2, momentum=0.9), {"trace": "int8"}),
    (lambda: optjax.rmsprop(1e-3, centered=True), {"mu": "int8", "nu": "uint8"}),
    (lambda: optjax.rmsprop(1e-3, momentum=0.9), {"nu": "uint8", "trace": "int8"}),
])
def test_which_leaves_are_quantized(factory, fields):
    params = _tree()
    state = optjax.quantized_state(factory()).init(params)
    seen = {}

    def visit(node):
        if isinstance(node, QuantizedArray):
            return
        for f, v in (zip(node._fields, node) if hasattr(node, "_fields") else enumerate(node)
                     if isinstance(node, (tuple, list)) else node.items() if isinstance(node, dict) else ()):
            if isinstance(v, dict) and set(v) == set(params):
                assert not isinstance(v["b1"], QuantizedArray)  # 1-D: stays float32
                if isinstance(v["w1"], QuantizedArray):
                    seen[f] = v["w1"].codes.dtype.name
            else:
                visit(v)

    visit(state)
    assert seen == fields


def test_threshold_exclude_and_nested_wrappers():
    params = _tree()
    tx = optjax.quantized_state(
        optjax.partition({"a": optjax.inject_hyperparams(optjax.adam)(learning_rate=1e-3),
                          "b": optjax.sgd(1e-2, momentum=0.9)}, {"w1": "a", "b1": "a", "*": "b"}),
        min_size=0, min_ndim=1, exclude=["b2"])
    s = tx.init(params).inner_state.inner_states
    adam_state = next(x for x in jax.tree.leaves(s["a"], is_leaf=lambda x: isinstance(x, optjax.ScaleByAdamState))
                      if isinstance(x, optjax.ScaleByAdamState))
    assert isinstance(adam_state.mu["w1"], QuantizedArray) and isinstance(adam_state.nu["b1"], QuantizedArray)
    assert isinstance(s["b"].inner_state[0].trace["w2"], QuantizedArray)
    assert s["b"].inner_state[0].trace["b2"].dtype == jnp.float32  # excluded
    small = optjax.quantized_state(optjax.adam(1e-3), min_size=512 * 256 + 1).init(params)
    assert not any(isinstance(x, QuantizedArray) for x in jax.tree.leaves(
        small, is_leaf=lambda x: isinstance(x, QuantizedArray)))


def _wc(lr, steps):
    return optjax.warmup_cosine_decay_schedule(0.0, lr, max(1, steps // 10), steps)


# The demo's problems and optimizer (adam, warmup-cosine 0.05, 600 steps), the
# digits MLP for the five optimizers of the issue. All state leaves are 8-bit
# (min_size=0, min_ndim=0), so the tiny demo models are quantized too.
CASES = [
    ("regression", "adam", lambda s: optjax.adam(_wc(0.05, s)), 600),
    ("classifier", "adam", lambda s: optjax.adam(_wc(0.05, s)), 600),
    ("digits", "adam", lambda s: optjax.adam(_wc(3e-3, s)), 500),
    ("digits", "adamw", lambda s: optjax.adamw(_wc(3e-3, s), weight_decay=1e-2), 500),
    ("digits", "lion", lambda s: optjax.lion(_wc(1e-3, s), weight_decay=0.0), 500),
    ("digits", "sgd momentum", lambda s: optjax.sgd(_wc(3e-2, s), momentum=0.9), 500),
    ("digits", "rmsprop", lambda s: optjax.rmsprop(_wc(6e-4, s)), 500),
]


def _problem(name, steps):
    if name == "digits":
        pytest.importorskip("sklearn", reason="the digits problem needs scikit-learn (the test extra)")
    return getattr(cp, name)(steps)


@pytest.mark.parametrize("problem,opt,factory,steps", CASES, ids=[f"{p}-{o}" for p, o, _, _ in CASES])
def test_convergence_within_one_percent_of_float32_state(problem, opt, factory, steps):
    prob = _problem(problem, steps)
    _, f32, _ = cp.train(factory(steps), prob)
    curve, q8, _ = cp.train(optjax.quantized_state(factory(steps), min_size=0, min_ndim=0), prob)
    assert np.all(np.isfinite(curve))
    assert abs(q8 - f32) <= 0.01 * f32, (q8, f32)


def test_rounding_to_nearest_drifts_where_stochastic_does_not():
    # Adam's second moment freezes once 0.001 g**2 is below half a code gap (module docstring)
    prob = _problem("digits", 500)
    _, f32, _ = cp.train(optjax.adam(_wc(3e-3, 500)), prob)
    _, nearest, _ = cp.train(optjax.quantized_state(optjax.adam(_wc(3e-3, 500)), min_size=0, stochastic=False), prob)
    assert abs(nearest - f32) > 0.02 * f32, (nearest, f32)


def test_composes_with_wrappers_and_checkpoints_as_a_pytree(tmp_path):
    params = _tree()
    grads = jax.tree.map(lambda x: 0.1 * jnp.cos(x), params)
    tx = optjax.apply_if_finite(optjax.MultiSteps(optjax.quantized_state(
        optjax.inject_hyperparams(optjax.adamw)(learning_rate=1e-3)), 2).gradient_transformation(), 3)
    step = jax.jit(lambda p, s, g: optjax.update_and_apply(tx, g, s, p))
    state = tx.init(params)
    p = params
    for _ in range(2):
        p, state = step(p, state, grads)
    assert float(jnp.max(jnp.abs(p["w1"] - params["w1"]))) > 0
    state = optjax.set_hyperparams(state, learning_rate=5e-4)
    assert float(optjax.get_hyperparam(state, "learning_rate")) == pytest.approx(5e-4)
    # save and restore as plain arrays, then continue: same numbers as without the round trip
    leaves, treedef = jax.tree.flatten(state)
    np.savez(tmp_path / "ckpt.npz", *[np.asarray(x) for x in leaves])
    with np.load(tmp_path / "ckpt.npz") as f:
        restored = treedef.unflatten([jnp.asarray(f[f"arr_{i}"]) for i in range(len(leaves))])
    p1, s1 = step(p, state, grads)
    p2, s2 = step(p, restored, grads)
    for a, b in zip(jax.tree.leaves((p1, s1)), jax.tree.leaves((p2, s2))):
        np.testing.assert_array_equal(a, b)
    # a non-finite gradient leaves params and the 8-bit state as they were
    bad = jax.tree.map(lambda g: g.at[0].set(jnp.nan), grads)
    p3, s3 = step(p1, s1, bad)
    for a, b in zip(jax.tree.leaves((p1, s1.inner_state)), jax.tree.leaves((p3, s3.inner_state))):
        np.testing.assert_array_equal(a, b)


def test_sharded_like_params_and_partitioned_over_devices():
    mesh = Mesh(np.array(jax.devices()[:8]), ("data",))
    params = _tree()
    grads = jax.tree.map(lambda x: 0.1 * jnp.cos(x), params)
    tx = optjax.quantized_state(optjax.adam(1e-3))
    # FSDP-style: params sharded, state follows (also under jit(init))
    row = NamedSharding(mesh, P("data"))
    sharded = jax.device_put(params, row)
    state = jax.jit(tx.init)(sharded)
    codes = state.inner_state[0].mu["w1"].codes
    assert codes.sharding.is_equivalent_to(row, 2)
    # ZeRO-1: params replicated, the 8-bit state split over the axis; numbers unchanged
    rep = jax.device_put(params, NamedSharding(mesh, P()))
    ztx = optjax.partition_state(tx, mesh, "data")
    zstate = ztx.init(rep)
    mu = zstate.inner_state[0].mu["w1"]
    assert {s.data.shape for s in mu.codes.addressable_shards} == {(32, 512)}
    assert {s.data.shape for s in mu.scales.addressable_shards} == {(64,)}
    ref = jax.jit(lambda p, s, g: optjax.update_and_apply(tx, g, s, p))
    zstep = jax.jit(lambda p, s, g: optjax.update_and_apply(ztx, g, s, p))
    p0, s0 = ref(rep, tx.init(rep), grads)  # the replicated data-parallel step
    p1, s1 = zstep(rep, zstate, grads)
    for a, b in zip(jax.tree.leaves((p0, s0)), jax.tree.leaves((p1, s1))):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("block_size", [0, 3, -4, 2.0, True, 100])
def test_block_size_must_be_a_positive_power_of_two(block_size):
    with pytest.raises(ValueError, match="block_size must be a positive power of two"):
        optjax.quantized_state(optjax.adam(1e-3), block_size=block_size)
    with pytest.raises(ValueError, match="block_size"):
        quantize_blockwise(jnp.ones(4), block_size)


@pytest.mark.parametrize("dtype", [jnp.int32, jnp.complex64])
def test_non_float_param_is_named(dtype):
    params = {"emb": {"table": jnp.ones((64, 64), dtype)}, "w": jnp.ones((64, 64))}
    tx = optjax.quantized_state(optjax.sgd(1e-2, momentum=0.9))
    with pytest.raises(ValueError, match=r"parameter 'emb/table' has dtype .*exclude=\['emb/table'\]"):
        tx.init(params)
    state = optjax.quantized_state(optjax.sgd(1e-2, momentum=0.9), exclude=["emb/*"]).init(params)
    assert isinstance(state.inner_state[0].trace["w"], QuantizedArray)


def test_other_bad_arguments():
    with pytest.raises(ValueError, match="min_size must be an integer >= 0"):
        optjax.quantized_state(optjax.adam(), min_size=-1)
    with pytest.raises(ValueError, match="min_ndim"):
        optjax.quantized_state(optjax.adam(), min_ndim=1.5)
    with pytest.raises(ValueError, match=r"\['nu'\] are in both"):
        optjax.quantized_state(optjax.adam(), signed_fields=("mu", "nu"))
    with pytest.raises(TypeError, match="signed_fields must be a sequence"):
        optjax.quantized_state(optjax.adam(), signed_fields="mu")


def test_state_type():
    state = optjax.quantized_state(optjax.adam()).init(_tree())
    assert isinstance(state, QuantizedState) and int(state.count) == 0
