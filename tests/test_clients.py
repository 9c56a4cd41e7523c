"""optjax inside the code optax users already have: flax nnx and linen, equinox, optax's
own combinators and wrappers (each checked against the same code on optax)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optjax

optax = pytest.importorskip("optax")


def close(a, b, rtol=1e-5, atol=1e-7):
    jax.tree.map(lambda x, y: np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=rtol, atol=atol), a, b)


# ----------------------------------------------------------------------------
# extra arguments through optax's combinators


def test_optjax_transforms_are_optax_extra_args_kind():
    assert isinstance(optjax.sgd(0.1), optax.GradientTransformationExtraArgs)
    assert isinstance(optjax.chain(optjax.sgd(0.1)), optax.GradientTransformation)


def plateau_run(make_outer, losses=(1.0, 1.0, 1.0, 1.0)):
    params = {"w": jnp.ones(2)}
    tx = make_outer()
    s = tx.init(params)
    out = []
    for loss in losses:
        u, s = tx.update({"w": jnp.ones(2)}, s, params, value=jnp.asarray(loss))
        out.append(float(u["w"][0]))
    return out


@pytest.mark.parametrize("outer", ["chain", "multi_steps", "inject", "partition"])
def test_value_reaches_optjax_inside_optax_combinators(outer):
    def plateau(lib):
        return lib.contrib.reduce_on_plateau(factor=0.5, patience=1, cooldown=0)

    def make(lib):
        inner = lambda: lib.chain(lib.sgd(0.1), plateau(lib))  # noqa: E731
        if outer == "chain":
            return optax.chain(lib.sgd(0.1), plateau(lib))
        if outer == "multi_steps":
            return optax.MultiSteps(inner(), every_k_schedule=1)
        if outer == "inject":
            return optax.inject_hyperparams(lambda learning_rate: lib.chain(lib.sgd(learning_rate), plateau(lib)))(0.1)
        return optax.partition({"all": inner()}, lambda p: jax.tree.map(lambda _: "all", p))

    got = plateau_run(lambda: make(optjax))
    want = plateau_run(lambda: make(optax))
    assert abs(got[-1]) < abs(got[0])  # the plateau was seen: value= arrived
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_optjax_torch_plateau_in_optax_chain():
    tx = optax.chain(optjax.sgd(0.1), optjax.reduce_lr_on_plateau(factor=0.5, patience=0))
    params = {"w": jnp.ones(1)}
    s = tx.init(params)
    seen = []
    for _ in range(4):
        u, s = tx.update({"w": jnp.ones(1)}, s, params, value=jnp.asarray(1.0))
        seen.append(float(u["w"][0]))
    assert abs(seen[-1]) < abs(seen[0])


# ----------------------------------------------------------------------------
# flax


class TwoLayer:
    @staticmethod
    def make(nnx):
        class M(nnx.Module):
            def __init__(self, rngs):
                self.l1 = nnx.Linear(3, 4, rngs=rngs)
                self.l2 = nnx.Linear(4, 2, rngs=rngs)

            def __call__(self, x):
                return self.l2(jax.nn.relu(self.l1(x)))

        return M(nnx.Rngs(0))


@pytest.mark.parametrize("kind", ["partition", "freeze", "freeze_inner", "masked", "lr_mult"])
def test_nnx_optimizer_path_patterns(kind):
    nnx = pytest.importorskip("flax.nnx")
    tx = {
        "partition": lambda: optjax.partition({"w": optjax.adam(0.1), "b": optjax.set_to_zero()},
                                              {"*/bias": "b", "*": "w"}),
        "freeze": lambda: optjax.chain(optjax.freeze({"*/bias": True}), optjax.sgd(0.1)),
        "freeze_inner": lambda: optjax.freeze({"l1/*": True, "*/bias": True}, optjax.adam(0.1)),
        "masked": lambda: optjax.chain(optjax.sgd(0.1), optjax.masked(optjax.scale(0.0), {"*/bias": True})),
        "lr_mult": lambda: optjax.chain(optjax.sgd(0.1), optjax.lr_mult({"*/bias": 0.0})),
    }[kind]()
    model = TwoLayer.make(nnx)
    opt = nnx.Optimizer(model, tx, wrt=nnx.Param)
    before = jax.tree.map(np.asarray, nnx.state(model, nnx.Param))
    grads = nnx.grad(lambda m: jnp.sum(m(jnp.ones((1, 3))) ** 2))(model)
    opt.update(model, grads)
    after = jax.tree.map(np.asarray, nnx.state(model, nnx.Param))
    for layer in ("l1", "l2"):
        np.testing.assert_array_equal(after[layer]["bias"], before[layer]["bias"])
    assert not np.array_equal(after["l2"]["kernel"], before["l2"]["kernel"])


def test_nnx_path_names_the_param():
    nnx = pytest.importorskip("flax.nnx")
    state = nnx.state(TwoLayer.make(nnx), nnx.Param)
    names = optjax.tree.flatten_with_names(state)[0]
    assert sorted(names) == ["l1/bias", "l1/kernel", "l2/bias", "l2/kernel"]


def test_linen_train_state_with_prefix_mask():
    train_state = pytest.importorskip("flax.training.train_state")
    params = {"enc": {"w": jnp.ones((2, 2)), "b": jnp.zeros(2)}, "head": {"w": jnp.ones(2)}}

    def run(lib):
        tx = lib.chain(lib.add_decayed_weights(0.1, mask={"enc": True, "head": False}), lib.adam(0.1))
        st = train_state.TrainState.create(apply_fn=None, params=params, tx=tx)

        @jax.jit
        def step(st):
            return st.apply_gradients(grads=jax.tree.map(lambda x: 2 * x + 1, st.params))

        for _ in range(3):
            st = step(st)
        return st.params

    close(run(optjax), run(optax), rtol=1e-4, atol=1e-5)  # adam: optjax's exact bias correction


# ----------------------------------------------------------------------------
# equinox


def test_equinox_filter_jit_with_module_mask():
    eqx = pytest.importorskip("equinox")
    model = eqx.nn.MLP(3, 2, 4, 1, key=jax.random.key(0))
    params = eqx.filter(model, eqx.is_inexact_array)
    # the mask is an equinox Module (callable) of bools: a tree, not a function
    mask = jax.tree.map(lambda x: x.ndim > 1, params)
    assert callable(mask)

    def run(lib):
        tx = lib.chain(lib.masked(lib.add_decayed_weights(0.1), mask), lib.adam(0.1))
        m = model
        s = tx.init(eqx.filter(m, eqx.is_inexact_array))

        @eqx.filter_jit
        def step(m, s):
            g = eqx.filter_grad(lambda m: jnp.sum(m(jnp.ones(3)) ** 2))(m)
            u, s = tx.update(g, s, eqx.filter(m, eqx.is_inexact_array))
            return eqx.apply_updates(m, u), s

        for _ in range(3):
            m, s = step(m, s)
        return eqx.filter(m, eqx.is_inexact_array)

    close(run(optjax), run(optax), rtol=1e-4, atol=1e-5)  # adam: optjax's exact bias correction


# ----------------------------------------------------------------------------
# optax's wrappers around optjax


def quadratic_run(tx, steps=6):
    params = {"w": jnp.array([1.0, -2.0, 3.0])}
    s = tx.init(params)
    for _ in range(steps):
        g = jax.tree.map(lambda x: 2 * x, params)
        u, s = tx.update(g, s, params)
        params = optax.apply_updates(params, u)
    return params


def test_optax_lookahead_around_optjax():
    def make(lib):
        return optax.lookahead(lib.sgd(0.1, momentum=0.9), sync_period=2, slow_step_size=0.5)

    params = {"w": jnp.array([1.0, -2.0, 3.0])}

    def run(tx):
        p = optax.LookaheadParams.init_synced(params)
        s = tx.init(p)
        for _ in range(5):
            g = jax.tree.map(lambda x: 2 * x, p.fast)
            u, s = tx.update(g, s, p)
            p = optax.apply_updates(p, u)
        return p

    close(run(make(optjax)), run(make(optax)))


def test_optax_schedule_free_around_optjax():
    got = quadratic_run(optax.contrib.schedule_free(optjax.sgd(0.1), learning_rate=0.1))
    want = quadratic_run(optax.contrib.schedule_free(optax.sgd(0.1), learning_rate=0.1))
    close(got, want)
