"""``mx.io``: MXNet 1.9.1's data iterators (``NDArrayIter``, ``ResizeIter``,
``PrefetchingIter``, ``CSVIter``, ``MNISTIter``) and their ``DataBatch``/``DataDesc``."""

from optjax.compat.mxnet.io.files import CSVIter, MNISTIter  # noqa: F401
from optjax.compat.mxnet.io.io import (DataBatch, DataDesc, DataIter, NDArrayIter,  # noqa: F401
                                       PrefetchingIter, ResizeIter)

__all__ = ["DataBatch", "DataDesc", "DataIter", "NDArrayIter", "PrefetchingIter", "ResizeIter",
           "CSVIter", "MNISTIter"]
