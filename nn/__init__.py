"""nn: modules, layers, losses, initializers, optimizers, schedules and safe checkpoints,
after ``torch.nn`` (same names and defaults).

    >>> import minigrad as mg, nn
    >>> model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
    >>> opt = nn.optim.Adam(model.parameters(), lr=1e-2)

Owns: the public names of ``nn``. May import: minigrad's public API and ``nn``'s modules;
never ``transformer``.
"""

from nn import functional, init, optim, parallel, schedule, testing, utils
from nn.attention import (  # attention, distances, parameter containers (issue h15)
    CosineSimilarity,
    MultiheadAttention,
    PairwiseDistance,
)
from nn.checkpoint import CheckpointError, load, save
from nn.containers import ParameterDict, ParameterList
from nn.conv import (  # convolution and pooling (issue h15)
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    Conv1d,
    Conv2d,
    MaxPool1d,
    MaxPool2d,
)
from nn.layers import (
    ELU,
    GELU,
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    Dropout,
    Embedding,
    Flatten,
    Identity,
    KLDivLoss,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    MSELoss,
    NLLLoss,
    ReLU,
    RMSNorm,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
    Unflatten,
)
from nn.module import (
    IncompatibleKeys,
    Module,
    ModuleDict,
    ModuleList,
    Parameter,
    Sequential,
    StateDictError,
)
from nn.normalization import (  # batch, group and instance norm (issue h15)
    BatchNorm1d,
    BatchNorm2d,
    GroupNorm,
    InstanceNorm1d,
    InstanceNorm2d,
)
from nn.recurrent import (  # recurrent layers (issue h15)
    GRU,
    LSTM,
    RNN,
    GRUCell,
    LSTMCell,
    RNNCell,
)

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "ELU",
    "Flatten",
    "KLDivLoss",
    "LeakyReLU",
    "LogSoftmax",
    "NLLLoss",
    "SiLU",
    "Softplus",
    "Unflatten",
    "CheckpointError",
    "GELU",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "Identity",
    "IncompatibleKeys",
    "LayerNorm",
    "Linear",
    "MSELoss",
    "Module",
    "ModuleDict",
    "ModuleList",
    "Parameter",
    "ReLU",
    "RMSNorm",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "StateDictError",
    "Tanh",
    "functional",
    "init",
    "load",
    "optim",
    "parallel",
    "save",
    "schedule",
    "testing",
    "utils",
    # convolution, pooling, normalization (issue h15)
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv1d",
    "Conv2d",
    "GroupNorm",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "MaxPool1d",
    "MaxPool2d",
    "GRU",
    "GRUCell",
    "LSTM",
    "LSTMCell",
    "RNN",
    "RNNCell",
    "CosineSimilarity",
    "MultiheadAttention",
    "PairwiseDistance",
    "ParameterDict",
    "ParameterList",
]
