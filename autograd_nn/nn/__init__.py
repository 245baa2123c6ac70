"""Neural-network building blocks: `Module`, `Parameter`, layers, losses, ``functional`` (F),
``init``, and ``.npz`` parameter files (`save`, `load`)."""

from . import functional, init
from .conv import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    Conv1d,
    Conv2d,
    ConvTranspose1d,
    ConvTranspose2d,
    MaxPool1d,
    MaxPool2d,
)
from .layers import (
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ModuleList,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
    Unflatten,
)
from .losses import (
    BCELoss,
    BCEWithLogitsLoss,
    BinaryCrossEntropy,
    CrossEntropyLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
)
from .module import IncompatibleKeys, Module, Parameter, StateDictError
from .normalization import BatchNorm1d, BatchNorm2d, Embedding, GroupNorm, LayerNorm
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .serialization import SerializationError, load, save
from .torch_interop import from_torch_state_dict, to_torch_state_dict

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "BinaryCrossEntropy", "CrossEntropyLoss", "Dropout",
    "Flatten", "Identity", "IncompatibleKeys", "L1Loss", "LeakyReLU", "Linear", "LogSoftmax",
    "MSELoss", "Module", "ModuleList", "NLLLoss", "Parameter", "ReLU", "Sequential",
    "SerializationError", "Sigmoid", "Softmax", "Softplus", "StateDictError", "Tanh",
    "functional", "init", "load", "save",
    # layers beyond the MLP
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AvgPool1d", "AvgPool2d", "BatchNorm1d",
    "BatchNorm2d", "Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "Embedding", "GRU",
    "GRUCell", "GroupNorm", "LSTM", "LSTMCell", "LayerNorm", "MaxPool1d", "MaxPool2d", "RNN",
    "RNNCell", "Unflatten", "from_torch_state_dict", "to_torch_state_dict",
]
