"""``mx.gluon.nn``: MXNet 1.9.1's layers, each a HybridBlock over registry operators."""

from optjax.compat.mxnet.gluon.block import Block, HybridBlock  # noqa: F401
from optjax.compat.mxnet.gluon.nn.activations import (ELU, GELU, SELU, Activation,  # noqa: F401
                                                      LeakyReLU, PReLU, Swish)
from optjax.compat.mxnet.gluon.nn.basic_layers import (  # noqa: F401
    BatchNorm, Dense, Dropout, Embedding, Flatten, HybridLambda, HybridSequential, InstanceNorm,
    Lambda, LayerNorm, Sequential)
from optjax.compat.mxnet.gluon.nn.conv_layers import (  # noqa: F401
    AvgPool1D, AvgPool2D, AvgPool3D, Conv1D, Conv2D, Conv2DTranspose, Conv3D, GlobalAvgPool1D,
    GlobalAvgPool2D, GlobalAvgPool3D, GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D,
    MaxPool1D, MaxPool2D, MaxPool3D)

__all__ = ["Block", "HybridBlock", "Sequential", "HybridSequential", "Dense", "Dropout",
           "BatchNorm", "InstanceNorm", "LayerNorm", "Embedding", "Flatten", "Lambda",
           "HybridLambda", "Activation", "LeakyReLU", "PReLU", "ELU", "SELU", "Swish", "GELU",
           "Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "MaxPool1D", "MaxPool2D", "MaxPool3D",
           "AvgPool1D", "AvgPool2D", "AvgPool3D", "GlobalMaxPool1D", "GlobalMaxPool2D",
           "GlobalMaxPool3D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D"]
