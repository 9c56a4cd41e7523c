"""The golden programs' networks and recorders, built the same way on real MXNet
(``gen_mxnet_module.py``) and on the shim (``tests/compat/module``): ``net(mx)``."""

import numpy as np


def notes_net(mx):
    data = mx.symbol.Variable("data")
    label = mx.symbol.Variable("softmax_label")
    fc = mx.symbol.FullyConnected(data, name="fc", num_hidden=10)
    return mx.symbol.SoftmaxOutput(fc, label, name="softmax")


def bn_net(mx):
    data = mx.sym.Variable("data")
    h = mx.sym.FullyConnected(data, name="fc1", num_hidden=16)
    h = mx.sym.BatchNorm(h, name="bn", fix_gamma=False)
    h = mx.sym.Activation(h, act_type="relu", name="relu1")
    h = mx.sym.FullyConnected(h, name="fc2", num_hidden=5)
    return mx.sym.SoftmaxOutput(h, name="softmax")


def loop_net(mx):
    data = mx.sym.Variable("data")
    h = mx.sym.Activation(mx.sym.FullyConnected(data, name="fc1", num_hidden=8), act_type="tanh")
    return mx.sym.SoftmaxOutput(mx.sym.FullyConnected(h, name="fc2", num_hidden=4), name="softmax")


def mlp_net(mx):
    data = mx.sym.Variable("data")
    h = mx.sym.Activation(mx.sym.FullyConnected(data, name="fc1", num_hidden=32), act_type="relu")
    w2 = mx.sym.Variable("fc2_weight", lr_mult=2.0, wd_mult=0.0)
    h = mx.sym.Activation(mx.sym.FullyConnected(h, weight=w2, name="fc2", num_hidden=16),
                          act_type="relu")
    h = mx.sym.FullyConnected(h, name="fc3", num_hidden=10)
    return mx.sym.SoftmaxOutput(h, name="softmax", normalization="valid", use_ignore=True,
                                ignore_label=-1)


MLP_OPT = {"learning_rate": 0.05, "momentum": 0.9, "wd": 0.001}


def lenet_net(mx):
    data = mx.sym.Variable("data")
    c1 = mx.sym.Convolution(data, kernel=(3, 3), num_filter=4, name="conv1")
    a1 = mx.sym.Activation(c1, act_type="tanh", name="tanh1")
    p1 = mx.sym.Pooling(a1, pool_type="max", kernel=(2, 2), stride=(2, 2), name="pool1")
    c2 = mx.sym.Convolution(p1, kernel=(2, 2), num_filter=8, name="conv2")
    b2 = mx.sym.BatchNorm(c2, name="bn2")
    a2 = mx.sym.Activation(b2, act_type="relu", name="relu2")
    p2 = mx.sym.Pooling(a2, pool_type="avg", kernel=(2, 2), stride=(2, 2), name="pool2")
    f = mx.sym.Flatten(p2, name="flatten")
    f1 = mx.sym.Activation(mx.sym.FullyConnected(f, num_hidden=16, name="fc1"), act_type="relu")
    f2 = mx.sym.FullyConnected(f1, num_hidden=10, name="fc2")
    return mx.sym.SoftmaxOutput(f2, name="softmax", normalization="batch", grad_scale=2.0)


class Recorder:
    """batch_end_callback: loss (mean -log p[label] over non-ignored labels) and metric."""

    def __init__(self):
        self.loss, self.metric = [], []

    def __call__(self, p):
        mod = p.locals["self"]
        out = mod.get_outputs()[0].asnumpy()
        lab = p.locals["data_batch"].label[0].asnumpy().astype(int)
        keep = lab >= 0
        self.loss.append(float(-np.log(out[np.arange(len(lab)), np.maximum(lab, 0)][keep]).mean()))
        self.metric.append(p.eval_metric.get_name_value()[0][1])


def epoch_params(store):
    """epoch_end_callback: a copy of every parameter, named 'arg:...'/'aux:...'."""
    def cb(epoch, sym, arg, aux):
        store.append({**{"arg:" + k: v.asnumpy() for k, v in arg.items()},
                      **{"aux:" + k: v.asnumpy() for k, v in aux.items()}})
    return cb


def multi_net(mx):
    """Module on several contexts: per-slice BatchNorm and 'batch' normalization."""
    data = mx.sym.Variable("data")
    h = mx.sym.FullyConnected(data, name="fc1", num_hidden=8)
    h = mx.sym.BatchNorm(h, name="bn", fix_gamma=False)
    h = mx.sym.Activation(h, act_type="relu")
    h = mx.sym.FullyConnected(h, name="fc2", num_hidden=4)
    return mx.sym.SoftmaxOutput(h, name="softmax", normalization="batch")


def bucket_sym_gen(mx):
    """``sym_gen`` of a BucketingModule: token ids (batch, key) -> embedding sum -> softmax."""
    def sym_gen(key):
        data = mx.sym.Variable("data")
        emb = mx.sym.Embedding(data, input_dim=10, output_dim=4, name="emb")
        fc = mx.sym.FullyConnected(mx.sym.sum(emb, axis=1), num_hidden=3, name="fc")
        return mx.sym.SoftmaxOutput(fc, name="softmax"), ("data",), ("softmax_label",)
    return sym_gen


def bucket_iter(mx, keys, seed=0):
    """A DataIter of batches of 4 with bucket keys ``keys`` (a user's iterator, as MXNet's
    examples write them); the default bucket is the longest."""

    class BucketIter(mx.io.DataIter):
        def __init__(self):
            super().__init__(4)
            rng = np.random.RandomState(seed)
            self.batches = [(k, rng.randint(0, 10, (4, k)).astype("float32"),
                             rng.randint(0, 3, 4).astype("float32")) for k in keys]
            self.default = max(keys)
            self.provide_data = [mx.io.DataDesc("data", (4, self.default))]
            self.provide_label = [mx.io.DataDesc("softmax_label", (4,))]
            self.cursor = 0

        def reset(self):
            self.cursor = 0

        def next(self):
            if self.cursor >= len(self.batches):
                raise StopIteration
            k, x, y = self.batches[self.cursor]
            self.cursor += 1
            return mx.io.DataBatch([mx.nd.array(x)], [mx.nd.array(y)], pad=0, bucket_key=k,
                                   provide_data=[mx.io.DataDesc("data", (4, k))],
                                   provide_label=[mx.io.DataDesc("softmax_label", (4,))])

    return BucketIter()


def fanout_net(mx):
    """A relu output read by two nodes (a FullyConnected and an add) before SoftmaxOutput."""
    data = mx.sym.Variable("data")
    h = mx.sym.Activation(mx.sym.FullyConnected(data, name="fc", num_hidden=4),
                          act_type="relu", name="relu")
    return mx.sym.SoftmaxOutput(mx.sym.FullyConnected(h, name="fc2", num_hidden=4) + h,
                                name="softmax")


def monitor_rows(mx, monitor_kwargs):
    """The ``toc()`` rows of a Monitor(2) over 3 training batches of ``multi_net`` (or
    ``fanout_net`` for ``net="fanout"``): the forward outputs that the symbol's
    ``get_internals()`` names and the backward nodes' outputs (``*_backward_*``), then the
    arguments and auxiliary states (MXNet also reports hidden outputs such as BatchNorm's
    ``bn_mean``/``bn_var``; the shim does not)."""
    kwargs = dict(monitor_kwargs)
    net = {"fanout": fanout_net}.get(kwargs.pop("net", None), multi_net)
    rng = np.random.RandomState(5)
    with mx.name.NameManager():  # auto names from 0, whatever ran before
        sym = net(mx)
    keep = set(sym.get_internals().list_outputs())
    mod = mx.mod.Module(sym)
    mod.bind(data_shapes=[("data", (8, 5))], label_shapes=[("softmax_label", (8,))])
    mod.init_params(mx.init.Constant(0.1), aux_params=None)
    if net is fanout_net:  # weights that break the symmetry, the same on both sides
        args, auxs = mod.get_params()
        mod.set_params({k: mx.nd.array(rng.uniform(-0.5, 0.5, v.shape)) for k, v in
                        sorted(args.items())}, auxs)
    mod.init_optimizer(optimizer="sgd", optimizer_params={"learning_rate": 0.1})
    mon = mx.mon.Monitor(2, **kwargs)
    mod.install_monitor(mon)
    rows = []
    for _ in range(3):
        batch = mx.io.DataBatch([mx.nd.array(rng.randn(8, 5))],
                                [mx.nd.array(rng.randint(0, 4, 8))])
        mon.tic()
        mod.forward_backward(batch)
        mod.update()
        rows += [[n, k, v] for n, k, v in mon.toc() if k in keep or "_backward_" in k]
    return rows


def legacy_monitor_names(mx):
    """The names an executor's monitor callback sees for MakeLoss(SliceChannel(a)[0] + b):
    legacy operators' backward outputs and an add (no backward node)."""
    with mx.name.NameManager():
        a, b = mx.sym.Variable("a"), mx.sym.Variable("b")
        out = mx.sym.MakeLoss(mx.sym.SliceChannel(a, num_outputs=2, axis=1, name="sc")[0] + b,
                              name="ml")
    ex = out.simple_bind(mx.cpu(), a=(2, 4), b=(2, 2))
    names = []
    ex.set_monitor_callback(lambda name, arr: names.append(
        name.decode() if isinstance(name, bytes) else name))
    ex.forward(is_train=True)
    ex.backward()
    mx.nd.waitall()
    return names


MONITOR_CASES = {"default": {}, "sorted_fc": {"pattern": "fc.*", "sort": True},
                 "fanout": {"net": "fanout"}}
