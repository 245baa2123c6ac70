"""The primitive operations (one `Function` each, forward and derivative side by side), the
composites built on them, and the functions with numpy's names that apply them. Each family
module registers its ops (registry.py) and lists its top-level ones in its ``__all__``; the
numpy.linalg families (linalg, decompositions, norms) are exported by ``autograd_nn.linalg``."""

from . import (
    arithmetic,
    contract,
    decompositions,
    diagonals,
    elementwise,
    elementwise_binary,
    elementwise_math,
    joining,
    linalg,
    manipulation,
    norms,
    ordering,
    reduce,
    shape,
)
from .arithmetic import *  # noqa: F403
from .contract import *  # noqa: F403
from .diagonals import *  # noqa: F403
from .elementwise import *  # noqa: F403
from .elementwise_binary import *  # noqa: F403
from .elementwise_math import *  # noqa: F403
from .joining import *  # noqa: F403
from .manipulation import *  # noqa: F403
from .ordering import *  # noqa: F403
from .reduce import *  # noqa: F403
from .shape import *  # noqa: F403

assert decompositions and linalg and norms  # registered on import; exported by autograd_nn.linalg
# one += per family: the form type checkers read, so ``from autograd_nn import sum`` is typed
__all__: list[str] = []
__all__ += arithmetic.__all__
__all__ += elementwise.__all__
__all__ += reduce.__all__
__all__ += shape.__all__
__all__ += elementwise_math.__all__
__all__ += elementwise_binary.__all__
__all__ += diagonals.__all__
__all__ += manipulation.__all__
__all__ += joining.__all__
__all__ += contract.__all__
__all__ += ordering.__all__
