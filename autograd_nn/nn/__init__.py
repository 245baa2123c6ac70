"""Neural-network building blocks: `Module`, `Parameter`, layers, losses, ``functional`` (F),
``init``, and ``.npz`` parameter files (`save`, `load`)."""

from . import functional, init
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
from .serialization import SerializationError, load, save

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "BinaryCrossEntropy", "CrossEntropyLoss", "Dropout",
    "Flatten", "Identity", "IncompatibleKeys", "L1Loss", "LeakyReLU", "Linear", "LogSoftmax",
    "MSELoss", "Module", "ModuleList", "NLLLoss", "Parameter", "ReLU", "Sequential",
    "SerializationError", "Sigmoid", "Softmax", "Softplus", "StateDictError", "Tanh",
    "functional", "init", "load", "save",
]
