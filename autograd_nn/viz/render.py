"""Rendering through Graphviz's ``dot`` program, with an install hint when it is missing.

graphviz is imported on first use, not when autograd_nn (or autograd_nn.viz) is imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    import graphviz  # no stubs: a Digraph is Any to mypy

INSTALL_HINT = (
    "graphviz's `dot` program was not found on PATH, so the graph cannot be rendered to {fmt} "
    "(the DOT text is still available as graph.source). Install Graphviz: "
    "`sudo apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS), "
    "`conda install -c conda-forge graphviz`, or https://graphviz.org/download/ (Windows)."
)


def _graphviz() -> Any:
    try:
        import graphviz
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise ImportError(
            "autograd_nn.viz needs the graphviz Python package: pip install graphviz"
        ) from e
    return graphviz


_CLASSES: list[tuple[type, type[RuntimeError]]] = []  # (Digraph, DotNotFound) once made


def _classes() -> tuple[type, type[RuntimeError]]:
    """(Digraph, DotNotFound), made on first use so graphviz is imported lazily."""
    if _CLASSES:
        return _CLASSES[0]
    _graphviz()  # the install hint when the package is missing
    import graphviz  # bound as a module so its classes can be subclassed (it has no stubs)

    class DotNotFound(graphviz.ExecutableNotFound):
        """graphviz's ``dot`` is missing; the message says how to install it."""

        def __init__(self, fmt: Any) -> None:
            RuntimeError.__init__(self, INSTALL_HINT.format(fmt=fmt))

    class Digraph(graphviz.Digraph):
        """A graphviz.Digraph made by autograd_nn.viz (render/pipe explain a missing ``dot``)."""

        def render(self, *args: Any, **kwargs: Any) -> Any:
            return self._explained(super().render, args, kwargs,
                                   lambda: kwargs.get("format") or self.format)

        def pipe(self, *args: Any, **kwargs: Any) -> Any:
            return self._explained(super().pipe, args, kwargs,
                                   lambda: kwargs.get("format") or (args or [self.format])[0])

        @staticmethod
        def _explained(call: Any, args: tuple, kwargs: dict, fmt: Any) -> Any:
            """``call(*args, **kwargs)``, a missing ``dot`` raised as `DotNotFound` for the
            format ``fmt()``."""
            try:
                return call(*args, **kwargs)
            except DotNotFound:
                raise
            except graphviz.ExecutableNotFound as e:
                raise DotNotFound(fmt()) from e

        def _repr_mimebundle_(self, include: Any = None, exclude: Any = None,
                              **kwargs: Any) -> dict[str, Any]:
            """Jupyter's display: SVG (``image/svg+xml``); without ``dot``, the DOT text with
            the install hint (``text/plain``), not a traceback."""
            try:
                return super()._repr_mimebundle_(include, exclude, **kwargs)
            except graphviz.ExecutableNotFound:
                return {"text/plain": missing_dot_text(self.source)}

    Digraph.__module__ = DotNotFound.__module__ = __name__
    _CLASSES.append((Digraph, DotNotFound))
    return Digraph, DotNotFound


def missing_dot_text(source: str) -> str:
    """What a notebook shows for a graph when ``dot`` is missing: the hint, then the DOT."""
    return INSTALL_HINT.format(fmt="SVG") + "\n\n" + source


def digraph_class() -> type:
    """``graphviz.Digraph`` whose render/pipe (and so Jupyter's display) explain how to
    install ``dot`` when it is missing; the error is still a ``graphviz.ExecutableNotFound``."""
    return _classes()[0]


@overload
def render(graph: graphviz.Digraph, path: None = None, format: str | None = None) -> bytes: ...
@overload
def render(graph: graphviz.Digraph, path: str | Path, format: str | None = None) -> Path: ...
def render(graph: graphviz.Digraph, path: str | Path | None = None,
           format: str | None = None) -> bytes | Path:
    """Render a Digraph with graphviz's ``pipe``: write it to ``path`` (format from the suffix
    unless given) and return the path, or return the bytes when ``path`` is None (default SVG).

    When graphviz's ``dot`` program is missing this raises a ``RuntimeError`` (a
    ``graphviz.ExecutableNotFound``) saying how to install Graphviz.
    """
    graphviz = _graphviz()
    _, DotNotFound = _classes()
    if format is None:
        format = Path(path).suffix.lstrip(".").lower() if path is not None else "svg"
        if not format:
            raise ValueError(f"render: cannot tell the format of {str(path)!r}; pass format=")
    try:
        data = graph.pipe(format=format)
    except DotNotFound:
        raise
    except graphviz.ExecutableNotFound as e:
        raise DotNotFound(format) from e
    if path is None:
        return data
    Path(path).write_bytes(data)
    return Path(path)
