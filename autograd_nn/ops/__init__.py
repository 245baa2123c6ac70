"""The primitive operations (one `Function` each, forward and derivative side by side), the
composites built on them, and the functions with numpy's names that apply them. Each family
module registers its ops (registry.py) and lists them in its ``__all__``."""

from . import arithmetic, elementwise, reduce, shape
from .arithmetic import *  # noqa: F403
from .elementwise import *  # noqa: F403
from .reduce import *  # noqa: F403
from .shape import *  # noqa: F403

__all__ = [*arithmetic.__all__, *elementwise.__all__, *reduce.__all__, *shape.__all__]
