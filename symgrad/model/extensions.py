"""Methods that the stages above attach to the model's classes, without being imported here.

``symgrad/__init__.py`` registers the notebook conveniences (``Model.derive``, ``Model.check``,
``Model._repr_svg_``, ``Derivation._repr_latex_``) by class name; an :class:`Extensible`
instance finds them when they are looked up. So the model and the calculus never import the
stages above them, and ``import symgrad`` imports no stage at all (``symgrad --version`` needs
no SymPy).

>>> class Thing(Extensible):
...     pass
>>> extend("Thing", twice=lambda self, x: 2 * x)
>>> Thing().twice(21)
42
"""

from __future__ import annotations

from collections.abc import Callable

METHODS: dict[str, dict[str, Callable]] = {}


def extend(class_name: str, **methods: Callable) -> None:
    """Give the instances of the class named ``class_name`` these methods."""
    METHODS.setdefault(class_name, {}).update(methods)


class Extensible:
    """A class whose instances also have the methods registered for it with :func:`extend`."""

    def __getattr__(self, name):  # only for names the class itself does not have
        method = METHODS.get(type(self).__name__, {}).get(name)
        if method is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return method.__get__(self)
