"""``mx.gluon.data.vision`` datasets read from local files in their standard formats;
nothing is downloaded. A missing file raises ``FileNotFoundError`` naming the
expected files and the ``root`` searched.

- ``MNIST``/``FashionMNIST``: ``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``
  (``t10k-*`` for ``train=False``), gzipped or not, under ``root`` (default
  ``~/.mxnet/datasets/mnist`` / ``fashion-mnist``, or ``$MXNET_HOME/datasets/...``);
  samples are ``(uint8 NDArray (28, 28, 1), int32 label)``.
- ``CIFAR10``: ``data_batch_1.bin`` ... ``data_batch_5.bin`` / ``test_batch.bin`` (the
  binary version) under ``root`` or ``root/cifar-10-batches-bin`` (default
  ``~/.mxnet/datasets/cifar10``); samples are ``(uint8 NDArray (32, 32, 3), int32 label)``.

``transform(data, label)``, when given, maps each sample, as in MXNet.
"""

from __future__ import annotations

import os
from typing import Callable, List, Optional

import jax.numpy as jnp
import numpy as np

from optjax.compat.mxnet import ndarray as nd
from optjax.compat.mxnet.ndarray.ndarray import from_jax
from optjax.compat.mxnet.gluon.data.dataset import Dataset
from optjax.compat.mxnet.io.files import read_idx

__all__ = ["MNIST", "FashionMNIST", "CIFAR10"]


def _data_dir() -> str:
    return os.environ.get("MXNET_HOME", os.path.join("~", ".mxnet"))


def _find(root: str, names: List[str], dataset: str) -> str:
    for name in names:
        path = os.path.join(root, name)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError("%s: none of %s found in root=%r (nothing is downloaded; put the "
                            "dataset's files there or pass root=)" % (dataset, names, root))


class _LocalDataset(Dataset):
    def __init__(self, root: str, transform: Optional[Callable]):
        self._root = os.path.expanduser(root)
        self._transform = transform
        self._data = None
        self._label = None
        self._get_data()

    def __getitem__(self, idx):
        data = self._item(idx)
        if self._transform is not None:
            return self._transform(data, self._label[idx])
        return data, self._label[idx]

    def _item(self, idx):
        """Image ``idx`` as a new NDArray (MXNet returns a view of ``_data``; a copy made
        from the host array avoids compiling one slice per index)."""
        if isinstance(idx, (int, np.integer)):
            return from_jax(jnp.asarray(self._host[idx]))
        return self._data[idx]

    def __len__(self):
        return len(self._label)

    def _get_data(self):
        raise NotImplementedError


class MNIST(_LocalDataset):
    """MNIST digits: ``(28, 28, 1)`` uint8 images and int32 labels."""

    _name = "mnist"

    def __init__(self, root: str = os.path.join(_data_dir(), "datasets", "mnist"),
                 train: bool = True, transform: Optional[Callable] = None):
        self._train = train
        super().__init__(root, transform)

    def _get_data(self):
        prefix = "train" if self._train else "t10k"
        names = [prefix + "-images-idx3-ubyte", prefix + "-labels-idx1-ubyte"]
        found = [_find(self._root, [n + ".gz", n], type(self).__name__) for n in names]
        data = read_idx(found[0])
        label = read_idx(found[1]).astype(np.int32)
        if data.shape[0] != label.shape[0]:
            raise ValueError("%s: %s holds %d images but %s holds %d labels"
                             % (type(self).__name__, found[0], data.shape[0], found[1],
                                label.shape[0]))
        data = data.reshape(len(label), 28, 28, 1)
        self._host = data
        self._data = nd.array(data, dtype=data.dtype)
        self._label = label


class FashionMNIST(MNIST):
    """Fashion-MNIST: the same files and layout as :class:`MNIST`."""

    def __init__(self, root: str = os.path.join(_data_dir(), "datasets", "fashion-mnist"),
                 train: bool = True, transform: Optional[Callable] = None):
        super().__init__(root, train, transform)


class CIFAR10(_LocalDataset):
    """CIFAR-10 (binary version): ``(32, 32, 3)`` uint8 images and int32 labels."""

    _train_files = ["data_batch_%d.bin" % i for i in range(1, 6)]
    _test_files = ["test_batch.bin"]
    _label_bytes = 1

    def __init__(self, root: str = os.path.join(_data_dir(), "datasets", "cifar10"),
                 train: bool = True, transform: Optional[Callable] = None):
        self._train = train
        super().__init__(root, transform)

    def _read_batch(self, filename):
        with open(filename, "rb") as fin:
            raw = np.frombuffer(fin.read(), dtype=np.uint8)
        rec = 3072 + self._label_bytes
        if raw.size % rec:
            raise ValueError("%s: %s is not a CIFAR binary batch (size %d is not a multiple of %d)"
                             % (type(self).__name__, filename, raw.size, rec))
        data = raw.reshape(-1, rec)
        return (data[:, self._label_bytes:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1),
                data[:, self._label_bytes - 1].astype(np.int32))

    def _get_data(self):
        files = self._train_files if self._train else self._test_files
        roots = [self._root, os.path.join(self._root, "cifar-10-batches-bin")]
        base = next((r for r in roots if all(os.path.isfile(os.path.join(r, f)) for f in files)),
                    None)
        if base is None:
            raise FileNotFoundError("%s: expected %s in root=%r or its cifar-10-batches-bin/ "
                                    "(nothing is downloaded; put the binary batches there or pass "
                                    "root=)" % (type(self).__name__, files, self._root))
        data, label = zip(*(self._read_batch(os.path.join(base, f)) for f in files))
        data = np.concatenate(data)
        self._host = data
        self._data = nd.array(data, dtype=data.dtype)
        self._label = np.concatenate(label)
