r"""``symgrad codegen``: one standalone NumPy module that trains a model by gradient descent.

A derivation becomes a :class:`~symgrad.code.context.CodeContext` of plain strings
(:mod:`symgrad.code.context`, or :mod:`symgrad.code.layers_context` for a model with
``[layers]``), which the Jinja template ``train.py.jinja`` lays out.

>>> from symgrad import load
>>> lines = render(load("derivations/logistic_regression.toml").derive()).splitlines()
>>> start = lines.index("def backward(params, cache, X, Y):")
>>> print(*lines[start + 3:start + 12], sep="\n")
    xp = array_namespace(X)
    A = cache["A"]
    m = X.shape[1]
    # dZ = A - Y
    dZ = A - Y
    # dw = dJ/dw = (X @ dZ.T)/m
    dw = X @ dZ.T / m
    # db = dJ/db = sum(dZ)/m
    db = xp.sum(dZ) / m
"""

from __future__ import annotations

from ..calculus.derivation import derive
from ..model.spec import load
from ..printing.templates import environment
from .context import CodeContext, _Builder
from .layers_context import build_layers_context
from .selfcheck import self_check

TEMPLATE = "train.py.jinja"


def build_context(derivation) -> CodeContext:
    """Every name, shape and printed expression of the generated module."""
    if derivation.model.stack is not None:
        return build_layers_context(derivation)
    return _Builder(derivation).build()


def render(derivation, *, check: bool = True) -> str:
    """The generated module for a derivation, as text, once it has passed codegen's
    self-check (:mod:`symgrad.code.selfcheck`; ``check=False`` skips it)."""
    text = environment().get_template(TEMPLATE).render(ctx=build_context(derivation))
    if check:
        self_check(derivation, text)
    return text


def render_spec(path) -> str:
    """The generated module for a spec file."""
    return render(derive(load(path)))
