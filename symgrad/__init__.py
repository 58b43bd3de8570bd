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

The notebook conveniences (``Model.derive``, ``Model.check``, ``Model._repr_svg_``,
``Derivation._repr_latex_``) are attached here, so that the model and the calculus never import
the stages above them.
"""

from ._version import __version__
from .calculus.derivation import Derivation
from .calculus.derivation import derive as _derive
from .model.errors import SpecError
from .model.graph import Model
from .model.spec import load, loads


def derive(model: Model) -> Derivation:
    """Every partial derivative of ``model``, per example and over m examples."""
    return _derive(model)


def check(model: Model, name: str, claim: str | None = None, *, batch: bool | None = None):
    """Check a hand-derived derivative: ``check(model, "dz", "a - y")`` gives a verdict, proven,
    refuted or not proven (see :mod:`symgrad.claims`)."""
    from .claims.checker import check as check_claim

    return check_claim(model, name, claim, batch=batch)


def codegen(derivation: Derivation) -> str:
    """The standalone NumPy training module for ``derivation``, as text."""
    from .code.render import render

    return render(derivation)


def prove(derivation: Derivation):
    """The proof of ``derivation``, every line checked: a :class:`~symgrad.proof.steps.Proof`;
    ``symgrad.proof.document.render(proof, "latex" | "markdown")`` writes it out."""
    from .proof.build import prove as build_and_check

    return build_and_check(derivation)


def _svg(model: Model) -> str | None:
    """The computation graph in notebooks (None without Graphviz's dot)."""
    from .proof.drawing import svg

    return svg(model)


def _latex(derivation: Derivation) -> str:
    """The results as display math in notebooks."""
    from .proof.document import summary_latex

    return summary_latex(derivation)


Model.derive = derive
Model.check = check
Model._repr_svg_ = _svg
Derivation._repr_latex_ = _latex

__all__ = ["Derivation", "Model", "SpecError", "__version__", "check", "codegen", "derive",
           "load", "loads", "prove"]
