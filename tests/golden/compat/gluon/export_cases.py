"""Models exported by ``HybridBlock.export`` and imported by ``SymbolBlock.imports``: the same
program under real MXNet 1.9.1 (``gen_mxnet_export.py``) and the shim
(``gen_shim_export.py``, ``tests/compat/gluon/test_export_import.py``).

Weights are set from a fixed NumPy stream in parameter order, so both systems hold
the same numbers; the BatchNorm statistics are set too, so predictions use them.
"""

import numpy as np

NAMES = ("lenet", "two_inputs")


def build(mx, name):
    """``(hybridized net with fixed weights, list of input arrays)`` (NumPy inputs)."""
    nn = mx.gluon.nn
    rng = np.random.default_rng(7)
    if name == "lenet":
        net = nn.HybridSequential(prefix="lenet_")
        with net.name_scope():
            net.add(nn.Conv2D(4, 3, activation="relu"), nn.BatchNorm(), nn.MaxPool2D(),
                    nn.Flatten(), nn.Dense(8, activation="tanh"), nn.Dropout(0.5), nn.Dense(3))
        inputs = [rng.normal(size=(2, 1, 8, 8)).astype(np.float32)]
    else:
        class TwoInputs(mx.gluon.HybridBlock):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                with self.name_scope():
                    self.a = nn.Dense(4, in_units=3)
                    self.b = nn.Dense(4, in_units=5, use_bias=False)
                    self.scale = self.params.get("scale", shape=(4,))

            def hybrid_forward(self, F, x, y, scale):
                h = F.broadcast_mul(F.relu(self.a(x) + self.b(y)), scale.reshape((1, -1)))
                return h, F.softmax(h, axis=-1)

        net = TwoInputs(prefix="two_")
        inputs = [rng.normal(size=(2, 3)).astype(np.float32),
                  rng.normal(size=(2, 5)).astype(np.float32)]
    net.initialize()
    net.hybridize()
    net(*[mx.nd.array(x) for x in inputs])  # completes deferred shapes; export needs a call
    for _, p in sorted(net.collect_params().items()):
        value = rng.normal(size=p.shape).astype(np.float32) * 0.5
        if p.name.endswith("running_var"):
            value = np.abs(value) + 0.5
        p.set_data(mx.nd.array(value))
    return net, inputs


def predict(mx, block, inputs) -> list:
    """The block's outputs (predict mode) as NumPy arrays."""
    out = block(*[mx.nd.array(x) for x in inputs])
    return [o.asnumpy() for o in (out if isinstance(out, (list, tuple)) else [out])]


def input_names(inputs) -> list:
    return ["data"] if len(inputs) == 1 else [f"data{i}" for i in range(len(inputs))]
