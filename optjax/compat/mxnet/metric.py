"""``mx.metric``: MXNet 1.9.1's evaluation metrics, with its accumulation rules.

Every metric keeps a *local* running pair (``sum_metric``, ``num_inst``) that
``reset_local()`` clears (``Speedometer(auto_reset=True)`` does so at each log) and a
*global* pair that only ``reset()`` clears; ``get()`` returns
``(name, sum_metric / num_inst)`` and ``get_global()`` the global ratio (``nan``
before any update). What one ``update(labels, preds)`` adds is MXNet's:

- ``Accuracy``, ``TopKAccuracy``: correct predictions / examples;
- ``CrossEntropy``, ``NegativeLogLikelihood``: ``sum(-log(p[label] + eps))`` / examples;
- ``Perplexity``: ``exp(sum(-log(max(1e-10, p[label]))) / tokens)``, ignoring ``ignore_label``;
- ``MAE``, ``MSE``, ``RMSE``, ``PearsonCorrelation`` (macro): the per-batch (per label
  array) value, averaged over batches, not over examples;
- ``F1``, ``MCC``: ``average='macro'`` averages the per-``update`` score;
  ``'micro'`` scores the pooled confusion counts;
- ``PCC``: Matthews correlation of the pooled multi-class confusion matrix;
- ``Loss``: sum of the predictions / their number.

Example:
    >>> import optjax.compat.mxnet as mx
    >>> acc = mx.metric.create('acc')
    >>> acc.update([mx.nd.array([0, 1, 1])], [mx.nd.array([[0.7, 0.3], [0.2, 0.8], [0.9, 0.1]])])
    >>> name, value = acc.get()
    >>> name, round(float(value), 4)
    ('accuracy', 0.6667)
"""

from __future__ import annotations

import functools
import json
import math
import warnings
from collections import OrderedDict
from typing import Any, Callable, Dict, List, Optional, Tuple

import jax
import jax.numpy as jnp
import numpy

from optjax.compat.mxnet import ndarray as nd

__all__ = ["EvalMetric", "CompositeEvalMetric", "Accuracy", "TopKAccuracy", "F1", "MCC",
           "Perplexity", "MAE", "MSE", "RMSE", "CrossEntropy", "NegativeLogLikelihood",
           "PearsonCorrelation", "PCC", "Loss", "Torch", "Caffe", "CustomMetric", "np",
           "create", "register", "alias", "check_label_shapes"]

_numeric_types = (float, int, numpy.generic)


def _f64(x):
    return numpy.float64(x) if isinstance(x, numpy.floating) else x


def _is_array(x) -> bool:
    return isinstance(x, (nd.NDArray, numpy.ndarray))


def _asnumpy(x) -> numpy.ndarray:
    return x.asnumpy() if isinstance(x, nd.NDArray) else numpy.asarray(x)


def check_label_shapes(labels, preds, wrap: bool = False, shape: bool = False):
    """Raise ValueError unless ``labels`` and ``preds`` have equal lengths (``shape``:
    equal shapes); ``wrap`` turns a single array into a one-element list."""
    if not shape:
        label_shape, pred_shape = len(labels), len(preds)
    else:
        label_shape, pred_shape = labels.shape, preds.shape
    if label_shape != pred_shape:
        raise ValueError("Shape of labels {} does not match shape of predictions {}"
                         .format(label_shape, pred_shape))
    if wrap:
        if _is_array(labels):
            labels = [labels]
        if _is_array(preds):
            preds = [preds]
    return labels, preds


class EvalMetric:
    """Base class of metrics: subclasses implement ``update(labels, preds)`` adding to
    ``sum_metric``/``num_inst`` (and the ``global_`` pair when ``has_global_stats``)."""

    def __init__(self, name: str, output_names=None, label_names=None, **kwargs):
        self.name = str(name)
        self.output_names = output_names
        self.label_names = label_names
        self._has_global_stats = kwargs.pop("has_global_stats", False)
        self._kwargs = kwargs
        self.reset()

    def __str__(self):
        return "EvalMetric: {}".format(dict(self.get_name_value()))

    def get_config(self) -> Dict[str, Any]:
        """The arguments that ``create(**config)`` turns back into this metric."""
        config = self._kwargs.copy()
        config.update({"metric": self.__class__.__name__, "name": self.name,
                       "output_names": self.output_names, "label_names": self.label_names})
        return config

    def update_dict(self, label: Dict[str, Any], pred: Dict[str, Any]) -> None:
        """``update`` with the arrays of the dicts named by ``label_names``/``output_names``
        (all values, in order, when those are None)."""
        pred = [pred[n] for n in self.output_names] if self.output_names is not None \
            else list(pred.values())
        label = [label[n] for n in self.label_names] if self.label_names is not None \
            else list(label.values())
        self.update(label, pred)

    def update(self, labels, preds) -> None:
        raise NotImplementedError()

    def reset(self) -> None:
        """Clear local and global statistics."""
        self.num_inst = 0
        self.sum_metric = 0.0
        self.global_num_inst = 0
        self.global_sum_metric = 0.0

    def reset_local(self) -> None:
        """Clear local statistics only."""
        self.num_inst = 0
        self.sum_metric = 0.0

    def get(self) -> Tuple[Any, Any]:
        """``(name, local value)``."""
        if self.num_inst == 0:
            return (self.name, float("nan"))
        return (self.name, self.sum_metric / self.num_inst)

    def get_global(self) -> Tuple[Any, Any]:
        """``(name, global value)`` (the local one for metrics without global stats)."""
        if self._has_global_stats:
            if self.global_num_inst == 0:
                return (self.name, float("nan"))
            return (self.name, self.global_sum_metric / self.global_num_inst)
        return self.get()

    @staticmethod
    def _pairs(name, value):
        if not isinstance(name, list):
            name = [name]
        if not isinstance(value, list):
            value = [value]
        return list(zip(name, value))

    def get_name_value(self) -> List[Tuple[str, Any]]:
        """``[(name, local value)]``."""
        return self._pairs(*self.get())

    def get_global_name_value(self) -> List[Tuple[str, Any]]:
        """``[(name, global value)]``."""
        if self._has_global_stats:
            return self._pairs(*self.get_global())
        return self.get_name_value()


_REGISTRY: Dict[str, type] = {}


def register(klass: type, name: Optional[str] = None) -> type:
    """Register a metric class for :func:`create` under ``name`` (default: the class
    name), case-insensitively."""
    if not (isinstance(klass, type) and issubclass(klass, EvalMetric)):
        raise TypeError("register: can only register subclasses of EvalMetric, got %r" % (klass,))
    name = (klass.__name__ if name is None else name).lower()
    if name in _REGISTRY:
        warnings.warn("New metric %s.%s registered with name %s is overriding existing metric "
                      "%s.%s" % (klass.__module__, klass.__name__, name,
                                 _REGISTRY[name].__module__, _REGISTRY[name].__name__),
                      UserWarning, stacklevel=2)
    _REGISTRY[name] = klass
    return klass


def alias(*aliases: str) -> Callable[[type], type]:
    """Class decorator registering a metric under extra names."""
    def reg(klass):
        for name in aliases:
            register(klass, name)
        return klass
    return reg


def _create(metric, /, *args, **kwargs) -> EvalMetric:
    if isinstance(metric, EvalMetric):
        if args or kwargs:
            raise ValueError("metric %r is already an instance; additional arguments are invalid"
                             % (metric,))
        return metric
    if isinstance(metric, dict):
        kwargs = dict(metric)
        return _create(kwargs.pop("metric"), **kwargs)
    if not isinstance(metric, str):
        raise TypeError("metric must be a name, an EvalMetric, a callable or a list; got %s"
                        % type(metric).__name__)
    if metric.startswith("["):
        name, kwargs = json.loads(metric)
        return _create(name, **kwargs)
    if metric.startswith("{"):
        return _create(json.loads(metric))
    key = metric.lower()
    if key not in _REGISTRY:
        raise ValueError("metric: unknown metric %r; known metrics: %s (or register one with "
                         "mx.metric.register)" % (metric, ", ".join(sorted(_REGISTRY))))
    return _REGISTRY[key](*args, **kwargs)


def create(metric, *args, **kwargs) -> EvalMetric:
    """A metric from a registered name (``'acc'``, ``'ce'``, ``'mse'``, ...), an
    ``EvalMetric`` (returned as is), a callable ``feval(label, pred)`` (a
    :class:`CustomMetric`), a config dict, or a list of those (a
    :class:`CompositeEvalMetric`)."""
    if callable(metric) and not isinstance(metric, EvalMetric):
        return CustomMetric(metric, *args, **kwargs)
    if isinstance(metric, list):
        composite = CompositeEvalMetric()
        for child in metric:
            composite.add(create(child, *args, **kwargs))
        return composite
    return _create(metric, *args, **kwargs)


def _flatten_get(metrics, method):
    names, values = [], []
    for metric in metrics:
        name, value = getattr(metric, method)()
        if isinstance(name, str):
            name = [name]
        if isinstance(value, _numeric_types):
            value = [value]
        names.extend(name)
        values.extend(value)
    return (names, values)


@register
@alias("composite")
class CompositeEvalMetric(EvalMetric):
    """Several metrics updated together; ``get()`` returns ``([names], [values])``."""

    def __init__(self, metrics=None, name: str = "composite", output_names=None,
                 label_names=None):
        super().__init__(name, output_names=output_names, label_names=label_names,
                         has_global_stats=True)
        self.metrics = [create(i) for i in (metrics or [])]

    def add(self, metric) -> None:
        """Append a metric (anything :func:`create` accepts)."""
        self.metrics.append(create(metric))

    def get_metric(self, index: int) -> EvalMetric:
        try:
            return self.metrics[index]
        except IndexError:
            raise ValueError("Metric index {} is out of range 0 and {}".format(
                index, len(self.metrics))) from None

    def update_dict(self, labels, preds):  # pylint: disable=arguments-renamed
        if self.label_names is not None:
            labels = OrderedDict([i for i in labels.items() if i[0] in self.label_names])
        if self.output_names is not None:
            preds = OrderedDict([i for i in preds.items() if i[0] in self.output_names])
        for metric in self.metrics:
            metric.update_dict(labels, preds)

    def update(self, labels, preds):
        for metric in self.metrics:
            metric.update(labels, preds)

    def reset(self):
        for metric in getattr(self, "metrics", []):
            metric.reset()

    def reset_local(self):
        for metric in getattr(self, "metrics", []):
            metric.reset_local()

    def get(self):
        return _flatten_get(self.metrics, "get")

    def get_global(self):
        return _flatten_get(self.metrics, "get_global")

    def get_config(self):
        config = super().get_config()
        config.update({"metrics": [i.get_config() for i in self.metrics]})
        return config


class _GlobalMetric(EvalMetric):
    """A metric whose ``update`` adds the same amount to local and global stats."""

    def _add(self, value, count) -> None:
        # MXNet's numpy (<1.24) promotes ``python float + numpy.float32`` to float64;
        # numpy 2 keeps float32: accumulate in float64 as MXNet does
        value = _f64(value)
        count = _f64(count)
        self.sum_metric += value
        self.global_sum_metric += value
        self.num_inst += count
        self.global_num_inst += count


@register
@alias("acc")
class Accuracy(_GlobalMetric):
    """Fraction of correct predictions; ``preds`` of another shape than ``labels`` are
    class scores reduced by ``argmax`` over ``axis`` (default 1).

    With NDArray predictions and labels, the count of correct predictions is computed on
    the device (one compiled call, the same argmax and int32 comparison) and read back
    only when ``sum_metric``/``global_sum_metric`` (or ``get``) are read, so that a
    training loop never waits for its step here (MXNet reads each batch back)."""

    def __init__(self, axis: int = 1, name: str = "accuracy", output_names=None,
                 label_names=None):
        self._pending = []  # device counts not yet added to the sums
        super().__init__(name, axis=axis, output_names=output_names, label_names=label_names,
                         has_global_stats=True)
        self.axis = axis

    def _fold(self) -> None:
        pending = self.__dict__.get("_pending")
        if pending:
            self._pending = []
            for count in jax.device_get(pending):
                value = numpy.int64(count)
                self._sum_metric += value
                self._global_sum_metric += value

    @property
    def sum_metric(self):
        self._fold()
        return self._sum_metric

    @sum_metric.setter
    def sum_metric(self, value):
        self._fold()
        self._sum_metric = value

    @property
    def global_sum_metric(self):
        self._fold()
        return self._global_sum_metric

    @global_sum_metric.setter
    def global_sum_metric(self, value):
        self._fold()
        self._global_sum_metric = value

    def update(self, labels, preds):
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred_label in zip(labels, preds):
            if isinstance(label, nd.NDArray) and isinstance(pred_label, nd.NDArray):
                scores = pred_label.shape != label.shape
                n_pred = pred_label.size // pred_label.shape[self.axis] if scores \
                    else pred_label.size
                check_label_shapes(range(label.size), range(n_pred))
                pred, lab = pred_label._data, label._data
                if lab.devices() != pred.devices():  # a slice on another context
                    lab = jax.device_put(lab, pred.sharding)
                self._pending.append(_num_correct(pred, lab, axis=self.axis, scores=scores))
                self.num_inst += n_pred
                self.global_num_inst += n_pred
                continue
            pred_label = _asnumpy(pred_label)
            label = _asnumpy(label)
            if pred_label.shape != label.shape:
                pred_label = numpy.argmax(pred_label, axis=self.axis)
            pred_label = pred_label.astype("int32").ravel()
            label = label.astype("int32").ravel()
            check_label_shapes(label, pred_label)
            self._add((pred_label == label).sum(), len(pred_label))


@functools.partial(jax.jit, static_argnames=("axis", "scores"))
def _num_correct(pred, label, axis, scores):
    """``Accuracy``'s count on the device: argmax of the scores (first maximum, as numpy),
    both sides cast to int32."""
    if scores:
        pred = jnp.argmax(pred, axis=axis)
    return jnp.sum(pred.astype(jnp.int32).ravel() == label.astype(jnp.int32).ravel())


@register
@alias("top_k_accuracy", "top_k_acc")
class TopKAccuracy(_GlobalMetric):
    """Fraction of examples whose label is among the ``top_k`` (> 1) highest scores;
    named ``top_k_accuracy_<k>``."""

    def __init__(self, top_k: int = 1, name: str = "top_k_accuracy", output_names=None,
                 label_names=None):
        super().__init__(name, top_k=top_k, output_names=output_names, label_names=label_names,
                         has_global_stats=True)
        self.top_k = top_k
        if self.top_k <= 1:
            raise ValueError("TopKAccuracy: top_k must be > 1 (use Accuracy for top_k=1), got %r"
                             % (top_k,))
        self.name += "_%d" % self.top_k

    def update(self, labels, preds):
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred_label in zip(labels, preds):
            if len(pred_label.shape) > 2:
                raise ValueError("TopKAccuracy: predictions must have at most 2 dims, got shape %s"
                                 % (pred_label.shape,))
            pred_label = numpy.argpartition(_asnumpy(pred_label).astype("float32"), -self.top_k)
            label = _asnumpy(label).astype("int32")
            check_label_shapes(label, pred_label)
            num_samples = pred_label.shape[0]
            if pred_label.ndim == 1:
                # MXNet adds 1-d hits to the local sum only
                self.sum_metric += (pred_label.flat == label.flat).sum()
            else:
                num_classes = pred_label.shape[1]
                for j in range(min(num_classes, self.top_k)):
                    num_correct = (pred_label[:, num_classes - 1 - j].flat == label.flat).sum()
                    self.sum_metric += num_correct
                    self.global_sum_metric += num_correct
            self.num_inst += num_samples
            self.global_num_inst += num_samples


class _BinaryClassificationMetrics:
    """Confusion counts (local and global) of binary predictions ``argmax(pred, 1)``."""

    def __init__(self):
        self.reset_stats()

    def update_binary_stats(self, label, pred):
        pred = _asnumpy(pred)
        label = _asnumpy(label).astype("int32")
        pred_label = numpy.argmax(pred, axis=1)
        check_label_shapes(label, pred)
        if len(numpy.unique(label)) > 2:
            raise ValueError("%s currently only supports binary classification."
                             % self.__class__.__name__)
        pred_true = (pred_label == 1)
        pred_false = 1 - pred_true
        label_true = (label == 1)
        label_false = 1 - label_true
        for attr, value in (("true_positives", (pred_true * label_true).sum()),
                            ("false_positives", (pred_true * label_false).sum()),
                            ("false_negatives", (pred_false * label_true).sum()),
                            ("true_negatives", (pred_false * label_false).sum())):
            setattr(self, attr, getattr(self, attr) + value)
            setattr(self, "global_" + attr, getattr(self, "global_" + attr) + value)

    @staticmethod
    def _ratio(num, other):
        return float(num) / (num + other) if num + other > 0 else 0.

    @staticmethod
    def _f(precision, recall):
        return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.

    @property
    def precision(self):
        return self._ratio(self.true_positives, self.false_positives)

    @property
    def global_precision(self):
        return self._ratio(self.global_true_positives, self.global_false_positives)

    @property
    def recall(self):
        return self._ratio(self.true_positives, self.false_negatives)

    @property
    def global_recall(self):
        return self._ratio(self.global_true_positives, self.global_false_negatives)

    @property
    def fscore(self):
        return self._f(self.precision, self.recall)

    @property
    def global_fscore(self):
        return self._f(self.global_precision, self.global_recall)

    def matthewscc(self, use_global: bool = False) -> float:
        """Matthews correlation of the counts (zero factors of the denominator skipped)."""
        p = "global_" if use_global else ""
        if not (self.global_total_examples if use_global else self.total_examples):
            return 0.
        tp, fp, fn, tn = (float(getattr(self, p + a)) for a in
                          ("true_positives", "false_positives", "false_negatives",
                           "true_negatives"))
        denom = 1.
        for t in (tp + fp, tp + fn, tn + fp, tn + fn):
            if t != 0.:
                denom *= t
        return ((tp * tn) - (fp * fn)) / math.sqrt(denom)

    @property
    def total_examples(self):
        return self.false_negatives + self.false_positives + self.true_negatives + \
            self.true_positives

    @property
    def global_total_examples(self):
        return self.global_false_negatives + self.global_false_positives + \
            self.global_true_negatives + self.global_true_positives

    def local_reset_stats(self):
        self.false_positives = self.false_negatives = 0
        self.true_positives = self.true_negatives = 0

    def reset_stats(self):
        self.local_reset_stats()
        self.global_false_positives = self.global_false_negatives = 0
        self.global_true_positives = self.global_true_negatives = 0


class _BinaryMetric(EvalMetric):
    """F1 / MCC: ``'macro'`` averages per-update scores, ``'micro'`` scores pooled counts."""

    def __init__(self, name, output_names, label_names, average):
        if average not in ("macro", "micro"):
            raise ValueError("%s: average must be 'macro' or 'micro', got %r"
                             % (type(self).__name__, average))
        self.average = average
        self._average = average
        self.metrics = _BinaryClassificationMetrics()
        self._metrics = self.metrics
        super().__init__(name=name, output_names=output_names, label_names=label_names,
                         has_global_stats=True)

    def _score(self, use_global):
        raise NotImplementedError

    def update(self, labels, preds):
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            self.metrics.update_binary_stats(label, pred)
        if self.average == "macro":
            self.sum_metric += self._score(False)
            self.global_sum_metric += self._score(True)
            self.num_inst += 1
            self.global_num_inst += 1
            self.metrics.reset_stats()
        else:
            self.sum_metric = self._score(False) * self.metrics.total_examples
            self.global_sum_metric = self._score(True) * self.metrics.global_total_examples
            self.num_inst = self.metrics.total_examples
            self.global_num_inst = self.metrics.global_total_examples

    def reset(self):
        self.sum_metric = 0.
        self.num_inst = 0
        self.global_num_inst = 0
        self.global_sum_metric = 0.0
        self.metrics.reset_stats()

    def reset_local(self):
        self.sum_metric = 0.
        self.num_inst = 0
        self.metrics.local_reset_stats()


@register
class F1(_BinaryMetric):
    """Binary F1 score ``2 P R / (P + R)`` of ``argmax(pred, 1)`` against 0/1 labels."""

    def __init__(self, name: str = "f1", output_names=None, label_names=None,
                 average: str = "macro"):
        super().__init__(name, output_names, label_names, average)

    def _score(self, use_global):
        return self.metrics.global_fscore if use_global else self.metrics.fscore


@register
class MCC(_BinaryMetric):
    """Binary Matthews correlation coefficient of ``argmax(pred, 1)`` against 0/1 labels."""

    def __init__(self, name: str = "mcc", output_names=None, label_names=None,
                 average: str = "macro"):
        super().__init__(name, output_names, label_names, average)

    def _score(self, use_global):
        return self.metrics.matthewscc(use_global=use_global)


@register
class Perplexity(_GlobalMetric):
    """``exp(mean(-log p[label]))`` over tokens, skipping labels equal to ``ignore_label``
    (required argument; None keeps every token); ``axis``: the class axis."""

    def __init__(self, ignore_label, axis: int = -1, name: str = "perplexity",
                 output_names=None, label_names=None):
        super().__init__(name, ignore_label=ignore_label, output_names=output_names,
                         label_names=label_names, has_global_stats=True)
        self.ignore_label = ignore_label
        self.axis = axis

    def update(self, labels, preds):
        if len(labels) != len(preds):
            raise ValueError("Perplexity: %d labels but %d predictions" % (len(labels), len(preds)))
        loss = 0.
        num = 0
        for label, pred in zip(labels, preds):
            label, pred = _asnumpy(label), _asnumpy(pred)
            if label.size != pred.size / pred.shape[-1]:
                raise ValueError("shape mismatch: %s vs. %s" % (label.shape, pred.shape))
            label = label.reshape((label.size,))
            index = numpy.expand_dims(label.astype("int32"), self.axis)
            picked = numpy.take_along_axis(pred, index, axis=self.axis).squeeze(self.axis)
            if self.ignore_label is not None:
                ignore = (label == self.ignore_label).astype(picked.dtype)
                num -= _f64(ignore.sum())
                picked = picked * (1 - ignore) + ignore
            loss -= _f64(numpy.log(numpy.maximum(picked.dtype.type(1e-10), picked)).sum())
            num += picked.size
        self._add(loss, num)

    def get(self):
        if self.num_inst == 0:
            return (self.name, float("nan"))
        return (self.name, math.exp(self.sum_metric / self.num_inst))

    def get_global(self):
        if self.global_num_inst == 0:
            return (self.name, float("nan"))
        return (self.name, math.exp(self.global_sum_metric / self.global_num_inst))


class _RegressionMetric(_GlobalMetric):
    """A per-label-array regression error, averaged over arrays (MXNet's rule)."""

    def __init__(self, name, output_names=None, label_names=None):
        super().__init__(name, output_names=output_names, label_names=label_names,
                         has_global_stats=True)

    @staticmethod
    def _error(label, pred):
        raise NotImplementedError

    def update(self, labels, preds):
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            label, pred = _asnumpy(label), _asnumpy(pred)
            if len(label.shape) == 1:
                label = label.reshape(label.shape[0], 1)
            if len(pred.shape) == 1:
                pred = pred.reshape(pred.shape[0], 1)
            self._add(self._error(label, pred), 1)


@register
class MAE(_RegressionMetric):
    """Mean absolute error ``mean(|label - pred|)`` per batch, averaged over batches."""

    def __init__(self, name: str = "mae", output_names=None, label_names=None):
        super().__init__(name, output_names, label_names)

    @staticmethod
    def _error(label, pred):
        return numpy.abs(label - pred).mean()


@register
class MSE(_RegressionMetric):
    """Mean squared error ``mean((label - pred)**2)`` per batch, averaged over batches."""

    def __init__(self, name: str = "mse", output_names=None, label_names=None):
        super().__init__(name, output_names, label_names)

    @staticmethod
    def _error(label, pred):
        return ((label - pred) ** 2.0).mean()


@register
class RMSE(_RegressionMetric):
    """Root mean squared error per batch, averaged over batches (not the root of the
    overall mean)."""

    def __init__(self, name: str = "rmse", output_names=None, label_names=None):
        super().__init__(name, output_names, label_names)

    @staticmethod
    def _error(label, pred):
        return numpy.sqrt(((label - pred) ** 2.0).mean())


class _LogProbMetric(_GlobalMetric):
    """``sum(-log(pred[i, label[i]] + eps))`` / examples."""

    def __init__(self, eps, name, output_names, label_names):
        super().__init__(name, eps=eps, output_names=output_names, label_names=label_names,
                         has_global_stats=True)
        self.eps = eps

    def update(self, labels, preds):
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            label, pred = _asnumpy(label).ravel(), _asnumpy(pred)
            if label.shape[0] != pred.shape[0]:
                raise ValueError("%s: %d labels but %d predictions"
                                 % (type(self).__name__, label.shape[0], pred.shape[0]))
            prob = pred[numpy.arange(label.shape[0], dtype=numpy.int64), numpy.int64(label)]
            self._add((-numpy.log(prob + self.eps)).sum(), label.shape[0])


@register
@alias("ce")
class CrossEntropy(_LogProbMetric):
    """Cross entropy of predicted probabilities at the labels, per example."""

    def __init__(self, eps: float = 1e-12, name: str = "cross-entropy", output_names=None,
                 label_names=None):
        super().__init__(eps, name, output_names, label_names)


@register
@alias("nll_loss")
class NegativeLogLikelihood(_LogProbMetric):
    """Negative log likelihood of predicted probabilities at the labels, per example."""

    def __init__(self, eps: float = 1e-12, name: str = "nll-loss", output_names=None,
                 label_names=None):
        super().__init__(eps, name, output_names, label_names)


@register
@alias("pearsonr")
class PearsonCorrelation(EvalMetric):
    """Pearson correlation of predictions and labels: ``'macro'`` averages per-batch
    ``corrcoef``; ``'micro'`` pools all values with streaming (Welford) moments."""

    def __init__(self, name: str = "pearsonr", output_names=None, label_names=None,
                 average: str = "macro"):
        if average not in ("macro", "micro"):
            raise ValueError("PearsonCorrelation: average must be 'macro' or 'micro', got %r"
                             % (average,))
        self.average = average
        super().__init__(name, output_names=output_names, label_names=label_names,
                         has_global_stats=True)
        if self.average == "micro":
            self.reset_micro()

    def reset_micro(self):
        self._sse_p = 0
        self._mean_p = 0
        self._sse_l = 0
        self._mean_l = 0
        self._pred_nums = 0
        self._label_nums = 0
        self._conv = 0

    def reset(self):
        super().reset()
        if self.average == "micro":
            self.reset_micro()

    @staticmethod
    def update_variance(new_values, *aggregate):
        count, mean, m_2 = aggregate
        count += len(new_values)
        delta = new_values - mean
        mean += numpy.sum(delta / count)
        delta_2 = new_values - mean
        m_2 += numpy.sum(delta * delta_2)
        return count, mean, m_2

    def update_cov(self, label, pred):
        self._conv = self._conv + numpy.sum((label - self._mean_l) * (pred - self._mean_p))

    def update(self, labels, preds):
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            check_label_shapes(label, pred, False, True)
            label = _asnumpy(label).ravel().astype(numpy.float64)
            pred = _asnumpy(pred).ravel().astype(numpy.float64)
            if self.average == "macro":
                pearson_corr = numpy.corrcoef(pred, label)[0, 1]
                self.sum_metric += pearson_corr
                self.global_sum_metric += pearson_corr
                self.num_inst += 1
                self.global_num_inst += 1
            else:
                self.global_num_inst += 1
                self.num_inst += 1
                self._label_nums, self._mean_l, self._sse_l = \
                    self.update_variance(label, self._label_nums, self._mean_l, self._sse_l)
                self.update_cov(label, pred)
                self._pred_nums, self._mean_p, self._sse_p = \
                    self.update_variance(pred, self._pred_nums, self._mean_p, self._sse_p)

    def get(self):
        if self.num_inst == 0:
            return (self.name, float("nan"))
        if self.average == "macro":
            return (self.name, self.sum_metric / self.num_inst)
        n = self._label_nums
        pearsonr = self._conv / ((n - 1) * numpy.sqrt(self._sse_p / (n - 1))
                                 * numpy.sqrt(self._sse_l / (n - 1)))
        return (self.name, pearsonr)


@register
class PCC(EvalMetric):
    """Multi-class Matthews correlation (PCC) of the pooled confusion matrix; the matrix
    grows with the largest class seen."""

    def __init__(self, name: str = "pcc", output_names=None, label_names=None,
                 has_global_stats: bool = True):
        self.k = 2
        super().__init__(name=name, output_names=output_names, label_names=label_names,
                         has_global_stats=has_global_stats)

    def _grow(self, inc):
        self.lcm = numpy.pad(self.lcm, ((0, inc), (0, inc)), "constant", constant_values=(0))
        self.gcm = numpy.pad(self.gcm, ((0, inc), (0, inc)), "constant", constant_values=(0))
        self.k += inc

    @staticmethod
    def _calc_mcc(cmat):
        n = cmat.sum()
        x = cmat.sum(axis=1)
        y = cmat.sum(axis=0)
        cov_xx = numpy.sum(x * (n - x))
        cov_yy = numpy.sum(y * (n - y))
        if cov_xx == 0 or cov_yy == 0:
            return float("nan")
        i = cmat.diagonal()
        cov_xy = numpy.sum(i * n - x * y)
        return cov_xy / (cov_xx * cov_yy) ** 0.5

    def update(self, labels, preds):
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            label = _asnumpy(label).astype("int32")
            pred = _asnumpy(pred)
            pred = pred.argmax(axis=1) if pred.shape != label.shape else pred.astype("int32")
            n = max(pred.max(), label.max())
            if n >= self.k:
                self._grow(n + 1 - self.k)
            bcm = numpy.zeros((self.k, self.k))
            for i, j in zip(pred, label):
                bcm[i, j] += 1
            self.lcm += bcm
            self.gcm += bcm
        self.num_inst += 1
        self.global_num_inst += 1

    @property
    def sum_metric(self):
        return self._calc_mcc(self.lcm) * self.num_inst

    @property
    def global_sum_metric(self):
        return self._calc_mcc(self.gcm) * self.global_num_inst

    def reset(self):
        self.global_num_inst = 0.
        self.gcm = numpy.zeros((self.k, self.k))
        self.reset_local()

    def reset_local(self):
        self.num_inst = 0.
        self.lcm = numpy.zeros((self.k, self.k))


@register
class Loss(_GlobalMetric):
    """Mean of the predictions (the network outputs a loss); labels are ignored."""

    def __init__(self, name: str = "loss", output_names=None, label_names=None):
        super().__init__(name, output_names=output_names, label_names=label_names,
                         has_global_stats=True)

    def update(self, _, preds):
        if _is_array(preds):
            preds = [preds]
        for pred in preds:
            pred = _asnumpy(pred)
            self._add(pred.sum(), pred.size)


@register
class Torch(Loss):
    """``Loss`` named ``torch``."""

    def __init__(self, name: str = "torch", output_names=None, label_names=None):
        super().__init__(name, output_names=output_names, label_names=label_names)


@register
class Caffe(Loss):
    """``Loss`` named ``caffe``."""

    def __init__(self, name: str = "caffe", output_names=None, label_names=None):
        super().__init__(name, output_names=output_names, label_names=label_names)


@register
class CustomMetric(_GlobalMetric):
    """A metric from ``feval(label, pred)`` on numpy arrays, returning a value (counted
    as one instance) or a ``(sum_metric, num_inst)`` pair."""

    def __init__(self, feval: Callable, name: Optional[str] = None,
                 allow_extra_outputs: bool = False, output_names=None, label_names=None):
        if name is None:
            name = feval.__name__
            if name.find("<") != -1:
                name = "custom(%s)" % name
        super().__init__(name, feval=feval, allow_extra_outputs=allow_extra_outputs,
                         output_names=output_names, label_names=label_names,
                         has_global_stats=True)
        self._feval = feval
        self._allow_extra_outputs = allow_extra_outputs

    def update(self, labels, preds):
        if not self._allow_extra_outputs:
            labels, preds = check_label_shapes(labels, preds, True)
        for pred, label in zip(preds, labels):
            reval = self._feval(_asnumpy(label), _asnumpy(pred))
            if isinstance(reval, tuple):
                self._add(*reval)
            else:
                self._add(reval, 1)

    def get_config(self):
        raise NotImplementedError("CustomMetric cannot be serialized")


def np(numpy_feval: Callable, name: Optional[str] = None,
       allow_extra_outputs: bool = False) -> CustomMetric:
    """A :class:`CustomMetric` from a function of numpy ``(label, pred)``."""
    def feval(label, pred):
        return numpy_feval(label, pred)
    feval.__name__ = numpy_feval.__name__
    return CustomMetric(feval, name, allow_extra_outputs)
