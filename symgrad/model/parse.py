"""The whitelist parser for expressions written by users (spec files, claims).

Text is read with Python's ``ast`` module and walked with an allow-list; nothing is ever
evaluated. Anything outside the grammar is rejected with a :class:`SpecError` that says what was
found and what was expected:

    expr   := number | name | expr (+ - * / ** @) expr | -expr | +expr | (expr)
            | function(expr, ...) | expr.T          (.T only where the caller allows it)
            | name[i] | name[i-1]                   (only where the caller gives an index i)

Exponents must be numbers of modest size, or where the caller names them (hyperparameters), those
names with numbers under ``+ - * /`` (``(1 - p)**g``, ``x**(g - 1)``); so ``10**10**10`` and
``x**y`` with ``y`` an input are refused before SymPy sees them.
Length and nesting are measured before Python's ``ast`` reads the text, numbers' sizes before
they are computed (:mod:`symgrad.model.limits`), and an expression that SymPy evaluates to a
constant that is not a finite real number (``log(0)``, ``1/0``, ``sqrt(-1)``) is refused.

>>> import sympy as sp
>>> x = sp.Symbol("x")
>>> parse("2*x**2 + 1", names={"x": x}, functions={})
2*x**2 + 1
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Collection, Mapping

import sympy as sp

from .errors import SpecError
from .limits import (
    MAX_BITS,
    MAX_DIGITS,
    MAX_EXPONENT,
    MAX_LENGTH,
    MAX_NESTING,
    MAX_TREE_DEPTH,
    too_many_bits,
)

GRAMMAR = "numbers, names, + - * / ** @, parentheses and the functions"

_BINOPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}

_FOUND = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscript",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehension",
    ast.SetComp: "comprehension",
    ast.DictComp: "comprehension",
    ast.GeneratorExp: "comprehension",
    ast.Compare: "comparison",
    ast.BoolOp: "boolean operator",
    ast.IfExp: "conditional expression",
    ast.List: "list",
    ast.Tuple: "tuple",
    ast.Dict: "dict",
    ast.Set: "set",
    ast.JoinedStr: "f-string",
    ast.NamedExpr: "assignment",
    ast.Starred: "starred argument",
}


def parse(text: str, *, names: Mapping[str, sp.Expr], functions: Mapping[str, Callable],
          matmul: Callable | None = None, transpose: Callable | None = None,
          keywords: Mapping[str, Collection[str]] | None = None,
          index: str | None = None, exponents: Collection[str] = (),
          shaped: Callable | None = None) -> sp.Expr:
    """Turn ``text`` into a SymPy expression over ``names`` using only ``functions``.

    ``functions`` maps a function name to a callable taking SymPy arguments; ``matmul`` and
    ``transpose`` give meaning to ``@`` and ``.T`` (each refused where it is None).
    ``keywords`` names the keyword arguments a function takes (``{"sum": ["axis"]}``); every
    other keyword argument is refused. With an ``index`` such as ``"l"``, ``W[l]`` and
    ``A[l-1]`` are read as the names ``"W[l]"`` and ``"A[l-1]"``; every other subscript is
    refused. ``shaped(result, left, right)``, where given, sees each result of ``+ - * / **``
    with its operands and returns it, or it with the shape SymPy folded away (``X**0`` is 1).

    >>> W = sp.Symbol("W[l]")
    >>> parse("2*W[l]", names={"W[l]": W}, functions={}, index="l")
    2*W[l]
    """
    if not isinstance(text, str):
        raise SpecError(f"expected an expression as a string, found {type(text).__name__}")
    tree = syntax_tree(text)
    walker = _Walker(text.strip(), names, functions, matmul, transpose, keywords or {}, index,
                     exponents, shaped)
    try:
        expr = walker.visit(tree.body)
    except RecursionError:
        raise SpecError(f"expression '{text.strip()[:40]}' is nested too deeply") from None
    return walker.check_value(expr, tree.body, whole=True)


def syntax_tree(text: str) -> ast.Expression:
    """``text`` read by Python's ``ast``, once its length and nesting are known to be within
    :mod:`~symgrad.model.limits`; every caller that reads user text with ``ast`` goes through
    here. A SpecError otherwise.

    >>> try:
    ...     syntax_tree("(" * 60 + "x" + ")" * 60)
    ... except SpecError as err:
    ...     print(err)
    '((((((((((((((((((((...' nests parentheses 60 deep; expected at most 50
    """
    text = str(text)
    if len(text) > MAX_LENGTH:
        raise SpecError(f"expression of {len(text)} characters is longer than the limit; "
                        f"expected at most {MAX_LENGTH} characters")
    shown = text.strip()[:20] + ("..." if len(text.strip()) > 20 else "")
    nesting = _nesting(text)
    if nesting > MAX_NESTING:
        raise SpecError(f"'{shown}' nests parentheses {nesting} deep; expected at most "
                        f"{MAX_NESTING}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        raise SpecError(f"syntax error in '{text.strip()}' at column {err.offset}: "
                        f"{err.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise SpecError(f"cannot read '{shown}': nested too deeply") from None
    depth = _tree_depth(tree.body)
    if depth > MAX_TREE_DEPTH:
        raise SpecError(f"'{shown}' has {depth} levels of operators; expected at most "
                        f"{MAX_TREE_DEPTH} (as in a sum of {MAX_TREE_DEPTH} terms)")
    return tree


def _nesting(text: str) -> int:
    depth = deepest = 0
    for char in text:
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth -= 1
    return deepest


def _tree_depth(root) -> int:
    """Levels of a syntax tree, measured without recursion."""
    deepest, todo = 0, [(root, 1)]
    while todo:
        node, depth = todo.pop()
        deepest = max(deepest, depth)
        todo.extend((child, depth + 1) for child in ast.iter_child_nodes(node)
                    if not isinstance(child, (ast.expr_context, ast.operator, ast.unaryop)))
    return deepest


def indexed(node, index) -> str | None:
    """``"W[l]"`` or ``"A[l-1]"`` for the subscript ``W[l]`` or ``A[l - 1]``; else None."""
    if not isinstance(node, ast.Subscript) or not isinstance(node.value, ast.Name):
        return None
    at = node.slice
    if isinstance(at, ast.Name) and at.id == index:
        return f"{node.value.id}[{index}]"
    if (isinstance(at, ast.BinOp) and isinstance(at.op, ast.Sub)
            and isinstance(at.left, ast.Name) and at.left.id == index
            and isinstance(at.right, ast.Constant) and type(at.right.value) is int
            and at.right.value == 1):
        return f"{node.value.id}[{index}-1]"
    return None


class _Walker:
    def __init__(self, text, names, functions, matmul, transpose, keywords, index=None,
                 exponents=(), shaped=None):
        self.text, self.names, self.functions = text, names, functions
        self.matmul, self.transpose, self.keywords = matmul, transpose, keywords
        self.index, self.exponents = index, frozenset(exponents)
        self.shaped = shaped or (lambda result, *operands: result)

    def expected(self) -> str:
        return f"expected {GRAMMAR} {', '.join(sorted(self.functions)) or '(none)'}"

    def refuse(self, what: str) -> SpecError:
        return SpecError(f"{what} in '{self.text}' is not allowed; {self.expected()}")

    def visit(self, node):
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self.refuse(f"constant {value!r}")
            if isinstance(value, float):
                if value != value or value in (float("inf"), float("-inf")):
                    raise self.refuse(f"constant {value!r}")
                return sp.Rational(repr(value))
            if too_many_bits(value):
                raise self.too_large(node)
            return sp.Integer(value)
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.Subscript) and self.index is not None:
            name = indexed(node, self.index)
            if name is None:
                i = self.index
                raise SpecError(f"subscript '{ast.unparse(node)}' in '{self.text}' is not "
                                f"allowed; expected a name with the index {i} or {i}-1, such "
                                f"as W[{i}] or A[{i}-1]")
            return self.name(name)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return -self.visit(node.operand)
            if isinstance(node.op, ast.UAdd):
                return self.visit(node.operand)
            raise self.refuse(f"operator {type(node.op).__name__}")
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Pow):
                self.check_exponent(node.right)
            left, right = self.visit(node.left), self.visit(node.right)
            if isinstance(node.op, ast.MatMult):
                if self.matmul is None:
                    raise self.refuse("'@'")
                return self.check_value(self.matmul(left, right), node)
            op = _BINOPS.get(type(node.op))
            if op is None:
                raise self.refuse(f"operator {type(node.op).__name__}")
            if isinstance(node.op, ast.Pow) and left.is_number and right.is_Number:
                self.check_power(left, right, node)
            return self.check_value(self.shaped(op(left, right), left, right), node)
        if isinstance(node, ast.Call):
            return self.check_value(self.call(node), node)
        if isinstance(node, ast.Attribute):
            if node.attr == "T" and self.transpose is not None:
                return self.transpose(self.visit(node.value))
            raise self.refuse(f"attribute access '.{node.attr}'")
        raise self.refuse(_FOUND.get(type(node), type(node).__name__))

    def name(self, name: str):
        if name not in self.names:
            known = ", ".join(sorted(self.names))
            hint = " (it is a function; call it)" if name in self.functions else ""
            if self.index is not None and f"{name}[{self.index}]" in self.names:
                hint = f" (write {name}[{self.index}])"
            raise SpecError(f"unknown name '{name}' in '{self.text}'{hint}; "
                            f"expected one of: {known}")
        return self.names[name]

    def check_exponent(self, node):
        """An exponent is a number of at most MAX_EXPONENT, or an expression of numbers and the
        names in ``exponents`` under + - * / (no powers, no calls)."""
        if isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                raise self.refuse("this exponent")
            return self.check_exponent(node.operand)
        if isinstance(node, ast.BinOp) and self.exponents and isinstance(
                node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
            self.check_exponent(node.left)
            return self.check_exponent(node.right)
        if isinstance(node, ast.Name) and node.id in self.exponents:
            return None
        if not (isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
                and not isinstance(node.value, bool)):
            allowed = (f"a number or an expression of the hyperparameters "
                       f"({', '.join(sorted(self.exponents))}) under + - * /"
                       if self.exponents else "a plain number")
            raise SpecError(f"exponent in '{self.text}' must be {allowed} "
                            f"(numbers at most {MAX_EXPONENT} in size)")
        if abs(node.value) > MAX_EXPONENT:
            raise SpecError(f"exponent {node.value} in '{self.text}' is too large "
                            f"(at most {MAX_EXPONENT})")
        return None

    def too_large(self, node) -> SpecError:
        return SpecError(f"'{_short(node)}' has a number of more than {MAX_DIGITS} digits; "
                         f"expected at most {MAX_DIGITS} digits")

    def check_power(self, base, exponent, node):
        """A number raised to a power: refused before Python computes a huge integer."""
        bits = max((max(abs(r.p), r.q).bit_length() for r in base.atoms(sp.Rational)), default=1)
        if bits * abs(exponent) > MAX_BITS:
            raise self.too_large(node)

    def check_value(self, value, node, whole=False):
        """``value``, the SymPy result of ``node``, or a SpecError where it is a constant that
        is not a finite real number, a huge number or a huge power. Each operation's result and
        its arguments are looked at (where such a constant first appears); ``whole`` looks
        through all of ``value``."""
        if not isinstance(value, sp.Basic):
            return value
        parts = (value, *value.args)
        bad = next((p for p in parts if p in _NOT_FINITE or p.is_number and (
            p.is_finite is False or p.is_extended_real is False)), None)
        if bad is None and whole and value.has(*_NOT_FINITE):
            bad = next(p for p in _NOT_FINITE if value.has(p))
        if bad is not None:
            raise SpecError(f"'{_short(node)}' in '{self.text}' is {bad}, not a finite real "
                            "number; expected an expression that is finite and real (no log(0), "
                            "division by 0 or square root of a negative number)")
        for p in parts:
            if isinstance(p, sp.Rational) and too_many_bits(p):
                raise self.too_large(node)
            if p.is_Pow and p.exp.is_Number and abs(p.exp) > MAX_EXPONENT:
                raise SpecError(f"'{_short(node)}' in '{self.text}' is {p.base} to the power "
                                f"{p.exp}; expected an exponent of at most {MAX_EXPONENT}")
        return value

    def call(self, node: ast.Call):
        if not isinstance(node.func, ast.Name):
            raise self.refuse("call of a non-function")
        name = node.func.id
        if name not in self.functions:
            raise SpecError(f"unsupported function '{name}' in '{self.text}'; "
                            f"{self.expected()}")
        allowed = self.keywords.get(name, ())
        if any(k.arg not in allowed for k in node.keywords):
            raise self.refuse(f"keyword argument to {name}()")
        args = [self.visit(a) for a in node.args]
        kwargs = {k.arg: self.visit(k.value) for k in node.keywords}
        try:
            return self.functions[name](*args, **kwargs)
        except TypeError:
            raise SpecError(f"wrong number of arguments to {name}() in '{self.text}'") from None


_NOT_FINITE = (sp.zoo, sp.oo, -sp.oo, sp.nan, sp.I)


def _short(node) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 40 else f"{text[:20]}... ({len(text)} characters)"
