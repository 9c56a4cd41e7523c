"""When BatchNorm's moving statistics change: programs run unchanged by real MXNet 1.9.1
(``gen_mxnet_bn_moving.py``) and by the shim (``tests/compat/gluon/test_bn_moving_stats.py``).

MXNet writes ``running_mean``/``running_var`` in the operator's backward pass,
as ``moving * momentum + batch statistic * (1 - momentum)`` with the moving value
read at that time; these programs pin that down for gluon (imperative and
hybridized), ``nd.BatchNorm`` and the symbol executor.
"""

import numpy as np

MOMENTUM = 0.5


def _data(shape, seed, scale=1.0):
    return (np.random.default_rng(seed).normal(size=shape) * scale + 2.0).astype(np.float32)


def gluon_cases(mx, hybridize):
    """``{case/what: array}`` for ``gluon.nn.BatchNorm`` scenarios."""
    autograd, nd = mx.autograd, mx.nd
    x = nd.array(_data((4, 3, 2), 0))
    x4 = nd.array(_data((2, 3, 4, 5), 1, 3.0))

    def make():
        net = mx.gluon.nn.BatchNorm(in_channels=3, momentum=MOMENTUM)
        net.initialize()
        if hybridize:
            net.hybridize()
        return net

    def stats(net):
        return {"mean": net.running_mean.data().asnumpy(), "var": net.running_var.data().asnumpy()}

    out = {}

    def put(case, net, **extra):
        for k, v in {**stats(net), **extra}.items():
            out[f"{case}/{k}"] = v

    n = make()
    with autograd.record():
        y = n(x)
    put("record_forward", n, y=y.asnumpy())
    y.backward()
    put("record_forward_backward", n)

    n = make()
    with autograd.train_mode():
        n(x)
    put("train_mode_forward", n)

    n = make()
    with autograd.record():
        s = n(x) + n(x * 3)
    s.backward()
    put("two_forwards_one_backward", n)

    n = make()
    with autograd.record():
        n(x)
        y2 = n(x * 3)
    y2.backward()
    put("two_forwards_backward_of_second", n)

    n = make()
    with autograd.record():
        y = n(x)
    y.backward(retain_graph=True)
    y.backward()
    put("backward_twice", n)

    n = make()
    with autograd.record():
        y = n(x)
    y.backward(train_mode=False)
    put("backward_predict_mode", n)

    n = make()
    with autograd.record(train_mode=False):
        y = n(x)
    y.backward()
    put("record_predict_mode_backward", n)

    n = make()
    with autograd.record():
        y = n(x)
    autograd.grad(y, [n.gamma.data()])
    put("autograd_grad", n)

    n = make()
    head = nd.array(_data((2, 3, 4, 5), 4))
    for step in range(3):
        with autograd.record():
            y = n(x4 * (step + 1))
            loss = y * head
        loss.backward()
    put("three_steps_4d", n, y=y.asnumpy(), gamma_grad=n.gamma.grad().asnumpy(),
        beta_grad=n.beta.grad().asnumpy())
    return out


def nd_cases(mx):
    """``mx.nd.BatchNorm`` on its own arrays."""
    autograd, nd = mx.autograd, mx.nd
    x = nd.array(_data((4, 3, 2), 2))
    out = {}

    def fresh():
        return nd.ones(3), nd.zeros(3), nd.zeros(3), nd.ones(3)

    g, b, mm, mv = fresh()
    with autograd.train_mode():
        nd.BatchNorm(x, g, b, mm, mv, momentum=MOMENTUM)
    out["train_mode/mean"], out["train_mode/var"] = mm.asnumpy(), mv.asnumpy()
    with autograd.record():
        nd.BatchNorm(x, g, b, mm, mv, momentum=MOMENTUM)
    out["record_no_variable/mean"] = mm.asnumpy()
    g.attach_grad()
    with autograd.record():
        y = nd.BatchNorm(x, g, b, mm, mv, momentum=MOMENTUM, fix_gamma=False)
    out["record_variable/mean"] = mm.asnumpy()
    y.backward()
    out["record_variable_backward/mean"] = mm.asnumpy()
    out["record_variable_backward/var"] = mv.asnumpy()
    out["record_variable_backward/gamma_grad"] = g.grad.asnumpy()
    return out


def executor_cases(mx):
    """A bound symbol's executor: ``forward(is_train=True)`` then ``backward``."""
    x = _data((4, 3, 2), 3)
    data = mx.sym.var("data")
    net = mx.sym.BatchNorm(data, momentum=MOMENTUM, name="bn")
    net = mx.sym.MakeLoss(mx.sym.sum(net))
    ex = net.simple_bind(mx.cpu(), data=(4, 3, 2))
    ex.arg_dict["data"][:] = x
    ex.arg_dict["bn_gamma"][:] = 1
    out = {}

    def put(case):
        out[f"{case}/mean"] = ex.aux_dict["bn_moving_mean"].asnumpy()
        out[f"{case}/var"] = ex.aux_dict["bn_moving_var"].asnumpy()

    ex.forward(is_train=True)
    put("forward")
    ex.backward()
    put("backward")
    ex.backward()
    put("backward_again")
    ex.forward(is_train=True, data=mx.nd.array(x * 3))
    put("forward_3x")
    ex.backward()
    put("backward_3x")
    ex.forward(is_train=False)
    put("forward_predict")
    return out


def run_all(mx):
    out = {}
    for hybridize in (False, True):
        for k, v in gluon_cases(mx, hybridize).items():
            out[f"gluon_{'hybrid' if hybridize else 'imperative'}/{k}"] = v
    for k, v in nd_cases(mx).items():
        out[f"nd/{k}"] = v
    for k, v in executor_cases(mx).items():
        out[f"executor/{k}"] = v
    return out
