"""Expressions become text here, through SymPy printer subclasses.

``TextPrinter`` writes the notation of ``symgrad derive`` and of JSON batch forms: ``A @ B``,
``A.T``, ``sum(A)``, ``sum(A, axis=0)``.
"""

from __future__ import annotations

import re
from decimal import Decimal, localcontext

from sympy import Dummy, Heaviside, Mul, Pow, Symbol, count_ops, expand
from sympy.printing.latex import LatexPrinter as _SympyLatexPrinter
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

from ..model import naming
from ..model.errors import SpecError
from ..model.escape import terminal_text
from ..model.ops import Structural, matmul
from ..model.shapes import SCALAR, describe, shape_of


def decimal(number) -> str | None:
    """A rational written as a decimal where a spec would have written it so: its denominator
    is a power of 10 times powers of 2 or 5 (8943/200000 is 0.044715, 1/10 is 0.1); None for
    the others (1/2, 1/3, 3/4 stay fractions). The derivation itself stays exact.

    >>> import sympy as sp
    >>> decimal(sp.Rational(8943, 200000)), decimal(sp.Rational(-1, 10)), decimal(sp.S.Half)
    ('0.044715', '-0.1', None)
    """
    if not number.is_Rational or number.is_Integer:
        return None
    q = int(number.q)
    if q % 10:
        return None
    while q % 2 == 0:
        q //= 2
    while q % 5 == 0:
        q //= 5
    if q != 1:
        return None
    with localcontext() as context:
        context.prec = 2 * len(str(number.q)) + len(str(number.p))
        return format(Decimal(int(number.p)) / Decimal(int(number.q)), "f")


def two_cases(expr):
    """``expr`` as ``where(u > 0, yes, no) * rest``, where its step functions are all of one
    ``u`` and take part in it only through ``yes`` and ``no``, both nonzero (a leaky ReLU's
    slope ``(1 + 99*(z > 0))/100`` is ``where(z > 0, 1, 0.01)``): ``(u, yes, no, rest)``, or
    None. With one branch 0, ``(u > 0)*...`` stays as it is.

    >>> import sympy as sp
    >>> z, g = sp.symbols("z g")
    >>> two_cases((1 + 99*sp.Heaviside(z, 0))*g/100)
    (z, 1, 1/100, g)
    """
    steps = expr.atoms(Heaviside)
    if len({h.args[0] for h in steps}) != 1 or count_ops(expr) > TWO_CASES_LIMIT:
        return None
    if expr.is_Add:  # all of it in the cases: only where every term takes part in them
        stepped = [a for a in expr.args if a.has(Heaviside)]
        others = set().union(*[a.free_symbols for a in expr.args if not a.has(Heaviside)])
        if not others <= set().union(*[a.free_symbols for a in stepped]):
            return None
        inside, outside = [expr], []
    elif expr.is_Mul:
        factors = Mul.make_args(expr)
        inside = [f for f in factors if f.has(Heaviside) or f.is_Number]
        outside = [f for f in factors if f not in inside]
    else:
        return None
    t = Dummy("t")
    cases = expand(Mul(*inside)).xreplace({h: t for h in steps})
    cases = cases.replace(lambda e: e.is_Pow and e.base == t and e.exp.is_Integer
                          and e.exp > 0, lambda e: t)  # Heaviside(u)**k = Heaviside(u)
    if not cases.has(t) or expand(cases).as_poly(t) is None or \
            expand(cases).as_poly(t).degree() != 1:
        return None
    yes, no = cases.subs(t, 1), cases.subs(t, 0)
    if yes == 0 or no == 0 or yes.has(Heaviside) or no.has(Heaviside):
        return None
    return steps.pop().args[0], yes, no, Mul(*outside)


TWO_CASES_LIMIT = 40  # operations: a larger expression is not looked at for two cases


def _step(expr) -> str:
    """The comparison a Heaviside step prints as: ``>`` (0 at 0), ``>=`` for ``Heaviside(z, 1)``."""
    return ">=" if len(expr.args) > 1 and expr.args[1] == 1 else ">"


class _Readable:
    """What the text and NumPy printers share: decimals (:func:`decimal`, which the LaTeX
    printer keeps too) and two cases of a step function as one ``where`` (:func:`two_cases`)."""

    def _where(self, u, yes, no) -> str:
        return f"where({self._print(u)} > 0, {self._print(yes)}, {self._print(no)})"

    def _print_Rational(self, expr):
        text = decimal(expr)
        return text if text is not None else super()._print_Rational(expr)

    def _print_Mul(self, expr):
        cases = two_cases(expr)
        if cases is not None:
            u, yes, no, rest = cases
            sign = ""
            if yes.could_extract_minus_sign() and no.could_extract_minus_sign():
                sign, yes, no = "-", -yes, -no
            where = sign + self._where(u, yes, no)
            if rest == 1:
                return where
            return f"{where}*{self.parenthesize(rest, PRECEDENCE['Mul'], strict=True)}"
        coeff, rest = expr.as_coeff_Mul()
        text = decimal(abs(coeff))
        if text is not None and rest != 1:
            sign = "-" if coeff < 0 else ""
            return f"{sign}{text}*{self.parenthesize(rest, PRECEDENCE['Mul'], strict=True)}"
        return StrPrinter._print_Mul(self, expr)

    def _print_Add(self, expr, order=None):
        cases = two_cases(expr)
        if cases is not None:
            return self._where(*cases[:3])
        return super()._print_Add(expr, order=order)


class TextPrinter(_Readable, StrPrinter):
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
        arg, op = expr.args[0], _step(expr)
        if (-arg).is_Symbol:  # Heaviside(-z) as the mask (z < 0)
            arg, op = -arg, op.replace(">", "<")
        return f"({self._print(arg)} {op} 0)"

    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"

    # a claim's NumPy 1-D arrays (symgrad.claims.scope), as NumPy writes them
    def _print_unkept(self, expr):
        (arg,) = expr.args
        return f"np.sum({self._print(arg.args[0])}, axis=1)"

    def _print_squeezed(self, expr):
        return f"np.squeeze({self._print(expr.args[0])})"


    def _print_diag(self, expr):
        return f"diag({self._print(expr.args[0])})"


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
    out = [terminal_text(f"{model.title}  ({model.source or model.name})"), ""]
    out.append("forward, per example")  # expressions printed from the parsed tree, not as typed
    for node in model.nodes:
        shape = describe(model.variables[node.name].shape)
        out.append(f"  {node.name:<6} = {example_str(node.expr):<40} {shape}")
    out.append(f"  {model.cost.name:<6} = {example_str(model.cost.expr)}")
    for mask, node, kept in model.dropouts():  # dropout(u, keep_prob): its mask, a constant
        out.append(f"  dropout in {node.name}: {mask.name} is a keep-mask, {mask.type}, drawn "
                   f"in training (each entry 1 with probability {mask.keep}, afresh for each "
                   "example and pass) and held constant by the derivation; at predict, "
                   f"{node.name} = {example_str(kept)}"
                   " (dropout is the identity)")
    graph = derivation.per_example_graph
    statistics = ", ".join(str(s) for s in model.statistics)
    given = f", given the batch statistics {statistics}" if statistics else ""
    out += ["", f"per example{given}: derivatives of {graph.output}"]
    width = max([len(k) for k in derivation.per_example] + [2])
    for name, expr in derivation.per_example.items():
        var = name[1:]
        out.append(f"  {name:<{width}} = d{graph.output}/d{var:<{width}} = {example_str(expr)}")
    if derivation.no_per_example:
        out.append(f"  no per-example form for {', '.join(derivation.no_per_example)}: the batch "
                   f"statistics {statistics} couple the examples (each example's "
                   f"{graph.output} depends on every example); see the forms over m examples")
    if derivation.batch_graph is not None:
        columns = ", ".join(naming.stacked(v.name) for v in model.inputs)
        out += ["", f"over m examples (examples are the columns of {columns}; "
                    f"d<param> = d{derivation.batch_graph.output}/d<param>)"]
        out.append(f"  {derivation.batch_graph.output} = {batch_str(derivation.cost)} = "
                   f"{batch_str(derivation.cost_written_out)}")
        width = max(len(k) for k in derivation.batch) if derivation.batch else 2
        for name, expr in derivation.batch.items():
            out.append(f"  {name:<{width}} = {batch_str(expr)}")
    if derivation.layer is not None:
        layer = derivation.layer_json()
        out += ["", f"hidden layer l = 1 .. L-1, derived once (shown above unrolled to "
                    f"L = {derivation.model.depth}; d{derivation.model.stack.out}[l] comes "
                    "from layer l+1)"]
        for title, table in (("per example", layer["per_example"]),
                             ("over m examples", layer["batch"])):
            out.append(f"  {title}")
            width = max(len(k) for k in table)
            out += [f"    {name:<{width}} = {text}" for name, text in table.items()]
    return "\n".join(out)


class NumpyPrinter(_Readable, NumPyPrinter):
    """NumPy code for symgrad's expressions; used by lambdify and by the code generator.

    Elementwise functions that NumPy lacks (``sigmoid``, ``relu``, ``softplus``, ``erf``, ``Phi``)
    are printed as calls by name: the generated module defines them stably, and
    :mod:`symgrad.calculus.numeric` passes the same definitions to ``lambdify``.
    """

    # numpy_alias: the name the code calls NumPy by ("np" prints np.sum; the generated module's
    # "xp", its arrays' library, prints xp.sum); array_api: a cast where NumPy would mix bools
    # with floats, which the array API standard does not (Heaviside: astype(z > 0, z.dtype),
    # astype the generated module's); scalars: the names of numbers (hyperparameters), which
    # xp.where may not take two of. Every NumPy function printed is the standard's too.
    _default_settings = dict(NumPyPrinter._default_settings, fully_qualified_modules=True,
                             numpy_alias=None, array_api=False, scalars=frozenset())

    # rational coefficients as fractions, lambd*sum(w**2)/(2*m) rather than (1/2)*lambd*...:
    # _Readable._print_Mul falls back on StrPrinter's

    def _where(self, u, yes, no) -> str:
        first = self._print(yes)
        scalars = self._settings["scalars"]
        if (self._settings["array_api"]
                and all(v.name in scalars for v in yes.free_symbols | no.free_symbols)):
            # yes and no both numbers (alpha a hyperparameter): the standard's where takes
            # one at most, the other as a 0-d array, in u's float type where u is an array
            # (float32 stays float32), else the float64 NumPy makes of two floats
            value = repr(float(yes)) if yes.is_Number else first
            dtype = f", dtype={self._print(u)}.dtype" if isinstance(u, Symbol) else ""
            first = f"{self._module_format('numpy.asarray')}({value}{dtype})"
        return (f"{self._module_format('numpy.where')}({self._print(u)} > 0, "
                f"{first}, {self._print(no)})")

    def _print_Pow(self, expr, rational=False):
        # a number's root as a Python float (math.sqrt(2)), which NumPy treats as weak: a
        # float32 array times it stays float32, where np.sqrt(2), a float64, would upcast it
        if not expr.free_symbols:
            return self._hprint_Pow(expr, rational=rational, sqrt="math.sqrt")
        return super()._print_Pow(expr, rational=rational)

    def _module_format(self, fqn, register=True):
        alias = self._settings["numpy_alias"]
        if alias and fqn.startswith("numpy."):
            return alias + fqn[len("numpy"):]
        return super()._module_format(fqn, register)

    def _print_matmul(self, expr):
        a, b = (self.parenthesize(x, 50) for x in expr.args)
        return f"({a} @ {b})"

    def _print_transpose(self, expr):
        (arg,) = expr.args
        if not arg.free_symbols:  # a number is its own transpose
            return self._print(arg)
        return f"{self.parenthesize(arg, 1000)}.T"

    def _print_total(self, expr):
        return f"{self._module_format('numpy.sum')}({self._print(expr.args[0])})"

    def _print_colsum(self, expr):
        return (f"{self._module_format('numpy.sum')}({self._print(expr.args[0])}, axis=0, "
                "keepdims=True)")

    def _print_rowsum(self, expr):
        return (f"{self._module_format('numpy.sum')}({self._print(expr.args[0])}, axis=1, "
                "keepdims=True)")

    def _print_Heaviside(self, expr):
        arg = expr.args[0]
        if self._settings["array_api"]:
            return (f"astype({self._print(arg)} {_step(expr)} 0, "
                    f"{self.parenthesize(arg, 1000)}.dtype)")
        return f"({self._print(arg)} {_step(expr)} 0)"

    def _print_sigmoid(self, expr):
        return f"sigmoid({self._print(expr.args[0])})"

    def _print_relu(self, expr):
        return f"relu({self._print(expr.args[0])})"

    def _print_dropout(self, expr):
        return f"dropout({', '.join(self._print(a) for a in expr.args)})"

    def _print_softplus(self, expr):
        return f"softplus({self._print(expr.args[0])})"

    def _print_leaky_relu(self, expr):
        return f"leaky_relu({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_softmax(self, expr):
        return f"softmax({self._print(expr.args[0])})"

    def _print_Abs(self, expr):
        return f"{self._module_format('numpy.abs')}({self._print(expr.args[0])})"

    def _print_erf(self, expr):  # NumPy has no erf: the generated module defines it
        return f"erf({self._print(expr.args[0])})"

    def _print_Phi(self, expr):
        return f"Phi({self._print(expr.args[0])})"

    def _print_log1p(self, expr):
        return f"{self._module_format('numpy.log1p')}({self._print(expr.args[0])})"

    def _print_expm1(self, expr):
        return f"{self._module_format('numpy.expm1')}({self._print(expr.args[0])})"

    def _print_maximum(self, expr):
        args = ", ".join(self._print(a) for a in expr.args)
        return f"{self._module_format('numpy.maximum')}({args})"

    def _print_minimum(self, expr):
        args = ", ".join(self._print(a) for a in expr.args)
        return f"{self._module_format('numpy.minimum')}({args})"

    def _print_clip(self, expr):
        args = ", ".join(self._print(a) for a in expr.args)
        return f"{self._module_format('numpy.clip')}({args})"

    def _print_eye(self, expr):
        return f"{self._module_format('numpy.eye')}(int({self._print(expr.args[0])}))"

    def _print_ones(self, expr):
        r, c = (self._print(a) for a in expr.args)
        return f"{self._module_format('numpy.ones')}((int({r}), int({c})))"

    def _print_diag(self, expr):
        return f"{self._module_format('numpy.diagflat')}({self._print(expr.args[0])})"

    def _print_logsumexp(self, expr):
        return f"logsumexp({self._print(expr.args[0])})"

    def _print_log_Phi(self, expr):
        return f"log_Phi({self._print(expr.args[0])})"

    def _print_mills(self, expr):
        return f"mills({self._print(expr.args[0])})"


# ----- LaTeX for proofs -----


class ProofLatexPrinter(_SympyLatexPrinter):
    """LaTeX for ``symgrad prove``: ``A B`` for matrix products, ``A^\\top``, ``\\odot`` between
    arrays multiplied elementwise, ``\\frac{1}{m} X dZ^\\top``.

    Settings: ``adjoints`` maps an adjoint symbol (``dz``) to ``(output, variable)``, printed
    ``dL/dz`` (``adjoint_notation="total"``) or ``dZ`` (``"name"``); ``shapes`` tells arrays from
    scalars; inside :class:`~symgrad.proof.blocks.ExampleSum` the symbols in ``per_example`` get the
    superscript ``(i)`` and the adjoints in ``example_adjoints`` read ``dL^{(i)}/dz^{(i)}``.

    >>> import sympy as sp
    >>> from symgrad.model.ops import matmul, transpose
    >>> X, Z, dZ, J, m = sp.symbols("X Z dZ J m")
    >>> ProofLatexPrinter({"adjoint_notation": "name", "adjoints": {dZ: (J, Z)},
    ...     "shapes": {X: (2, m), dZ: (1, m), m: (1, 1)}}).doprint(matmul(X, transpose(dZ)) / m)
    '\\\\frac{1}{m} X \\\\, \\\\mathrm{d}Z^{\\\\top}'
    """

    _default_settings = dict(_SympyLatexPrinter._default_settings, order="none", adjoints={},
                             adjoint_notation="total", shapes={}, per_example=frozenset(),
                             example_adjoints={}, inline_partials=False)

    def __init__(self, settings=None):
        super().__init__(settings)
        self._in_example = False

    # ----- symbols -----

    def _print_Symbol(self, expr, style="plain"):
        adjoints = self._settings["example_adjoints" if self._in_example else "adjoints"]
        if expr in adjoints:
            output, var = adjoints[expr]
            if self._in_example:
                return (rf"\frac{{\mathrm{{d}}{self._print(output)}}}"
                        rf"{{\mathrm{{d}}{self._print(var)}}}")
            if self._settings["adjoint_notation"] == "name":
                return rf"\mathrm{{d}}{self._name(var, style)}"
            return (rf"\frac{{\mathrm{{d}}{self._name(output, style)}}}"
                    rf"{{\mathrm{{d}}{self._name(var, style)}}}")
        tex = self._name(expr, style)
        if self._in_example and expr in self._settings["per_example"]:
            return with_example_index(tex)
        return tex

    def _name(self, expr, style="plain"):
        """A symbol's own name: z[l] (a layer's index) as z^{[l]}."""
        if expr not in self._settings["symbol_names"]:
            indexed = indexed_latex(expr.name, self)
            if indexed is not None:
                return indexed
        return super()._print_Symbol(expr, style)

    def _as_ordered_terms(self, expr, order=None):
        # w^T x + b rather than b + w^T x: terms with a matrix product or a sum come first
        terms = super()._as_ordered_terms(expr, order)
        return sorted(terms, key=lambda t: not t.atoms(Structural)
                      or t.could_extract_minus_sign())

    # ----- products: juxtaposition, \odot between arrays, 1/m in front of matrix forms -----

    def _is_array(self, expr):
        try:
            return shape_of(expr, self._settings["shapes"]) != SCALAR
        except (KeyError, TypeError, ValueError, SpecError):
            return False

    def _print_Rational(self, expr):
        text = decimal(expr)  # a spec's 0.044715 as written, not 8943/200000
        return text if text is not None else super()._print_Rational(expr)

    def _print_Mul(self, expr):
        coeff, rest = expr.as_coeff_Mul()
        text = decimal(abs(coeff))
        if text is not None and rest != 1:  # 0.044715 z^3, not \frac{8943 z^{3}}{200000}
            sign = "- " if coeff < 0 else ""
            return f"{sign}{text} {self.parenthesize(rest, PRECEDENCE['Mul'])}"
        factors = Mul.make_args(rest)
        numer = [f for f in factors if not (f.is_Pow and f.exp.is_extended_negative)]
        denom = [Pow(f.base, -f.exp) for f in factors if f not in numer]
        arrays = [f for f in numer if self._is_array(f)]
        if not arrays:  # sum(dZ)/m reads (1/m) sum(dZ) too
            arrays = [f for f in numer if isinstance(f, Structural) or _is_sum(f)][:1]
        scalar_denominator = bool(denom) and not any(self._is_array(f) for f in denom)
        lead = arrays and (coeff.q != 1 or scalar_denominator)
        if len(arrays) < 2 and not lead:
            return super()._print_Mul(expr)
        sign = "- " if coeff.is_negative else ""
        coeff = abs(coeff)
        scalars = [f for f in numer if f not in arrays]
        joiner = r" \odot " if len(arrays) > 1 else " "
        body = joiner.join(self._factor(f, strict=len(arrays) > 1) for f in arrays)
        if lead:
            top = self._print(Mul(coeff.p, *scalars))
            bottom = self._print(Mul(coeff.q, *denom))
            return rf"{sign}\frac{{{top}}}{{{bottom}}} {body}"
        front = Mul(coeff, *scalars)
        if front != 1:
            body = f"{self.parenthesize(front, PRECEDENCE['Mul'])} {body}"
        if denom:
            return rf"{sign}\frac{{{body}}}{{{self._print(Mul(*denom))}}}"
        return sign + body

    def _factor(self, expr, strict):
        if isinstance(expr, matmul) and not strict:  # X dZ^T juxtaposed with a scalar
            return self._print(expr)
        return self.parenthesize(expr, PRECEDENCE["Mul"], strict=strict)

    # ----- structural operations -----

    def _print_matmul(self, expr, exp=None):
        tex = r" \, ".join(self.parenthesize(a, PRECEDENCE["Mul"], strict=True)
                           for a in expr.args)
        return rf"\left({tex}\right)^{{{exp}}}" if exp else tex

    def _print_transpose(self, expr, exp=None):
        (arg,) = expr.args
        inner = self._print(arg)
        if not arg.is_Symbol:
            inner = rf"\left({inner}\right)"
        elif _LAYER_INDEX.search(inner):  # a^{[l-1]}: one superscript, a^{[l-1]\top}
            tex = rf"{inner[:-1]}\top}}"
            return rf"\left({tex}\right)^{{{exp}}}" if exp else tex
        elif "^" in inner:  # x^{(i)}: a second superscript needs its own group
            inner = f"{{{inner}}}"
        tex = rf"{inner}^{{\top}}"
        return rf"\left({tex}\right)^{{{exp}}}" if exp else tex

    def _print_total(self, expr, exp=None):
        return self._function(r"\operatorname{sum}", expr, exp)

    def _print_colsum(self, expr, exp=None):
        return self._function(r"\operatorname{sum}_{\mathrm{col}}", expr, exp)

    def _print_rowsum(self, expr, exp=None):
        return self._function(r"\operatorname{sum}_{\mathrm{row}}", expr, exp)

    # ----- elementwise functions -----

    def _function(self, name, expr, exp=None):
        tex = rf"{name}\left({', '.join(self._print(a) for a in expr.args)}\right)"
        return rf"{tex}^{{{exp}}}" if exp else tex

    def _print_sigmoid(self, expr, exp=None):
        return self._function(r"\sigma", expr, exp)

    def _print_relu(self, expr, exp=None):
        return self._function(r"\operatorname{relu}", expr, exp)

    def _print_softplus(self, expr, exp=None):
        return self._function(r"\operatorname{softplus}", expr, exp)

    def _print_softmax(self, expr, exp=None):
        return self._function(r"\operatorname{softmax}", expr, exp)

    def _print_Heaviside(self, expr, exp=None):
        tex = rf"\mathbf{{1}}\left[{self._print(expr.args[0])} > 0\right]"
        return rf"{tex}^{{{exp}}}" if exp else tex

    def _print_leaky_relu(self, expr, exp=None):
        return self._function(r"\operatorname{leaky\_relu}", expr, exp)

    def _print_Abs(self, expr, exp=None):
        tex = rf"\lvert {self._print(expr.args[0])} \rvert"
        return rf"{tex}^{{{exp}}}" if exp else tex

    def _print_sign(self, expr, exp=None):
        return self._function(r"\operatorname{sign}", expr, exp)

    def _print_erf(self, expr, exp=None):
        return self._function(r"\operatorname{erf}", expr, exp)

    def _print_Phi(self, expr, exp=None):
        return self._function(r"\Phi", expr, exp)

    def _print_log1p(self, expr, exp=None):
        tex = rf"\log\left(1 + {self._print(expr.args[0])}\right)"
        return rf"{tex}^{{{exp}}}" if exp else tex

    def _print_expm1(self, expr, exp=None):
        tex = rf"\left(e^{{{self._print(expr.args[0])}}} - 1\right)"
        return rf"{tex}^{{{exp}}}" if exp else tex

    def _print_maximum(self, expr, exp=None):
        return self._function(r"\max", expr, exp)

    def _print_minimum(self, expr, exp=None):
        return self._function(r"\min", expr, exp)

    def _print_clip(self, expr, exp=None):
        return self._function(r"\operatorname{clip}", expr, exp)

    # ----- the proof's own notation (symgrad.proof.blocks) -----

    def _print_Partial(self, expr, exp=None):
        u, v = (self._print(a) for a in expr.args)
        if self._settings["inline_partials"]:
            return rf"\partial {u}/\partial {v}"
        return rf"\frac{{\partial {u}}}{{\partial {v}}}"

    def _print_PartialOf(self, expr, exp=None):
        body, var = expr.args
        return rf"\frac{{\partial}}{{\partial {self._print(var)}}}\left[{self._print(body)}\right]"

    def _print_Times(self, expr, exp=None):
        first = expr.args[0]
        factors = [self._add_parens(self._print(a))
                   if a.is_Add or (a.is_Mul and a.could_extract_minus_sign())
                   else self._print(a) for a in expr.args]
        if first.is_Symbol and first not in self._settings["adjoints"]:  # alpha dw
            return r" \, ".join(factors)
        if sum(1 for a in expr.args if self._is_array(a)) > 1:
            return r" \odot ".join(factors)
        return r" \cdot ".join(factors)

    def _print_Quotient(self, expr, exp=None):
        num, den = (self._print(a) for a in expr.args)
        return rf"\frac{{{num}}}{{{den}}}"

    def _print_Total(self, expr, exp=None):
        out, var = (self._print(a) for a in expr.args)
        return rf"\frac{{\mathrm{{d}}{out}}}{{\mathrm{{d}}{var}}}"

    def _print_AtExample(self, expr, exp=None):
        outer, self._in_example = self._in_example, True
        try:
            return self._print(expr.args[0])
        finally:
            self._in_example = outer

    def _print_ExampleSum(self, expr, exp=None):
        outer, self._in_example = self._in_example, True
        try:
            body = self.parenthesize(expr.args[0], PRECEDENCE["Mul"], strict=True)
        finally:
            self._in_example = outer
        return rf"\sum_{{i=1}}^{{m}} {body}"


_LAYER_INDEX = re.compile(r"\^\{\[[^{}]*\](\(i\))?\}$")  # a^{[l]} or a^{[l](i)}, at the end


def with_example_index(tex: str) -> str:
    """``tex`` with the example's index (i): ``x^{(i)}``, and ``a^{[l](i)}`` for a symbol that
    carries a layer's index already (the course's notation).

    >>> with_example_index("x"), with_example_index("a^{[l-1]}")
    ('x^{(i)}', 'a^{[l-1](i)}')
    """
    if tex.endswith("]}") and "^{[" in tex:
        return tex[:-1] + "(i)}"
    return f"{tex}^{{(i)}}"


def indexed_latex(name: str, printer=None) -> str | None:
    """LaTeX for a name with a layer's index, as :mod:`symgrad.calculus.derivation` writes them:
    ``z[l]`` -> ``z^{[l]}``, ``A[l-1]`` -> ``A^{[l-1]}``; None for a name without one.

    >>> indexed_latex("W[l]"), indexed_latex("a_prev")
    ('W^{[l]}', None)
    """
    if not name.endswith("]") or "[" not in name:
        return None
    base, index = name[:-1].split("[", 1)
    printer = printer or _SympyLatexPrinter()
    return f"{printer._print(Symbol(base))}^{{[{index}]}}"


def _is_sum(expr) -> bool:
    return type(expr).__name__ == "ExampleSum"


def latex(expr, **settings) -> str:
    """LaTeX for a proof; see :class:`ProofLatexPrinter` for the settings."""
    return ProofLatexPrinter(settings).doprint(expr)
