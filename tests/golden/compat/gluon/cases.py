"""Gluon programs run unchanged under real MXNet 1.9.1 (the generator) and under the shim (the tests).

Every function takes the ``mx`` module (``mxnet`` or ``optjax.compat.mxnet``) and
builds or runs the same thing with it. Initial weights are not drawn by either
library: :func:`set_params` writes given values, so both runs start equal.
"""

import numpy as np


def structural_params(net):
    """``{'0.weight': Parameter, ...}``: the names ``save_parameters`` writes."""
    return net._collect_params_with_prefix()


def set_params(mx, net, values):
    for name, p in structural_params(net).items():
        p.set_data(mx.nd.array(values[name], dtype=p.dtype))


def random_params(net, rng):
    """Values for every parameter: normal, positive for running variances."""
    out = {}
    for name, p in structural_params(net).items():
        v = rng.standard_normal(p.shape).astype(np.float32) * 0.5
        if name.endswith("running_var"):
            v = np.abs(v) + 0.5
        out[name] = v
    return out


# -- layers: name -> (builder(nn), input shape, input kind, train mode) ----------------------
def _act(name):
    return lambda nn: nn.Activation(name)


LAYERS = {
    "dense": (lambda nn: nn.Dense(5), (4, 3, 2), "normal", True),
    "dense_noflatten": (lambda nn: nn.Dense(5, flatten=False, use_bias=False), (4, 3, 2),
                        "normal", True),
    "dense_relu_in_units": (lambda nn: nn.Dense(5, activation="relu", in_units=6), (4, 6),
                            "normal", True),
    "conv1d": (lambda nn: nn.Conv1D(3, 3, strides=2, padding=1), (2, 2, 9), "normal", True),
    "conv2d": (lambda nn: nn.Conv2D(4, (3, 2), strides=(2, 1), padding=(1, 0), dilation=(1, 2)),
               (2, 3, 7, 6), "normal", True),
    "conv2d_groups": (lambda nn: nn.Conv2D(4, 3, groups=2, use_bias=False, activation="tanh"),
                      (2, 4, 5, 5), "normal", True),
    "conv3d": (lambda nn: nn.Conv3D(2, 2, padding=1), (1, 2, 3, 4, 3), "normal", True),
    "conv2d_transpose": (lambda nn: nn.Conv2DTranspose(3, 3, strides=2, padding=1,
                                                       output_padding=1), (2, 2, 4, 3),
                         "normal", True),
    "maxpool1d": (lambda nn: nn.MaxPool1D(3, 2), (2, 3, 9), "normal", True),
    "maxpool2d": (lambda nn: nn.MaxPool2D(), (2, 3, 6, 6), "normal", True),
    "maxpool2d_ceil": (lambda nn: nn.MaxPool2D(3, 2, ceil_mode=True), (2, 3, 8, 8), "normal",
                       True),
    "maxpool3d": (lambda nn: nn.MaxPool3D(), (1, 2, 4, 4, 4), "normal", True),
    "avgpool2d_pad": (lambda nn: nn.AvgPool2D(3, 2, padding=1), (2, 2, 7, 7), "normal", True),
    "avgpool2d_nopad_count": (lambda nn: nn.AvgPool2D(3, 2, padding=1, count_include_pad=False),
                              (2, 2, 7, 7), "normal", True),
    "avgpool2d_ceil": (lambda nn: nn.AvgPool2D(3, 2, ceil_mode=True), (2, 2, 8, 8), "normal",
                       True),
    "avgpool1d": (lambda nn: nn.AvgPool1D(), (2, 2, 8), "normal", True),
    "globalmax2d": (lambda nn: nn.GlobalMaxPool2D(), (2, 3, 4, 5), "normal", True),
    "globalavg2d": (lambda nn: nn.GlobalAvgPool2D(), (2, 3, 4, 5), "normal", True),
    "globalavg1d": (lambda nn: nn.GlobalAvgPool1D(), (2, 3, 5), "normal", True),
    "batchnorm_train": (lambda nn: nn.BatchNorm(momentum=0.8), (4, 3, 2, 2), "normal", True),
    "batchnorm_eval": (lambda nn: nn.BatchNorm(), (4, 3, 2, 2), "normal", False),
    "batchnorm_noscale": (lambda nn: nn.BatchNorm(scale=False, center=False), (4, 3, 5),
                          "normal", True),
    "batchnorm_global": (lambda nn: nn.BatchNorm(use_global_stats=True), (4, 3), "normal", True),
    "batchnorm_axis": (lambda nn: nn.BatchNorm(axis=-1), (4, 2, 3), "normal", True),
    "layernorm": (lambda nn: nn.LayerNorm(), (3, 4, 5), "normal", True),
    "instancenorm": (lambda nn: nn.InstanceNorm(scale=True), (2, 3, 4, 4), "normal", True),
    "embedding": (lambda nn: nn.Embedding(7, 3), (4, 2), "index7", True),
    "flatten": (lambda nn: nn.Flatten(), (2, 3, 2, 2), "normal", True),
    "relu": (_act("relu"), (3, 4), "normal", True),
    "sigmoid": (_act("sigmoid"), (3, 4), "normal", True),
    "tanh": (_act("tanh"), (3, 4), "normal", True),
    "softrelu": (_act("softrelu"), (3, 4), "normal", True),
    "softsign": (_act("softsign"), (3, 4), "normal", True),
    "leakyrelu": (lambda nn: nn.LeakyReLU(0.1), (3, 4), "normal", True),
    "prelu": (lambda nn: nn.PReLU(in_channels=3), (2, 3, 4), "normal", True),
    "elu": (lambda nn: nn.ELU(0.7), (3, 4), "normal", True),
    "selu": (lambda nn: nn.SELU(), (3, 4), "normal", True),
    "swish": (lambda nn: nn.Swish(1.5), (3, 4), "normal", True),
    "gelu": (lambda nn: nn.GELU(), (3, 4), "normal", True),
    "dropout_p0": (lambda nn: nn.Dropout(0.0), (3, 4), "normal", True),
    "dropout_eval": (lambda nn: nn.Dropout(0.5), (3, 4), "normal", False),
}


def make_input(mx, shape, kind, rng):
    if kind == "index7":
        return rng.integers(0, 7, shape).astype(np.float32)
    return rng.standard_normal(shape).astype(np.float32)


def run_layer(mx, name, rng=None, given=None, hybridize=False):
    """Forward and backward of one layer: outputs, input grad, param grads, params after.

    The generator draws the input, the parameters and the head gradient from ``rng``;
    the tests pass the generator's values as ``given``.
    """
    build, shape, kind, train = LAYERS[name]
    layer = build(mx.gluon.nn)
    layer.initialize()
    x_np = make_input(mx, shape, kind, rng) if given is None else given["x"]
    x = mx.nd.array(x_np)
    with mx.autograd.pause():
        layer(x)  # deferred initialization
    values = random_params(layer, rng) if given is None else {
        k[5:]: v for k, v in given.items() if k.startswith("init/")}
    set_params(mx, layer, values)
    if hybridize:
        layer.hybridize()
    if kind == "normal":
        x.attach_grad()
    with mx.autograd.record(train_mode=train):
        y = layer(x)
    head_np = rng.standard_normal(y.shape).astype(np.float32) if given is None else given["head"]
    # backward in the forward's mode: MXNet's BatchNorm backward after an inference-mode
    # forward otherwise mixes the training-mode formula with the moving statistics
    # (docs/mxnet-migration.md, "What differs").
    y.backward(mx.nd.array(head_np), train_mode=train)
    out = {"init/" + k: v for k, v in values.items()}
    out["x"] = x_np
    out["head"] = head_np
    out["y"] = y.asnumpy()
    if kind == "normal":
        out["x_grad"] = x.grad.asnumpy()
    for k, p in structural_params(layer).items():
        out["after/" + k] = p.data().asnumpy()
        if p.grad_req != "null":
            out["grad/" + k] = p.grad().asnumpy()
    return out


# -- losses: name -> (builder(loss), pred shape, label kind, with sample_weight) ---------------
LOSSES = {
    "l2": (lambda L: L.L2Loss(), (4, 3), "normal", False),
    "l2_weighted": (lambda L: L.L2Loss(weight=0.5), (4, 3, 2), "normal", True),
    "l1": (lambda L: L.L1Loss(), (4, 3), "normal", False),
    "sce_sparse": (lambda L: L.SoftmaxCrossEntropyLoss(), (5, 4), "class4", False),
    "sce_sparse_w": (lambda L: L.SoftmaxCrossEntropyLoss(weight=2.0), (5, 4), "class4", True),
    "sce_dense": (lambda L: L.SoftmaxCrossEntropyLoss(sparse_label=False), (5, 4), "prob", False),
    "sce_axis1": (lambda L: L.SoftmaxCrossEntropyLoss(axis=1), (3, 4, 2), "class4_axis1", False),
    "sce_logits": (lambda L: L.SoftmaxCrossEntropyLoss(from_logits=True), (5, 4), "class4",
                   False),
    "sce_batch_axis1": (lambda L: L.SoftmaxCrossEntropyLoss(batch_axis=1), (3, 4, 2), "class2",
                        False),
    "sigmoid_bce": (lambda L: L.SigmoidBinaryCrossEntropyLoss(), (4, 3), "binary", False),
    "sigmoid_bce_from_sigmoid": (lambda L: L.SigmoidBinaryCrossEntropyLoss(from_sigmoid=True),
                                 (4, 3), "binary_prob_pred", False),
    "kldiv": (lambda L: L.KLDivLoss(), (4, 5), "prob_logpred", False),
    "kldiv_logits": (lambda L: L.KLDivLoss(from_logits=False), (4, 5), "prob", False),
    "huber": (lambda L: L.HuberLoss(rho=0.7), (4, 3), "normal", False),
    "hinge": (lambda L: L.HingeLoss(), (4, 3), "signed", False),
    "squared_hinge": (lambda L: L.SquaredHingeLoss(margin=0.5), (4, 3), "signed", False),
    "logistic": (lambda L: L.LogisticLoss(), (4, 3), "signed", False),
    "logistic_binary": (lambda L: L.LogisticLoss(label_format="binary"), (4, 3), "binary",
                        False),
}


def _label(kind, shape, rng):
    if kind == "normal":
        return rng.standard_normal(shape)
    if kind == "class4":
        return rng.integers(0, 4, shape[:-1])
    if kind == "class2":
        return rng.integers(0, 2, shape[:-1])
    if kind == "class4_axis1":
        return rng.integers(0, 4, (shape[0],) + shape[2:])
    if kind in ("prob", "prob_logpred"):
        p = rng.random(shape) + 0.1
        return p / p.sum(-1, keepdims=True)
    if kind in ("binary", "binary_prob_pred"):
        return rng.integers(0, 2, shape)
    if kind == "signed":
        return rng.integers(0, 2, shape) * 2 - 1
    raise ValueError(kind)


def make_loss_inputs(name, rng):
    _, shape, kind, weighted = LOSSES[name]
    pred = rng.standard_normal(shape)
    if kind == "binary_prob_pred":
        pred = 1 / (1 + np.exp(-pred))
    if kind == "prob_logpred":
        pred = np.log(_label("prob", shape, rng))
    out = {"pred": pred.astype(np.float32), "label": _label(kind, shape, rng).astype(np.float32)}
    if weighted:
        out["sample_weight"] = rng.random((shape[0],) + (1,) * (len(shape) - 1)).astype(
            np.float32)
    return out


def run_loss(mx, name, given):
    """The loss and its gradient with respect to ``pred`` for the inputs ``given``."""
    loss = LOSSES[name][0](mx.gluon.loss)
    p = mx.nd.array(given["pred"])
    args = [p, mx.nd.array(given["label"])]
    if "sample_weight" in given:
        args.append(mx.nd.array(given["sample_weight"]))
    p.attach_grad()
    with mx.autograd.record():
        v = loss(*args)
    v.backward()
    return {"loss": v.asnumpy(), "pred_grad": p.grad.asnumpy()}


# -- whole training loops -------------------------------------------------------------------
def linreg(mx):
    net = mx.gluon.nn.Sequential()
    net.add(mx.gluon.nn.Dense(1))
    return net


def _dense_stack(mx, layers):
    nn = mx.gluon.nn
    net = nn.Sequential()
    with net.name_scope():
        for units, act in layers:
            net.add(nn.Dense(units, activation=act))
    return net


def mlp(mx):
    return _dense_stack(mx, [(16, "relu"), (16, "tanh"), (4, None)])


def lenet_bn(mx):
    nn = mx.gluon.nn
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Conv2D(channels=6, kernel_size=3), nn.BatchNorm(), nn.Activation("relu"),
                nn.MaxPool2D(pool_size=2, strides=2),
                nn.Conv2D(channels=8, kernel_size=3), nn.BatchNorm(), nn.Activation("sigmoid"),
                nn.AvgPool2D(pool_size=2, strides=2),
                nn.Dense(24), nn.BatchNorm(), nn.Activation("relu"),
                nn.Dense(10))
    return net


def custom_block(mx):
    gluon = mx.gluon

    class Gate(gluon.HybridBlock):
        """A custom HybridBlock: its own parameters and hybrid_forward."""

        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            with self.name_scope():
                self.proj = gluon.nn.Dense(units, in_units=5)
                self.scale = self.params.get("scale", shape=(1, units),
                                             init=mx.init.Constant(1.0))
                self.bias = self.params.get("bias", shape=(units,), init="zeros")

        def hybrid_forward(self, F, x, scale, bias):
            h = self.proj(x)
            g = F.sigmoid(F.broadcast_mul(h, scale))
            return F.broadcast_add(h * g, bias).relu()

    net = gluon.nn.HybridSequential()
    with net.name_scope():
        net.add(Gate(6), gluon.nn.Dense(3, in_units=6))
    return net


def named_layer(mx):
    """The notes' network; its first layer is the ``namedLayer`` whose weight gets ``lr_mult = 2``."""
    return _dense_stack(mx, [(8, "relu"), (3, None)])


LOOPS = {
    # name: (builder, input shape, n classes (0 = regression), loss, optimizer, params, hybridize)
    "linreg": (linreg, (10, 2), 0, "l2", "sgd", {"learning_rate": 0.03}, False),
    "mlp": (mlp, (8, 6), 4, "sce", "sgd", {"learning_rate": 0.1, "momentum": 0.9}, False),
    "mlp_adam_hybrid": (mlp, (8, 6), 4, "sce", "adam", {"learning_rate": 0.01}, True),
    "lenet_bn_hybrid": (lenet_bn, (4, 1, 12, 12), 10, "sce", "sgd",
                        {"learning_rate": 0.02, "momentum": 0.9, "wd": 1e-4}, True),
    "lenet_bn": (lenet_bn, (4, 1, 12, 12), 10, "sce", "sgd",
                 {"learning_rate": 0.02, "momentum": 0.9, "wd": 1e-4}, False),
    "custom_hybrid": (custom_block, (6, 5), 3, "sce", "rmsprop", {"learning_rate": 0.01}, True),
    "grad_add_lr_mult": (named_layer, (6, 5), 3, "sce", "sgd",
                         {"learning_rate": 0.1, "wd": 0.0001}, False),
}
STEPS = 24


def loop_data(name, rng):
    _, shape, classes, *_ = LOOPS[name]
    xs = rng.standard_normal((STEPS,) + shape).astype(np.float32)
    if classes:
        ys = rng.integers(0, classes, (STEPS, shape[0])).astype(np.float32)
    else:
        w = np.array([2.0, -3.4], np.float32)
        ys = (xs @ w + 4.2 + 0.01 * rng.standard_normal((STEPS, shape[0]))).astype(np.float32)
    return xs, ys


def run_loop(mx, name, xs, ys, params=None, rng=None):
    """The training loop; returns losses per step, initial and final parameters."""
    build, shape, classes, loss_name, opt, opt_params, hybridize = LOOPS[name]
    gluon, autograd = mx.gluon, mx.autograd
    net = build(mx)
    net.initialize(mx.init.Xavier())
    with autograd.pause():
        net(mx.nd.array(xs[0]))
    values = random_params(net, rng) if params is None else params
    set_params(mx, net, values)
    if hybridize:
        net.hybridize()
    loss = gluon.loss.L2Loss() if loss_name == "l2" else gluon.loss.SoftmaxCrossEntropyLoss()
    batch_size = shape[0]
    if name == "grad_add_lr_mult":
        return values, _notes_loop(mx, net, loss, xs, ys, opt, opt_params, batch_size)
    trainer = gluon.Trainer(net.collect_params(), opt, dict(opt_params))
    losses = []
    for i in range(STEPS):
        X, y = mx.nd.array(xs[i]), mx.nd.array(ys[i])
        with autograd.record():
            l = loss(net(X), y)
        l.backward()
        trainer.step(batch_size)
        losses.append(l.mean().asscalar())
    return values, (np.array(losses, np.float32), net)


def _notes_loop(mx, net, loss, xs, ys, opt, opt_params, batch_size):
    """The notes' gradient accumulation: grad_req='add', step every 2 batches, zero_grad,
    ``namedLayer.weight.lr_mult = 2.0``, ``set_learning_rate`` halfway."""
    gluon, autograd = mx.gluon, mx.autograd
    for p in net.collect_params().values():
        p.grad_req = "add"
    namedLayer = net[0]
    namedLayer.weight.lr_mult = 2.0
    trainer = gluon.Trainer(net.collect_params(), opt, dict(opt_params))
    losses = []
    for i in range(STEPS):
        X, y = mx.nd.array(xs[i]), mx.nd.array(ys[i])
        with autograd.record():
            l = loss(net(X), y)
        l.backward()
        losses.append(l.mean().asscalar())
        if i == STEPS // 2:
            trainer.set_learning_rate(0.05)
        if (i % 2) == 0 and i != 0:
            trainer.step(batch_size * 2)
            net.collect_params().zero_grad()
    return np.array(losses, np.float32), net
