"""Symbol graphs built the same way on real MXNet (generator) and on the shim (tests):
each case is ``build(mx) -> (symbol, input shapes for infer_shape)``."""


def notes_softmax(mx):
    data = mx.symbol.Variable("data")
    label = mx.symbol.Variable("softmax_label")
    fc = mx.symbol.FullyConnected(data, name="fc", num_hidden=10)
    return mx.symbol.SoftmaxOutput(fc, label, name="softmax"), {"data": (128, 20)}


def auto_names(mx):
    data = mx.sym.Variable("data", shape=(0, 20), lr_mult=2.0, wd_mult=0.5)
    fc = mx.sym.FullyConnected(data, num_hidden=10)
    bn = mx.sym.BatchNorm(fc, fix_gamma=False, eps=2e-5)
    act = mx.sym.Activation(bn, act_type="relu")
    y = act * 2 + fc - 1
    y = (1 - y) / 3 + mx.sym.exp(y) * y
    z = mx.sym.SoftmaxOutput(y, normalization="batch", grad_scale=0.5)
    return z, {"data": (4, 20)}


def conv_net(mx):
    data = mx.sym.Variable("data")
    c = mx.sym.Convolution(data, kernel=(3, 3), num_filter=6, pad=(1, 1), name="conv")
    p = mx.sym.Pooling(c, pool_type="max", kernel=(2, 2), stride=(2, 2))
    d = mx.sym.Deconvolution(p, kernel=(2, 2), num_filter=3, stride=(2, 2), no_bias=True)
    lr = mx.sym.LeakyReLU(d, act_type="prelu")
    f = mx.sym.Flatten(lr)
    r = mx.sym.Reshape(f, shape=(0, -1, 4))
    s = mx.sym.SliceChannel(r, num_outputs=2, axis=2)
    cat = mx.sym.Concat(s[0], s[1], dim=1)
    out = mx.sym.LinearRegressionOutput(mx.sym.sum(cat, axis=2), name="lro")
    return out, {"data": (2, 3, 8, 8)}


def group_and_internals(mx):
    a = mx.sym.Variable("a")
    b = mx.sym.Variable("b", dtype="float32", init=mx.init.Constant(2.0))
    e = mx.sym.Embedding(a, input_dim=7, output_dim=3, name="emb")
    dp = mx.sym.Dropout(e, p=0.3)
    m = mx.sym.mean(dp, axis=1)
    ls = mx.sym.log_softmax(m)
    blk = mx.sym.BlockGrad(ls)
    mk = mx.sym.MakeLoss(mx.sym.broadcast_add(blk, b), name="loss")
    return mx.sym.Group([mk, ls, mx.sym.dot(m, b, transpose_b=True)]), {"a": (5, 4), "b": (5, 3)}


def creation(mx):
    x = mx.sym.Variable("x")
    z = mx.sym.zeros((2, 3)) + mx.sym.ones((2, 3), dtype="float32") * mx.sym.full((2, 3), 7)
    a = mx.sym.Reshape(mx.sym.arange(0, 3, 0.5), shape=(2, 3))
    return mx.sym.Group([z + mx.sym.zeros_like(x) + a, mx.sym.ones_like(x),
                         mx.sym.arange(2, 11, 3, repeat=2, dtype="int32"), mx.sym.arange(5),
                         mx.sym.full((2,), 3, dtype="int32")]), {"x": (2, 3)}


CASES = {"notes_softmax": notes_softmax, "auto_names": auto_names, "conv_net": conv_net,
         "group_and_internals": group_and_internals, "creation": creation}
