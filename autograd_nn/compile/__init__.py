"""``ag.compile``: a traced function becomes straight-line numpy code, with the ops' own rules
interpreted a third way (symbols that emit source). See docs/compile.md."""

from .api import CompiledFunction, CompiledOp, compile
from .trace import CompileError

__all__ = ["CompileError", "CompiledFunction", "CompiledOp", "compile"]
