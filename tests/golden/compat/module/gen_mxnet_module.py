"""Golden data for ``mx.mod.Module`` / ``mx.sym`` / ``mx.model`` from real MXNet 1.9.1.

Regenerate (MXNet's own virtual environment, built by ``tools/mxnet-venv.sh DIR``)::

    DIR/bin/python tests/golden/compat/module/gen_mxnet_module.py tests/golden/compat/module

Writes ``module_golden.npz`` (inputs, initial weights, per-batch losses and
metrics, parameters after each epoch) and ``lenet-symbol.json`` /
``lenet-0002.params`` (a real MXNet checkpoint) plus ``mlp-0002.states`` (MXNet's
pickled optimizer states) into the given folder. Every program starts from
weights passed as ``arg_params``/``aux_params`` so the numbers do not depend on
MXNet's random number generator. The programs:

- ``notes``: the MXNet notes' 20-10 softmax network, SGD lr 0.1 with
  ``FactorScheduler(step=100, factor=0.9)``, ``fit`` for 5 epochs of 25 batches;
- ``bn``: the notes' ``fit`` with momentum 0.9, wd 5e-5, lr 0.001,
  ``MultiFactorScheduler``, ``rescale_grad=0.002``, ``clip_gradient=5`` and
  BatchNorm auxiliary states given as ``aux_params``;
- ``loop``: the notes' manual ``forward``/``update_metric``/``backward``/``update``
  loop, then fine-tuning with ``fixed_param_names``;
- ``mlp``: 64-32-16-10 MLP, ``SoftmaxOutput(normalization='valid', use_ignore=True)``,
  symbol ``lr_mult``/``wd_mult``, ``score``, checkpoint at epoch 2 with optimizer
  states and a resumed run to epoch 4;
- ``lenet``: a small LeNet (Convolution, Pooling, BatchNorm, tanh/relu, Flatten)
  with ``SoftmaxOutput(normalization='batch', grad_scale=2)``, then ``predict``.
"""

import json
import os
import sys

import mxnet as mx
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from module_cases import (MLP_OPT, Recorder, bn_net, epoch_params, lenet_net, loop_net,  # noqa: E402
                          mlp_net, notes_net)

OUT = {}


def half(x):
    """Inputs rounded to float16 (stored as float16; the runs use them as float32)."""
    return x.astype("float16").astype("float32")


def put(key, value):
    value = np.asarray(value)
    if key.endswith("/X") and not key.startswith("pool"):
        value = value.astype("float16")
    OUT[key] = np.asarray(value)


def params_np(d):
    return {k: v.asnumpy() for k, v in d.items()}


def save_run(name, rec, epochs):
    put(f"{name}/loss", rec.loss)
    put(f"{name}/metric", rec.metric)
    for e, ps in enumerate(epochs):
        for k, v in ps.items():
            put(f"{name}/epoch{e}/{k}", v)


def notes(rng):
    X = half(rng.randn(25 * 128, 20))
    Y = rng.randint(0, 10, 25 * 128).astype("float32")
    W = rng.uniform(-1, 1, (10, 20)).astype("float32")
    b = rng.uniform(-1, 1, (10,)).astype("float32")
    put("notes/X", X), put("notes/Y", Y), put("notes/init/fc_weight", W), put("notes/init/fc_bias", b)
    mod = mx.mod.Module(notes_net(mx))
    mod.bind(data_shapes=[("data", (128, 20))], label_shapes=[("softmax_label", (128,))])
    mod.init_params(arg_params={"fc_weight": mx.nd.array(W), "fc_bias": mx.nd.array(b)})
    lr_sch = mx.lr_scheduler.FactorScheduler(step=100, factor=0.9)
    mod.init_optimizer(optimizer="sgd",
                       optimizer_params=(("learning_rate", 0.1), ("lr_scheduler", lr_sch)))
    it = mx.io.NDArrayIter(X, Y, batch_size=128)
    rec, eps = Recorder(), []
    mod.fit(it, num_epoch=5, eval_metric="acc", batch_end_callback=rec,
            epoch_end_callback=epoch_params(eps))
    save_run("notes", rec, eps)


def bn(rng):
    X = half(rng.randn(10 * 50, 30))
    Y = rng.randint(0, 5, 10 * 50).astype("float32")
    init = {"fc1_weight": rng.uniform(-0.3, 0.3, (16, 30)), "fc1_bias": rng.uniform(-0.1, 0.1, 16),
            "bn_gamma": rng.uniform(0.5, 1.5, 16), "bn_beta": rng.uniform(-0.1, 0.1, 16),
            "fc2_weight": rng.uniform(-0.3, 0.3, (5, 16)), "fc2_bias": np.zeros(5)}
    aux = {"bn_moving_mean": rng.uniform(-0.1, 0.1, 16), "bn_moving_var": rng.uniform(0.9, 1.1, 16)}
    put("bn/X", X), put("bn/Y", Y)
    for k, v in init.items():
        put(f"bn/init/{k}", v.astype("float32"))
    for k, v in aux.items():
        put(f"bn/aux/{k}", v.astype("float32"))
    model = mx.mod.Module(bn_net(mx))
    lr_scheduler = mx.lr_scheduler.MultiFactorScheduler([8, 15], 0.5)
    optimizer_params = {"momentum": 0.9, "wd": 0.00005, "learning_rate": 0.001,
                        "lr_scheduler": lr_scheduler, "rescale_grad": 0.002, "clip_gradient": 5}
    it = mx.io.NDArrayIter(X, Y, batch_size=50)
    rec, eps = Recorder(), []
    model.fit(it, num_epoch=2, optimizer="sgd", optimizer_params=optimizer_params,
              arg_params={k: mx.nd.array(v.astype("float32")) for k, v in init.items()},
              aux_params={k: mx.nd.array(v.astype("float32")) for k, v in aux.items()},
              batch_end_callback=rec, epoch_end_callback=epoch_params(eps))
    save_run("bn", rec, eps)


def loop(rng):
    X = half(rng.randn(6 * 32, 12))
    Y = rng.randint(0, 4, 6 * 32).astype("float32")
    init = {"fc1_weight": rng.uniform(-0.5, 0.5, (8, 12)), "fc1_bias": rng.uniform(-0.1, 0.1, 8),
            "fc2_weight": rng.uniform(-0.5, 0.5, (4, 8)), "fc2_bias": rng.uniform(-0.1, 0.1, 4)}
    put("loop/X", X), put("loop/Y", Y)
    for k, v in init.items():
        put(f"loop/init/{k}", v.astype("float32"))
    net = loop_net(mx)
    for tag, fixed in (("all", None), ("fixed", ["fc1_weight", "fc1_bias"])):
        mod = mx.mod.Module(net, fixed_param_names=fixed)
        mod.bind(data_shapes=[("data", (32, 12))], label_shapes=[("softmax_label", (32,))])
        mod.init_params(arg_params={k: mx.nd.array(v.astype("float32")) for k, v in init.items()})
        mod.init_optimizer(optimizer="sgd", optimizer_params={"learning_rate": 0.5, "momentum": 0.5})
        metric = mx.metric.create("acc")
        it = mx.io.NDArrayIter(X, Y, batch_size=32)
        metrics, grads = [], []
        for epoch in range(2):
            it.reset()
            metric.reset()
            for nbatch, data_batch in enumerate(it):
                mod.forward(data_batch)
                mod.update_metric(metric, data_batch.label)
                mod.backward()
                grads.append(mod._exec_group.grad_arrays[2][0].asnumpy())  # fc2_weight
                mod.update()
                metrics.append(metric.get_name_value()[0][1])
        put(f"loop/{tag}/metric", metrics)
        put(f"loop/{tag}/fc2_weight_grad", grads)
        arg, _ = mod.get_params()
        for k, v in arg.items():
            put(f"loop/{tag}/final/{k}", v.asnumpy())


def mlp(rng, out_dir):
    X = half(rng.randn(8 * 32, 64))
    Y = rng.randint(0, 10, 8 * 32).astype("float32")
    Y[::7] = -1  # ignored labels
    Xv = rng.randn(2 * 32, 64).astype("float32")
    Yv = rng.randint(0, 10, 2 * 32).astype("float32")
    init = {"fc1_weight": rng.uniform(-0.2, 0.2, (32, 64)), "fc1_bias": np.zeros(32),
            "fc2_weight": rng.uniform(-0.2, 0.2, (16, 32)), "fc2_bias": np.zeros(16),
            "fc3_weight": rng.uniform(-0.2, 0.2, (10, 16)), "fc3_bias": np.zeros(10)}
    put("mlp/X", X), put("mlp/Y", Y), put("mlp/Xv", Xv), put("mlp/Yv", Yv)
    for k, v in init.items():
        put(f"mlp/init/{k}", v.astype("float32"))

    opt = MLP_OPT
    args = {k: mx.nd.array(v.astype("float32")) for k, v in init.items()}
    train = mx.io.NDArrayIter(X, Y, batch_size=32)
    val = mx.io.NDArrayIter(Xv, Yv, batch_size=32)
    rec, eps = Recorder(), []
    mod = mx.mod.Module(mlp_net(mx))
    prefix = os.path.join(out_dir, "mlp")

    def ckpt(epoch, sym, arg, aux):
        if epoch + 1 == 2:
            mod.save_checkpoint(prefix, 2, save_optimizer_states=True)
    mod.fit(train, eval_data=val, num_epoch=4, optimizer="sgd", optimizer_params=opt,
            arg_params=args, batch_end_callback=rec, epoch_end_callback=[epoch_params(eps), ckpt])
    save_run("mlp", rec, eps)
    put("mlp/score", [v for _, v in mod.score(val, "acc")])
    # resumed from the checkpoint written after epoch index 1
    mod2 = mx.mod.Module.load(prefix, 2, load_optimizer_states=True)
    rec2, eps2 = Recorder(), []
    mod2.fit(train, num_epoch=4, begin_epoch=2, optimizer="sgd", optimizer_params=opt,
             batch_end_callback=rec2, epoch_end_callback=epoch_params(eps2))
    save_run("mlp_resumed", rec2, eps2)
    os.remove(prefix + "-symbol.json")
    os.remove(prefix + "-0002.params")


def lenet(rng, out_dir):
    X = half(rng.randn(4 * 16, 1, 12, 12))
    Y = rng.randint(0, 10, 4 * 16).astype("float32")
    net = lenet_net(mx)
    shapes, _, aux_shapes = net.infer_shape(data=(16, 1, 12, 12))
    names = net.list_arguments()
    init = {}
    for n, s in zip(names, shapes):
        if n in ("data", "softmax_label"):
            continue
        init[n] = (rng.uniform(-0.3, 0.3, s) if n.endswith("weight") else
                   rng.uniform(0.8, 1.2, s) if n.endswith("gamma") else
                   rng.uniform(-0.05, 0.05, s)).astype("float32")
    aux = {n: (rng.uniform(-0.1, 0.1, s) if n.endswith("mean") else rng.uniform(0.9, 1.1, s)).astype(
        "float32") for n, s in zip(net.list_auxiliary_states(), aux_shapes)}
    put("lenet/X", X), put("lenet/Y", Y)
    for k, v in init.items():
        put(f"lenet/init/{k}", v)
    for k, v in aux.items():
        put(f"lenet/aux/{k}", v)
    mod = mx.mod.Module(net)
    train = mx.io.NDArrayIter(X, Y, batch_size=16)
    rec, eps = Recorder(), []
    mod.fit(train, num_epoch=2, optimizer="sgd",
            optimizer_params={"learning_rate": 0.1, "momentum": 0.9, "wd": 1e-4},
            arg_params={k: mx.nd.array(v) for k, v in init.items()},
            aux_params={k: mx.nd.array(v) for k, v in aux.items()},
            batch_end_callback=rec, epoch_end_callback=epoch_params(eps))
    save_run("lenet", rec, eps)
    mod.save_checkpoint(os.path.join(out_dir, "lenet"), 2)
    pred = mod.predict(mx.io.NDArrayIter(X[:32], None, batch_size=16))
    put("lenet/predict", pred.asnumpy())


def executor_grads(rng):
    """Executor forward/backward with explicit head gradients and grad_req='add'."""
    a = mx.sym.Variable("a")
    b = mx.sym.Variable("b")
    out = mx.sym.Group([mx.sym.sum(a * b + mx.sym.exp(a), axis=1), mx.sym.tanh(b) / 2])
    A = rng.randn(3, 4).astype("float32")
    B = rng.randn(3, 4).astype("float32")
    g0 = rng.randn(3).astype("float32")
    g1 = rng.randn(3, 4).astype("float32")
    ex = out.simple_bind(mx.cpu(), a=(3, 4), b=(3, 4), grad_req={"a": "add", "b": "write"})
    ex.arg_dict["a"][:] = A
    ex.arg_dict["b"][:] = B
    ex.grad_dict["a"][:] = 1.0
    for _ in range(2):  # 'add' accumulates over two forward/backward passes
        ex.forward(is_train=True)
        ex.backward([mx.nd.array(g0), mx.nd.array(g1)])
    for k, v in {"A": A, "B": B, "g0": g0, "g1": g1, "out0": ex.outputs[0].asnumpy(),
                 "out1": ex.outputs[1].asnumpy(), "grad_a": ex.grad_dict["a"].asnumpy(),
                 "grad_b": ex.grad_dict["b"].asnumpy()}.items():
        put(f"exec/{k}", v)


def pooling_ties(rng):
    """Max-pooling gradient where windows hold equal maxima (MXNet: the first one)."""
    x = mx.sym.Variable("x")
    out = mx.sym.Pooling(x, pool_type="max", kernel=(2, 2), stride=(2, 2))
    X = np.round(rng.randn(2, 3, 6, 4)).astype("float32")  # many ties
    X[0, 0] = 1.0
    ex = out.simple_bind(mx.cpu(), x=X.shape)
    ex.arg_dict["x"][:] = X
    ex.forward(is_train=True)
    head = rng.randn(*ex.outputs[0].shape).astype("float32")
    ex.backward(mx.nd.array(head))
    put("pool/X", X.astype("float32")), put("pool/head", head)
    put("pool/out", ex.outputs[0].asnumpy()), put("pool/grad", ex.grad_dict["x"].asnumpy())


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.RandomState(20261201)
    notes(rng)
    bn(rng)
    loop(rng)
    mlp(rng, out_dir)
    lenet(rng, out_dir)
    executor_grads(rng)
    pooling_ties(rng)
    np.savez_compressed(os.path.join(out_dir, "module_golden.npz"), **OUT)
    with open(os.path.join(out_dir, "module_golden.json"), "w") as f:
        json.dump({"mxnet": mx.__version__, "keys": sorted(OUT)}, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
