"""Expressions become text here, through SymPy printer subclasses.

``TextPrinter`` writes the notation of ``symgrad derive`` and of JSON batch forms: ``A @ B``,
``A.T``, ``sum(A)``, ``sum(A, axis=0)``.
"""

from __future__ import annotations

from sympy.printing.numpy import NumPyPrinter
from sympy.printing.str import StrPrinter

from .shapes import describe


class TextPrinter(StrPrinter):
    _default_settings = dict(StrPrinter._default_settings, order="none")

    def _print_matmul(self, expr):
        a, b = (self.parenthesize(x, 50) for x in expr.args)
        return f"{a} @ {b}"

    def _print_transpose(self, expr):
        inner = self._print(expr.args[0])
        return f"{inner}.T" if expr.args[0].is_Symbol else f"({inner}).T"

    def _print_total(self, expr):
        return f"sum({self._print(expr.args[0])})"

    def _print_colsum(self, expr):
        return f"sum({self._print(expr.args[0])}, axis=0)"

    def _print_rowsum(self, expr):
        return f"sum({self._print(expr.args[0])}, axis=1)"

    def _print_Heaviside(self, expr):
        return f"({self._print(expr.args[0])} > 0)"


class PerExamplePrinter(TextPrinter):
    """Per example a vector's sum is just ``sum(v)``."""

    def _print_colsum(self, expr):
        return f"sum({self._print(expr.args[0])})"


def batch_str(expr) -> str:
    return TextPrinter().doprint(expr)


def example_str(expr) -> str:
    return PerExamplePrinter().doprint(expr)


def text_report(derivation) -> str:
    model = derivation.model
    out = [f"{model.title}  ({model.source or model.name})", ""]
    out.append("forward, per example")
    for node in model.nodes:
        shape = describe(model.variables[node.name].shape)
        out.append(f"  {node.name:<6} = {node.text:<40} {shape}")
    out.append(f"  {model.cost.name:<6} = {model.cost.text}")
    graph = derivation.per_example_graph
    out += ["", f"per example: derivatives of {graph.output}"]
    width = max([len(k) for k in derivation.per_example] + [2])
    for name, expr in derivation.per_example.items():
        var = name[1:]
        out.append(f"  {name:<{width}} = d{graph.output}/d{var:<{width}} = {example_str(expr)}")
    if derivation.batch_graph is not None:
        out += ["", "over m examples (examples are the columns of X, Y; "
                    f"d<param> = d{derivation.batch_graph.output}/d<param>)"]
        out.append(f"  {derivation.batch_graph.output} = {batch_str(derivation.cost)} = "
                   f"{batch_str(derivation.cost_written_out)}")
        width = max(len(k) for k in derivation.batch) if derivation.batch else 2
        for name, expr in derivation.batch.items():
            out.append(f"  {name:<{width}} = {batch_str(expr)}")
    return "\n".join(out)


class NumpyPrinter(NumPyPrinter):
    """NumPy code for symgrad's expressions; used by lambdify and by the code generator.

    Elementwise functions that NumPy lacks (``sigmoid``, ``relu``, ``softplus``) are printed as
    calls by name: the generated module defines them stably, and :mod:`symgrad.numeric` passes
    the same definitions to ``lambdify``.
    """

    _default_settings = dict(NumPyPrinter._default_settings, fully_qualified_modules=True)

    def _print_matmul(self, expr):
        a, b = (self._print(x) for x in expr.args)
        return f"({a} @ {b})"

    def _print_transpose(self, expr):
        return f"{self.parenthesize(expr.args[0], 1000)}.T"

    def _print_total(self, expr):
        return f"{self._module_format('numpy.sum')}({self._print(expr.args[0])})"

    def _print_colsum(self, expr):
        return (f"{self._module_format('numpy.sum')}({self._print(expr.args[0])}, axis=0, "
                "keepdims=True)")

    def _print_rowsum(self, expr):
        return (f"{self._module_format('numpy.sum')}({self._print(expr.args[0])}, axis=1, "
                "keepdims=True)")

    def _print_Heaviside(self, expr):
        return f"({self._print(expr.args[0])} > 0)"

    def _print_sigmoid(self, expr):
        return f"sigmoid({self._print(expr.args[0])})"

    def _print_relu(self, expr):
        return f"relu({self._print(expr.args[0])})"

    def _print_softplus(self, expr):
        return f"softplus({self._print(expr.args[0])})"
