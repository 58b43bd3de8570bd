"""NumPy spelling for claims: ``np.dot(X, dZ.T)``, ``np.sum(dZ, axis=1, keepdims=True)``,
``X.shape[1]``, ``(Z > 0)`` and the like, rewritten into the claim grammar of
:mod:`symgrad.claims.claim`.

:func:`to_grammar` reads the text with the whitelist parser's :func:`syntax_tree` (never
evaluating it), rewrites the tree node by node from an allow-list and returns
``ast.unparse`` of the result, which the whitelist parser then reads as any claim. It knows no
model: what a name means is the checker's business. What it translates:

* ``np.dot(a, b)``, ``np.matmul(a, b)``, ``a.dot(b)`` -> ``a @ b``; ``np.outer(a, b)`` ->
  ``a @ b.T``; ``np.multiply np.divide np.add np.subtract np.power np.square np.negative``
  -> the operators; ``np.exp``, ``np.log``, ``np.tanh``... -> the grammar's functions;
  ``np.maximum(0, Z)`` -> ``relu(Z)``; ``np.transpose(a)``, ``a.transpose()`` -> ``a.T``;
* ``np.sum(x, axis=1, keepdims=True)``, ``x.sum(axis=1, keepdims=True)`` ->
  ``sum(x, axis=1)``; ``np.mean`` -> ``mean``. A sum along an axis *without*
  ``keepdims=True`` is NumPy's 1-D array, kept as ``sum(x, axis=1, keepdims=0)``: the checker
  reads it as the row it broadcasts as, and names the missing ``keepdims=True`` where that
  changes the result;
* ``X.shape[1]`` -> ``shape(X, 1)``, which the checker reads as ``m`` where X's columns are
  the examples (and refuses where it is a number of units or features a claim cannot name);
* ``Z > 0`` -> ``heaviside(Z)``, ``Z >= 0`` -> ``heaviside(Z, 1)`` (1 at 0), ``Z < 0``,
  ``Z <= 0`` alike; the casts ``np.int64(...)``, ``np.float64(...)``, ``.astype(int)`` drop;
  ``np.where(Z > 0, u, v)`` -> ``heaviside(Z)*u + (1 - heaviside(Z))*v``.

Anything else NumPy-looking (``np.random``, ``np.linalg``, slicing, ``.reshape``) is refused
with one SpecError that names it.

>>> to_grammar("1./m * np.dot(dZ, A_prev.T)")
'1.0 / m * (dZ @ A_prev.T)'
>>> to_grammar("dA[l]*(Z[l] > 0)")
'dA[l] * heaviside(Z[l])'
>>> to_grammar("a - y")  # nothing NumPy-specific: unchanged
'a - y'
"""

from __future__ import annotations

import ast

from ..model.errors import SpecError
from ..model.parse import syntax_tree

MODULES = ("np", "numpy")

# np.NAME(x) -> NAME(x) (or the grammar's name for it)
FUNCTIONS = {name: name for name in (
    "exp", "log", "sqrt", "tanh", "sin", "cos", "cosh", "sinh", "log1p", "expm1", "abs",
    "sign", "maximum", "minimum", "clip", "heaviside")}
FUNCTIONS.update({"absolute": "abs", "fabs": "abs", "diag": "diag", "diagflat": "diag"})
# np.NAME(a, b) -> a OP b
OPERATORS = {"multiply": ast.Mult, "divide": ast.Div, "true_divide": ast.Div, "add": ast.Add,
             "subtract": ast.Sub, "power": ast.Pow, "dot": ast.MatMult, "matmul": ast.MatMult}
# casts, which leave a 0/1 mask or a number as it is: np.int64(A > 0), (A > 0).astype(float)
CASTS = {"int", "float", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
         "double", "single", "uint8", "bool_", "intc"}
CONSTANTS = {"pi": ast.Name("pi", ast.Load()),
             "e": ast.Call(ast.Name("exp", ast.Load()), [ast.Constant(1)], [])}
SUMS = ("sum", "mean")
# what else a NumPy array has: refused by name (anything else is the grammar's to refuse)
ARRAY_ATTRIBUTES = {
    "shape", "size", "ndim", "dtype", "reshape", "flatten", "ravel", "squeeze", "copy", "astype",
    "max", "min", "argmax", "argmin", "std", "var", "prod", "cumsum", "clip", "item", "tolist",
    "sum", "mean", "dot", "transpose", "round", "fill", "resize", "swapaxes", "view", "all",
    "any", "nonzero", "sort", "argsort", "trace", "diagonal", "conj", "real", "imag", "flat"}
ALLOWED = ("np.dot np.matmul np.outer np.multiply np.divide np.add np.subtract np.power "
           "np.square np.negative np.sum np.mean np.squeeze np.transpose np.where np.maximum "
           "np.minimum np.clip np.heaviside np.int64 np.float64, the elementwise functions "
           "(np.exp, np.log, np.sqrt, np.tanh, ...), np.pi, np.e, .T, .dot, .sum, .mean, "
           ".transpose(), .astype, X.shape[1] and comparisons with one operator (Z > 0)")
_COMPARE = {ast.Gt: (1, False), ast.GtE: (1, True), ast.Lt: (-1, False), ast.LtE: (-1, True)}
_FLIP = {ast.Gt: ast.Lt, ast.GtE: ast.LtE, ast.Lt: ast.Gt, ast.LtE: ast.GtE}
_NEGATE = {ast.Gt: ast.LtE, ast.GtE: ast.Lt, ast.Lt: ast.GtE, ast.LtE: ast.Gt}


def to_grammar(text: str) -> str:
    """``text`` in the claim grammar (unchanged where it already is)."""
    tree = syntax_tree(text)
    before = ast.dump(tree)
    body = _Translator(text.strip()).visit(tree.body)
    _refuse_transposed_1d(body, text.strip())
    tree = ast.Expression(body)
    if ast.dump(tree) == before:
        return text
    return ast.unparse(ast.fix_missing_locations(tree))


def refused(what: str, text: str) -> SpecError:
    """The one error for NumPy spelling that has no meaning in a claim."""
    return SpecError(f"{what} in '{text[:60]}' is not something a claim can say; expected the "
                     f"NumPy of a gradient formula: {ALLOWED}")


def _module(node) -> bool:
    return isinstance(node, ast.Name) and node.id in MODULES


def _call(name, *args, **keywords) -> ast.Call:
    return ast.Call(ast.Name(name, ast.Load()), list(args),
                    [ast.keyword(k, v) for k, v in keywords.items()])


def _number(node):
    """The value of a numeric constant (``-1`` included), else None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _number(node.operand)
        return None if value is None else -value
    if isinstance(node, ast.Constant) and type(node.value) in (int, float, bool):
        return node.value
    return None


class _Translator(ast.NodeTransformer):
    """Rewrites NumPy spelling, bottom up; refuses what has no meaning in a claim."""

    def __init__(self, text):
        self.text = text

    def refuse(self, what) -> SpecError:
        return refused(what, self.text)

    # ----- names and attributes -----

    def visit_Name(self, node):
        if node.id in MODULES:
            raise self.refuse(f"'{node.id}' on its own")
        return node

    def visit_Attribute(self, node):
        if _module(node.value):
            if node.attr in CONSTANTS:
                return CONSTANTS[node.attr]
            raise self.refuse(f"'{node.value.id}.{node.attr}'")
        if isinstance(node.value, ast.Attribute) and _module(node.value.value):
            raise self.refuse(f"'{ast.unparse(node)}'")  # np.random.rand, np.linalg.norm
        if node.attr in ARRAY_ATTRIBUTES:
            raise self.refuse(f"attribute '.{node.attr}'")
        return self.generic_visit(node)  # .T, or what the grammar refuses

    def visit_Subscript(self, node):
        value = node.value
        if isinstance(value, ast.Attribute) and value.attr == "shape":
            at = {0: 0, 1: 1, -1: 1, -2: 0}.get(_number(node.slice))
            if at is None:
                raise self.refuse(f"'{ast.unparse(node)}'")
            # X.shape[1]: m where X's columns are the examples; the checker knows the shapes
            return _call("shape", self.visit(value.value), ast.Constant(at))
        if isinstance(node.slice, (ast.Slice, ast.Tuple, ast.Compare)):
            raise self.refuse(f"indexing or slicing '{ast.unparse(node)}'")
        return node  # layer notation (W[l], A[l-1]): the grammar's business

    # ----- comparisons: masks -----

    def visit_Compare(self, node):
        return _heaviside(*self.comparison(node))

    def comparison(self, node):
        """(the expression that is compared with 0, the operator) of a one-operator
        comparison: ``A > B`` gives (A - B, >), ``0 < Z`` gives (Z, >)."""
        if len(node.ops) != 1 or type(node.ops[0]) not in _COMPARE:
            raise self.refuse(f"comparison '{ast.unparse(node)}' (one of > >= < <= between two "
                              "expressions is what a mask may be)")
        left, right = self.visit(node.left), self.visit(node.comparators[0])
        op = type(node.ops[0])
        if _number(right) == 0:
            return left, op
        if _number(left) == 0:
            return right, _FLIP[op]
        return ast.BinOp(left, ast.Sub(), right), op

    def mask(self, node):
        """(the comparison inside casts, the operator) or None where ``node`` is no mask."""
        while True:
            cast = self.cast(node)
            if cast is None:
                break
            node = cast
        if isinstance(node, ast.Compare):
            return self.comparison(node)
        return None

    def cast(self, node):
        """The argument of a cast (``np.int64(u)``, ``u.astype(float)``), else None."""
        if not isinstance(node, ast.Call):
            return None
        f = node.func
        if isinstance(f, ast.Attribute) and _module(f.value) and f.attr in CASTS \
                and len(node.args) == 1 and not node.keywords:
            return node.args[0]
        if isinstance(f, ast.Name) and f.id in ("int", "float") and len(node.args) == 1:
            return node.args[0]
        if isinstance(f, ast.Attribute) and f.attr == "astype" and len(node.args) == 1 \
                and not node.keywords and _dtype(node.args[0]):
            return f.value
        return None

    # ----- calls -----

    def visit_Call(self, node):
        f = node.func
        inner = self.cast(node)
        if inner is not None:
            return self.visit(inner)
        if isinstance(f, ast.Attribute) and _module(f.value):
            return self.numpy_call(f.attr, node)
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Attribute) \
                and _module(f.value.value):
            raise self.refuse(f"'{ast.unparse(f)}'")
        if isinstance(f, ast.Attribute):
            return self.method_call(f.value, f.attr, node)
        return self.generic_visit(node)

    def numpy_call(self, name, node):
        args, keywords = node.args, node.keywords
        if name in SUMS:
            return self.reduction(name, args, keywords)
        if name == "where":
            return self.where(node)
        if keywords:
            raise self.refuse(f"keyword argument to np.{name}()")
        args = [self.visit(a) for a in args]
        if name in OPERATORS:
            self.arity(name, args, 2)
            op = OPERATORS[name]
            if name == "dot" and any(_number(a) is not None for a in args):
                op = ast.Mult  # np.dot with a number multiplies
            return ast.BinOp(args[0], op(), args[1])
        if name == "square":
            self.arity(name, args, 1)
            return ast.BinOp(args[0], ast.Pow(), ast.Constant(2))
        if name == "negative":
            self.arity(name, args, 1)
            return ast.UnaryOp(ast.USub(), args[0])
        if name == "outer":
            self.arity(name, args, 2)
            return ast.BinOp(args[0], ast.MatMult(), ast.Attribute(args[1], "T", ast.Load()))
        if name == "transpose":
            self.arity(name, args, 1)
            return ast.Attribute(args[0], "T", ast.Load())
        if name == "maximum" and len(args) == 2:
            if _number(args[0]) == 0:
                return _call("relu", args[1])
            if _number(args[1]) == 0:
                return _call("relu", args[0])
        if name == "squeeze":
            self.arity(name, args, 1)
            return _call("squeeze", args[0])
        if name == "heaviside" and len(args) == 2 and _number(args[1]) == 0:
            return _call("heaviside", args[0])  # NumPy's second argument: the value at 0
        if name in FUNCTIONS:
            return _call(FUNCTIONS[name], *args)
        raise self.refuse(f"'np.{name}'")

    def method_call(self, value, name, node):
        args, keywords = node.args, node.keywords
        if name in SUMS:
            return self.reduction(name, [value, *args], keywords)
        if keywords:
            raise self.refuse(f"keyword argument to .{name}()")
        if name == "dot" and len(args) == 1:
            return ast.BinOp(self.visit(value), ast.MatMult(), self.visit(args[0]))
        if name == "transpose" and not args:
            return ast.Attribute(self.visit(value), "T", ast.Load())
        if name == "copy" and not args:
            return self.visit(value)
        if name == "squeeze" and not args:
            return _call("squeeze", self.visit(value))
        if name in ARRAY_ATTRIBUTES:
            raise self.refuse(f"method '.{name}()'")
        return self.generic_visit(node)  # the grammar refuses it

    def arity(self, name, args, n):
        if len(args) != n:
            raise SpecError(f"np.{name}() in '{self.text[:60]}' takes {n} argument"
                            f"{'s' if n > 1 else ''}, found {len(args)}")

    def reduction(self, name, args, keywords):
        """``np.sum`` / ``np.mean``: ``sum(x)``, ``sum(x, axis=k)`` where NumPy keeps the
        dimensions, ``sum(x, axis=k, keepdims=0)`` for NumPy's 1-D result."""
        given = {k.arg: k.value for k in keywords}
        unknown = sorted(set(given) - {"axis", "keepdims"})
        if unknown or len(args) not in (1, 2) or len(args) == 2 and "axis" in given:
            raise SpecError(f"np.{name}() in '{self.text[:60]}' takes an array, axis= and "
                            f"keepdims=; found {', '.join(unknown) or 'other arguments'}")
        x = self.visit(args[0])
        axis = given.get("axis", args[1] if len(args) == 2 else None)
        keep = given.get("keepdims", ast.Constant(False))
        if _number(keep) is None:
            raise self.refuse(f"keepdims={ast.unparse(keep)}")
        if axis is None or _number(axis) is None and isinstance(axis, ast.Constant):
            return _call(name, x)  # no axis (or axis=None): the sum of all entries
        if isinstance(axis, ast.Tuple) and sorted(_number(a) for a in axis.elts) in (
                [0, 1], [-2, -1], [-2, 1], [-1, 0]):
            return _call(name, x)
        k = {0: 0, 1: 1, -1: 1, -2: 0}.get(_number(axis))
        if k is None:
            raise self.refuse(f"axis={ast.unparse(axis)} (the arrays of a claim have the axes "
                              "0 and 1)")
        if _number(keep):
            return _call(name, x, axis=ast.Constant(k))
        return _call(name, x, axis=ast.Constant(k), keepdims=ast.Constant(0))

    def where(self, node):
        """``np.where(C, u, v)`` for a comparison C: ``heaviside(C)*u + (1 - heaviside(C))*v``,
    with C turned round to ``z > 0`` or ``z >= 0``."""
        if len(node.args) != 3 or node.keywords:
            raise SpecError(f"np.where() in '{self.text[:60]}' takes a condition and two "
                            "values: np.where(Z > 0, u, v)")
        condition = self.mask(node.args[0])
        if condition is None:
            raise self.refuse(f"np.where() with the condition '{ast.unparse(node.args[0])}' "
                              "(a comparison such as Z > 0 is what a condition may be)")
        u, v = self.visit(node.args[1]), self.visit(node.args[2])
        z, op = condition
        if op in (ast.Lt, ast.LtE):  # where(z <= 0, u, v) is where(z > 0, v, u)
            op, u, v = _NEGATE[op], v, u
        step = _heaviside(z, op)
        out = None
        for mask, value in ((step, u), (ast.BinOp(ast.Constant(1), ast.Sub(), step), v)):
            n = _number(value)
            if n == 0:
                continue
            term = mask if n == 1 else ast.BinOp(mask, ast.Mult(), value)
            out = term if out is None else ast.BinOp(out, ast.Add(), term)
        return out if out is not None else ast.Constant(0)


def _heaviside(z, op) -> ast.Call:
    """The 0/1 mask of ``z OP 0``: 1 where it holds, 0 elsewhere (at 0 too unless OP has =)."""
    sign, at_zero = _COMPARE[op]
    arg = z if sign > 0 else ast.UnaryOp(ast.USub(), z)
    return _call("heaviside", arg, ast.Constant(1)) if at_zero else _call("heaviside", arg)


def _dtype(node) -> bool:
    """``int``, ``float``, ``np.float64``, ``'float'``: what ``.astype`` may cast to."""
    if isinstance(node, ast.Name):
        return node.id in CASTS
    if isinstance(node, ast.Attribute):
        return _module(node.value) and node.attr in CASTS
    return isinstance(node, ast.Constant) and node.value in CASTS


def _unkept(node) -> bool:
    """``sum(x, axis=k, keepdims=0)`` or ``squeeze(x)``: a 1-D array in NumPy."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        return False
    return node.func.id == "squeeze" or node.func.id in SUMS and any(
        k.arg == "keepdims" for k in node.keywords)


def _refuse_transposed_1d(tree, text) -> None:
    """A 1-D sum under ``.T`` or ``@``: NumPy's transpose of a 1-D array does nothing and its
    products follow other rules, so the claim is refused with the fix, not read as 2-D."""
    for node in ast.walk(tree):
        under = []
        if isinstance(node, ast.Attribute) and node.attr == "T":
            under = [node.value]
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            under = [node.left, node.right]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "transpose":
            under = node.args
        for part in under:
            hit = next((n for n in ast.walk(part) if _unkept(n)), None)
            if hit is not None and hit.func.id == "squeeze":
                raise SpecError(f"np.squeeze({ast.unparse(hit.args[0])}) in '{text[:60]}' may "
                                "be a 1-D array, which .T leaves as it is and @ treats as a "
                                "vector; expected the array without np.squeeze")
            if hit is not None:
                raise SpecError(f"'{ast.unparse(hit.args[0])}' summed along axis "
                                f"{ast.unparse(hit.keywords[0].value)} without keepdims=True "
                                f"in '{text[:60]}' is a 1-D array, which .T leaves as it is and "
                                "@ treats as a vector; expected keepdims=True")
