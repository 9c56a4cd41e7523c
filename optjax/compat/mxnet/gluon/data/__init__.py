"""``mx.gluon.data``: datasets, samplers, ``DataLoader`` and ``vision``, as MXNet 1.9.1's
package of the same name."""

from optjax.compat.mxnet.gluon.data import dataloader, dataset, sampler  # noqa: F401
from optjax.compat.mxnet.gluon.data.dataset import (ArrayDataset, Dataset,  # noqa: F401
                                                    RecordFileDataset, SimpleDataset)
from optjax.compat.mxnet.gluon.data.sampler import (BatchSampler, FilterSampler,  # noqa: F401
                                                    IntervalSampler, RandomSampler, Sampler,
                                                    SequentialSampler)
from optjax.compat.mxnet.gluon.data.dataloader import (DataLoader,  # noqa: F401
                                                       default_batchify_fn,
                                                       default_mp_batchify_fn)
from optjax.compat.mxnet.gluon.data import vision  # noqa: F401

__all__ = ["Dataset", "SimpleDataset", "ArrayDataset", "RecordFileDataset", "Sampler", "SequentialSampler",
           "RandomSampler", "FilterSampler", "BatchSampler", "IntervalSampler", "DataLoader",
           "default_batchify_fn", "default_mp_batchify_fn", "vision", "dataset", "sampler",
           "dataloader"]
