"""symgrad: derive, prove and generate code for the gradients of a computation graph.

The public API, and the one module above every stage (see README, "How the code is organised"):

>>> import symgrad
>>> model = symgrad.load("derivations/logistic_regression.toml")
>>> derivation = symgrad.derive(model)          # also model.derive()
>>> derivation.per_example["dz"]
a - y
>>> print(symgrad.check(model, "dz", "y - a").status)
refuted
>>> "def backward(params, cache, X, Y):" in symgrad.codegen(derivation)
True
>>> symgrad.prove(derivation).title
'Logistic regression as a single neuron'

Importing symgrad is cheap (``symgrad --version`` answers without SymPy): the stages are
imported when first used. The notebook conveniences (``Model.derive``, ``Model.check``,
``Model._repr_svg_``, ``Derivation._repr_latex_``) are defined here and registered with
:mod:`symgrad.model.extensions`, so that the model and the calculus never import the stages
above them.
"""

from ._version import __version__
from .model.errors import SpecError
from .model.extensions import extend

_LAZY = {"Derivation": "calculus.derivation", "Model": "model.graph", "load": "model.spec",
         "loads": "model.spec"}


def __getattr__(name):
    """``symgrad.load``, ``symgrad.Model``...: their modules imported on first use."""
    if name not in _LAZY:
        raise AttributeError(f"module 'symgrad' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value


def derive(model):
    """Every partial derivative of ``model``, per example and over m examples."""
    from .calculus.derivation import derive as derive_model

    return derive_model(model)


def check(model, name: str, claim: str | None = None, *, batch: bool | None = None):
    """Check a hand-derived derivative: ``check(model, "dz", "a - y")`` gives a verdict, proven,
    refuted or not proven (see :mod:`symgrad.claims`)."""
    from .claims.checker import check as check_claim

    return check_claim(model, name, claim, batch=batch)


def codegen(derivation) -> str:
    """The standalone NumPy training module for ``derivation``, as text."""
    from .code.render import render

    return render(derivation)


def prove(derivation):
    """The proof of ``derivation``, every line checked: a :class:`~symgrad.proof.blocks.Proof`;
    ``symgrad.proof.document.render(proof, "latex" | "markdown")`` writes it out."""
    from .proof.build import prove as build_and_check

    return build_and_check(derivation)


def _svg(model) -> str | None:
    """The computation graph in notebooks (None without Graphviz's dot)."""
    from .proof.drawing import svg

    return svg(model)


def _latex(derivation) -> str:
    """The results as display math in notebooks."""
    from .proof.document import summary_latex

    return summary_latex(derivation)


extend("Model", derive=derive, check=check, _repr_svg_=_svg)
extend("Derivation", _repr_latex_=_latex)


__all__ = ["Derivation", "Model", "SpecError", "__version__", "check", "codegen", "derive",
           "load", "loads", "prove"]
