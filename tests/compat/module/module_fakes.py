"""Small stand-ins for ``mx.io.NDArrayIter`` and ``mx.metric.Accuracy`` (their public API,
MXNet's semantics for what these tests use), so Module tests do not depend on those modules."""

import numpy as np

import optjax.compat.mxnet as mx


class Desc(tuple):
    def __new__(cls, name, shape, dtype=np.float32):
        t = super().__new__(cls, (name, tuple(shape)))
        t.name, t.shape, t.dtype, t.layout = name, tuple(shape), dtype, "NCHW"
        return t


class Batch:
    def __init__(self, data, label, pad=0, provide_data=None, provide_label=None):
        self.data, self.label, self.pad = data, label, pad
        self.provide_data, self.provide_label = provide_data, provide_label
        self.index = None


class ArrayIter:
    """Batches in order (the data size is a multiple of ``batch_size``), no shuffling."""

    def __init__(self, X, Y=None, batch_size=1, label_name="softmax_label"):
        self.X, self.Y, self.bs, self.label_name = np.asarray(X, np.float32), Y, batch_size, label_name
        self.batch_size = batch_size
        self.cursor = 0

    @property
    def provide_data(self):
        return [Desc("data", (self.bs,) + self.X.shape[1:])]

    @property
    def provide_label(self):
        return [] if self.Y is None else [Desc(self.label_name, (self.bs,) + np.shape(self.Y)[1:])]

    def reset(self):
        self.cursor = 0

    def __iter__(self):
        return self

    def __next__(self):
        if self.cursor >= len(self.X):
            raise StopIteration
        s = slice(self.cursor, self.cursor + self.bs)
        self.cursor += self.bs
        label = [] if self.Y is None else [mx.nd.array(np.asarray(self.Y, np.float32)[s])]
        return Batch([mx.nd.array(self.X[s])], label)

    next = __next__


class Accuracy:
    """MXNet's Accuracy: argmax over axis 1, local and global counts."""

    def __init__(self):
        self.name = "accuracy"
        self.reset()

    def reset(self):
        self.sum_metric = self.num_inst = 0
        self.global_sum_metric = self.global_num_inst = 0

    def update_dict(self, labels, preds):
        for label, pred in zip(labels.values(), preds.values()):
            p = np.argmax(pred.asnumpy(), axis=1).astype("int32").ravel()
            lab = label.asnumpy().astype("int32").ravel()
            correct = int((p == lab).sum())
            self.sum_metric += correct
            self.global_sum_metric += correct
            self.num_inst += len(p)
            self.global_num_inst += len(p)

    def get_name_value(self):
        return [(self.name, self.sum_metric / self.num_inst if self.num_inst else float("nan"))]

    def get_global_name_value(self):
        return [(self.name, self.global_sum_metric / self.global_num_inst
                 if self.global_num_inst else float("nan"))]
