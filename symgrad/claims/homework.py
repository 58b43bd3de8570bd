"""Homework: a student's NumPy function (``propagate``, ``backward_propagation``...) read
statically, each gradient it assigns checked as a claim.

The file is read with Python's ``ast`` only: never imported, never run. Its size and nesting are
limited before ``ast`` reads it. The named function's statements are followed in order with an
environment of local names -> expressions (the flow through the function):

* ``m = X.shape[1]``, ``A = sigmoid(np.dot(w.T, X) + b)``: a local name stands for its
  expression from then on; a later assignment replaces it;
* ``W1 = parameters["W1"]``, ``A1 = cache["A1"]``, ``(Z1, A1, W1, b1) = cache``,
  ``A_prev, W, b = cache`` and the function's arguments: a name that is one of the model's
  (``X``, ``Y``, ``w``, ``W1``, ``dA``; for a model with ``[layers]``, ``W``, ``dZ``, ``Z``
  stand for layer l's ``W[l]``, ``dZ[l]``, ``Z[l]``) stands for it; ``cache[0]`` for the first
  name unpacked from ``cache``;
* the course's helpers: ``sigmoid``, ``relu`` and the NumPy functions are kept as written (the
  claim grammar reads them); ``relu_backward(dA, cache)`` is ``dA * (Z > 0)`` and
  ``sigmoid_backward(dA, cache)`` is ``dA * sigmoid(Z) * (1 - sigmoid(Z))``, with Z what the
  activation cache holds, as in the course's own helpers;
* ``dZ = np.array(dA, copy=True)`` is ``dA``; the mask ``dZ[Z <= 0] = 0`` is
  ``dZ = dZ * (Z > 0)``; ``dA2 *= D2`` is ``dA2 = dA2 * D2``;
* ``grads[...] = ...``, dictionaries, ``assert``, ``print(...)`` and the docstring are passed
  over; ``return`` ends the function.

Each assignment of a gradient name (a derivative of the model: ``dw``, ``db``, ``dZ1``,
``dA_prev``, ``dAL``...) is a claim: its right side with the local names substituted
(``ast.unparse`` adds the parentheses), checked by :class:`symgrad.claims.checker.Checker` in
NumPy spelling (:mod:`symgrad.claims.numpy_notation`). A gradient read on a later line stands
for the model's derivative, so each line is judged on its own (a slip is named on its line, and
the lines after it are judged given the right value, as a grader carries an error forward). A
gradient assignment that the next statement using it changes (``dA2 = dA2 * D2``, the mask
above) is a step: the line that finishes it is checked.

What cannot be followed is said, never skipped: a line inside a loop or an ``if`` is "not
followed"; a call of an unknown function, an unknown attribute or subscript makes the names
that depend on it unknown, and a gradient line that uses one is "not checked", naming it.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass, field
from pathlib import Path

from ..model.errors import SpecError
from ..model.escape import terminal_text
from .checker import NOT_PROVEN, PROVEN, REFUTED, Checker, Verdict
from .claim import INDEX, Claim

MAX_FILE_BYTES = 200_000  # a homework file; a notebook exported whole is far below
MAX_FILE_NESTING = 100  # levels of its syntax tree
MAX_STATEMENTS = 2000  # statements of the checked function
MAX_NODES = 1000  # terms of one name's expression, once the names it uses are substituted
STEP, NOT_CHECKED, NOT_FOLLOWED = "step", "not checked", "not followed"
MARK = {PROVEN: "✓", REFUTED: "✗", NOT_PROVEN: "?", STEP: "·", NOT_CHECKED: "-",
        NOT_FOLLOWED: "-"}
MODULES = ("np", "numpy")
# array attributes the claim grammar or its NumPy spelling reads (anything else is unknown)
ATTRIBUTES = {"T", "shape", "dot", "sum", "mean", "transpose", "astype"}
# helper functions kept as written: the claim grammar's own
KEPT = {"sigmoid", "relu", "tanh", "exp", "log", "sqrt", "abs", "maximum", "minimum", "int",
        "float", "sum", "mean", "transpose", "heaviside"}


class _Container:
    """An argument or unpacked name that is none of the model's (``cache``, ``parameters``):
    what it holds is read by its subscripts and unpacking."""

    def __init__(self, name: str):
        self.name = name


class _Unreadable(Exception):
    """A name or expression whose value cannot be read statically; ``what`` names it."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


@dataclass
class Line:
    """One gradient assignment of the function and what became of it."""

    line: int
    source: str  # the line as written
    name: str  # the gradient assigned, as written
    status: str  # proven, refuted, not proven, step, not checked, not followed
    claim: str = ""  # the right side with the local names substituted (NumPy spelling)
    reason: str = ""
    verdict: Verdict | None = None

    @property
    def checked(self) -> bool:
        return self.status in (PROVEN, REFUTED, NOT_PROVEN)

    def text(self) -> str:
        head = f"{MARK[self.status]} line {self.line}: {self.source}"
        if self.verdict is not None:
            body = self.verdict.text().splitlines()
            body[0] = body[0][2:]  # the verdict's mark is the line's
            return "\n".join([terminal_text(head)] + [f"    {b}" for b in body])
        return "\n".join([terminal_text(head),
                          terminal_text(f"    {self.status} ({self.name}): {self.reason}")])

    def to_json(self) -> dict:
        return {"line": self.line, "source": self.source, "name": self.name,
                "status": self.status, "claim": self.claim, "reason": self.reason,
                "verdict": self.verdict.to_json() if self.verdict else None}


@dataclass
class Report:
    """The gradient lines of one function, in order."""

    file: str
    function: str
    lines: list = field(default_factory=list)

    @property
    def all_proven(self) -> bool:
        """True when some line was checked and every checked line is proven."""
        checked = [line for line in self.lines if line.checked]
        return bool(checked) and all(line.status == PROVEN for line in checked)

    def text(self) -> str:
        out = [terminal_text(f"{self.file}: {self.function}()")]
        out += [line.text() for line in self.lines]
        checked = [line for line in self.lines if line.checked]
        proven = sum(line.status == PROVEN for line in checked)
        rest = len(self.lines) - len(checked)
        out.append(f"{proven} of {len(checked)} checked gradient lines proven"
                   + (f"; {rest} not checked." if rest else "."))
        return "\n".join(out)

    def to_json(self) -> dict:
        return {"file": self.file, "function": self.function, "all_proven": self.all_proven,
                "lines": [line.to_json() for line in self.lines]}


# ----- reading the file -----

def read_module(path) -> tuple[ast.Module, list[str]]:
    """The file's syntax tree and lines; never imported or run. One SpecError otherwise."""
    shown = str(path)
    try:
        with Path(path).open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise SpecError("no such file", file=shown) from None
    except OSError as err:
        raise SpecError(f"cannot read the file: {err.__class__.__name__}", file=shown) from None
    if len(data) > MAX_FILE_BYTES:
        raise SpecError(f"file larger than {MAX_FILE_BYTES // 1000} kB; expected a homework "
                        "file with the function to check", file=shown)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError("not UTF-8 text; expected a Python file", file=shown) from None
    try:
        tree = ast.parse(text, filename=shown)
    except SyntaxError as err:
        raise SpecError(f"syntax error: {err.msg}; expected Python", file=shown,
                        line=err.lineno) from None
    except (RecursionError, MemoryError, ValueError):
        raise SpecError("cannot read the file: nested too deeply", file=shown) from None
    depth = _depth(tree)
    if depth > MAX_FILE_NESTING:
        raise SpecError(f"the syntax tree is {depth} levels deep; expected at most "
                        f"{MAX_FILE_NESTING}", file=shown)
    return tree, text.splitlines()


def _depth(root) -> int:
    deepest, todo = 0, [(root, 1)]
    while todo:
        node, depth = todo.pop()
        deepest = max(deepest, depth)
        todo.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def functions_in(tree) -> list:
    """The functions defined in the module (at any level), in order."""
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def find_function(tree, name, shown, gradient=None):
    """The function called ``name``; a SpecError naming the functions found otherwise
    (those that assign a gradient, where ``gradient`` says which names are)."""
    found = functions_in(tree)
    for node in found:
        if node.name == name:
            return node
    listed = [f.name for f in found if gradient is None or _assigns_gradient(f, gradient)]
    what = "functions that assign a gradient" if gradient else "functions"
    raise SpecError(f"no function '{name}'; expected one of the {what}: "
                    f"{', '.join(listed) if listed else '(none)'}", file=shown)


def gradient_functions(model, path) -> list[str]:
    """The names of the functions in the file ``path`` that assign a gradient of ``model``."""
    tree, _ = read_module(path)
    names = _Names(Checker(model))
    return [f.name for f in functions_in(tree) if _assigns_gradient(f, names.gradient)]


def _assigns_gradient(function, gradient) -> bool:
    for node in ast.walk(function):
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(gradient(n) for t in targets for n in _target_names(t)):
                return True
    return False


def _target_names(target) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for t in target.elts for n in _target_names(t)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return []


# ----- the model's names -----

class _Names:
    """Which names of the function are the model's, and which are its gradients."""

    def __init__(self, checker: Checker):
        self.batch = checker.space(True)
        self.layer = checker.space(True, True) if checker.derivation.layer is not None else None

    def model(self, name: str):
        """The expression a name of the model stands for, or None."""
        if name in self.batch.names:
            return ast.Name(name, ast.Load())
        if self.layer is not None:
            if f"{name}[{INDEX}]" in self.layer.names:
                return ast.parse(f"{name}[{INDEX}]", mode="eval").body
            if name in self.layer.names:
                return ast.Name(name, ast.Load())
        return None

    def gradient(self, name: str) -> str | None:
        """The claim's name for a gradient name (``dZ`` in a layer: ``dZ[l]``), or None."""
        if name in self.batch.adjoints:
            return name
        if self.layer is not None:
            if f"{name}[{INDEX}]" in self.layer.adjoints:
                return f"{name}[{INDEX}]"
            if name in self.layer.adjoints:
                return name
        return None


# ----- following the function -----

def check_homework(model, path, function: str, *, time_limit=None, checker=None) -> Report:
    """The report on the gradient lines of ``function`` in the file ``path``."""
    shown = str(path)
    tree, lines = read_module(path)
    checker = checker or (Checker(model) if time_limit is None
                          else Checker(model, time_limit=time_limit))
    names = _Names(checker)
    node = find_function(tree, function, shown, names.gradient)
    body = list(node.body)
    if sum(isinstance(n, ast.stmt) for n in ast.walk(node)) > MAX_STATEMENTS:
        raise SpecError(f"function '{function}' is too long to follow; expected a homework "
                        "function", file=shown)
    return _Follower(checker, names, shown, lines).run(node, body, Report(shown, function))


class _Follower:
    def __init__(self, checker, names, shown, lines):
        self.checker, self.names, self.shown, self.lines = checker, names, shown, lines
        self.env = {}  # local name -> ast.expr, tuple of them, or _Unreadable
        self.aliases = {}  # dZ = dA (no copy): dZ -> dA, one array under two names

    def source(self, stmt) -> str:
        first = self.lines[stmt.lineno - 1].strip() if stmt.lineno <= len(self.lines) else ""
        if getattr(stmt, "end_lineno", stmt.lineno) != stmt.lineno:
            first += " ..."
        return first

    def run(self, function, body, report) -> Report:
        for arg in function.args.posonlyargs + function.args.args + function.args.kwonlyargs:
            self.env[arg.arg] = self.names.model(arg.arg) or _Container(arg.arg)
        for i, stmt in enumerate(body):
            if isinstance(stmt, ast.Return):
                break
            self.statement(stmt, body[i + 1:], report)
        return report

    def statement(self, stmt, rest, report) -> None:
        if isinstance(stmt, ast.Expr) and not _harmless(stmt):
            changed = _mutated(stmt)  # dZ.fill(0), np.copyto(dZ, x): changed in place
            changed |= {a for a, b in self.aliases.items() if b in changed or a in changed}
            changed |= {self.aliases[a] for a in changed if a in self.aliases}
            for name in changed:
                self.env[name] = _Unreadable(f"{name} (changed in place on line {stmt.lineno})")
            return
        if isinstance(stmt, (ast.Expr, ast.Assert, ast.Pass, ast.Import, ast.ImportFrom,
                             ast.Global, ast.Nonlocal)):
            return  # docstrings, print(...), asserts: no values
        if isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            return self.not_followed(stmt, "inside a loop", report)
        if isinstance(stmt, (ast.If, ast.With, ast.AsyncWith, ast.Try, ast.Match)
                      if hasattr(ast, "Match") else (ast.If, ast.With, ast.Try)):
            kind = {ast.If: "inside an if"}.get(type(stmt), "inside a block")
            return self.not_followed(stmt, kind, report)
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.env[stmt.name] = _Unreadable(stmt.name)
            return
        if isinstance(stmt, ast.AugAssign):
            stmt = ast.copy_location(ast.Assign(
                [ast.Name(stmt.target.id, ast.Store())] if isinstance(stmt.target, ast.Name)
                else [stmt.target],
                ast.BinOp(_load(stmt.target), stmt.op, stmt.value)), stmt)
        if isinstance(stmt, ast.AnnAssign):
            if stmt.value is None:
                return
            stmt = ast.copy_location(ast.Assign([stmt.target], stmt.value), stmt)
        if isinstance(stmt, ast.Assign):
            return self.assign(stmt, rest, report)
        # anything else (delete, raise...): the names it touches become unknown
        for name in {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)}:
            self.env[name] = _Unreadable(f"line {stmt.lineno}")

    def not_followed(self, stmt, why, report) -> None:
        for node in ast.walk(stmt):
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    for name in _target_names(t) + _masked(t):
                        self.env[name] = _Unreadable(f"{name} ({why}, line {stmt.lineno})")
                        if self.names.gradient(name):
                            report.lines.append(Line(node.lineno, self.source(node), name,
                                                     NOT_FOLLOWED, reason=f"{why}; "
                                                     "symgrad follows straight-line code"))
            elif isinstance(node, (ast.For, ast.comprehension)):
                for name in _target_names(node.target):
                    self.env[name] = _Unreadable(f"{name} ({why}, line {stmt.lineno})")

    def assign(self, stmt, rest, report) -> None:
        value = stmt.value
        for target in stmt.targets:
            if isinstance(target, ast.Subscript):
                self.subscript_store(stmt, target, value, rest, report)
            elif isinstance(target, ast.Name):
                self.bind(stmt, target.id, value, rest, report)
            elif isinstance(target, (ast.Tuple, ast.List)):
                self.unpack(stmt, target, value, rest, report)
            else:
                for name in _target_names(target):
                    self.env[name] = _Unreadable(name)

    def unpack(self, stmt, target, value, rest, report) -> None:
        names = [t.id if isinstance(t, ast.Name) else None for t in target.elts]
        if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(names):
            for name, elt in zip(names, value.elts, strict=True):
                if name:
                    self.bind(stmt, name, elt, rest, report)
            return
        if isinstance(value, ast.Name) and isinstance(self.env.get(value.id), _Container) \
                and None not in names:
            # a cache unpacked: each name stands for the model's name it spells
            items = []
            for name in names:
                self.env[name] = self.names.model(name) or _Container(name)
                items.append(self.env[name])
                if self.names.gradient(name):
                    report.lines.append(Line(stmt.lineno, self.source(stmt), name, NOT_CHECKED,
                                             reason=f"read from {value.id}, not computed"))
            self.env[value.id] = tuple(items)
            return
        what = _short(value)
        for name in _target_names(target):
            self.env[name] = _Unreadable(what)
            self.gradient_line(stmt, name, None, rest, report, _Unreadable(what))

    def subscript_store(self, stmt, target, value, rest, report) -> None:
        base = target.value
        if not isinstance(base, ast.Name):
            return
        name = base.id
        if not self.names.gradient(name) and not isinstance(self.env.get(name), ast.expr):
            return  # grads["dW1"] = dW1, a dictionary's entry: nothing claimed
        mask = _mask(target.slice, value)
        if mask is None:
            self.env[name] = _Unreadable(f"{_short(target)} = {_short(value)}")
            self.gradient_line(stmt, name, None, rest, report,
                               _Unreadable(f"{_short(target)} = {_short(value)}"))
            return
        expr = ast.BinOp(ast.Name(name, ast.Load()), ast.Mult(), mask)
        shared = {a for a, b in self.aliases.items() if b == name} | (
            {self.aliases[name]} if name in self.aliases else set())
        self.bind(stmt, name, expr, rest, report)
        for other in shared:  # the mask changed the array both names hold
            self.env[other] = _Unreadable(f"{other} (changed in place on line {stmt.lineno}, "
                                          f"through {name})")
            self.aliases.pop(other, None)


    def bind(self, stmt, name, value, rest, report) -> None:
        self.aliases.pop(name, None)
        if isinstance(value, ast.Name) and value.id != name:
            self.aliases[name] = value.id  # no copy: the same array
        try:
            expr = self.resolve(value)
        except _Unreadable as err:
            self.env[name] = err
            self.gradient_line(stmt, name, None, rest, report, err)
            return
        if isinstance(expr, ast.expr) and (sum(1 for _ in ast.walk(expr)) > MAX_NODES
                                           or _depth(expr) > MAX_FILE_NESTING):
            err = _Unreadable(f"{name} (its expression grows past {MAX_NODES} terms)")
            self.env[name] = err
            self.gradient_line(stmt, name, None, rest, report, err)
            return
        if isinstance(expr, (tuple, _Container)):
            model = self.names.model(name)  # Z = cache: the model's Z
            self.env[name] = model if model is not None and isinstance(expr, _Container) \
                else expr
            return
        self.env[name] = expr
        self.gradient_line(stmt, name, expr, rest, report)

    def gradient_line(self, stmt, name, expr, rest, report, unreadable=None) -> None:
        claim_name = self.names.gradient(name)
        if claim_name is None:
            return
        source = self.source(stmt)
        if unreadable is not None:
            report.lines.append(Line(stmt.lineno, source, name, NOT_CHECKED,
                                     reason=f"uses {unreadable.what}, which could not be read"))
            return
        text = ast.unparse(expr)
        later = _next_use(name, rest)
        if later is not None and name in _mutated(later):
            report.lines.append(Line(stmt.lineno, source, name, NOT_CHECKED, text,
                                     reason=f"{name} is changed in place on line "
                                            f"{later.lineno}, which could not be read"))
            self.env[name] = _Unreadable(f"{name} (changed in place on line {later.lineno})")
            return
        if later is not None and _changes(later, name):
            report.lines.append(Line(stmt.lineno, source, name, STEP, text,
                                     reason=f"{name} is changed on line {later.lineno} before it "
                                            "is used; checked there"))
            return  # the expression stays in env, for the line that finishes it
        if later is not None and _overwrites(later, name):
            report.lines.append(Line(stmt.lineno, source, name, NOT_CHECKED, text,
                                     reason=f"replaced on line {later.lineno} before it is "
                                            "used"))
            self.env[name] = self.names.model(name) or ast.Name(name, ast.Load())
            return
        self.env[name] = self.names.model(name) or ast.Name(name, ast.Load())
        try:
            claim = Claim.of(claim_name, text, True, {"file": self.shown, "line": stmt.lineno})
            verdict = self.checker.judge(*self.checker.prepare(claim))
        except SpecError as err:
            report.lines.append(Line(stmt.lineno, source, name, NOT_CHECKED, text,
                                     reason=err.message))
            return
        verdict.claim = text
        report.lines.append(Line(stmt.lineno, source, name, verdict.status, text,
                                 verdict=verdict))

    # ----- expressions -----

    def resolve(self, node):
        """``node`` with the local names substituted; _Unreadable where it cannot be."""
        if isinstance(node, ast.Name):
            value = self.env.get(node.id)
            if isinstance(value, _Unreadable):
                raise value
            if value is None:
                return ast.Name(node.id, ast.Load())  # a global: the checker judges the name
            if isinstance(value, _Container):
                return value
            return copy.deepcopy(value) if isinstance(value, ast.expr) else value
        if isinstance(node, ast.Constant):
            if isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
                return node
            raise _Unreadable(_short(node))
        if isinstance(node, ast.BinOp):
            return ast.BinOp(self.expr(node.left), node.op, self.expr(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return ast.UnaryOp(node.op, self.expr(node.operand))
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            return ast.Compare(self.expr(node.left), node.ops,
                               [self.expr(node.comparators[0])])
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id in MODULES:
                return node
            if node.attr in ATTRIBUTES:
                return ast.Attribute(self.expr(node.value), node.attr, ast.Load())
            raise _Unreadable(_short(node))
        if isinstance(node, ast.Subscript):
            return self.subscript(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, (ast.Tuple, ast.List)):
            return tuple(self.expr(e) for e in node.elts)
        raise _Unreadable(_short(node))

    def expr(self, node) -> ast.expr:
        out = self.resolve(node)
        if isinstance(out, (tuple, _Container)):
            raise _Unreadable(_short(node))
        return out

    def subscript(self, node):
        at = node.slice
        if isinstance(node.value, ast.Attribute) and node.value.attr == "shape":
            return ast.Subscript(self.expr(node.value), at, ast.Load())  # X.shape[1]
        if isinstance(node.value, ast.Name):
            held = self.env.get(node.value.id)
            if isinstance(held, tuple) and isinstance(at, ast.Constant) \
                    and type(at.value) is int and -len(held) <= at.value < len(held):
                return copy.deepcopy(held[at.value])  # cache[0]
            if isinstance(at, ast.Constant) and isinstance(at.value, str) \
                    and isinstance(held, _Container):
                model = self.names.model(at.value)  # parameters["W1"], cache["A1"]
                if model is not None:
                    return model
        raise _Unreadable(_short(node))

    def call(self, node):
        func = node.func
        if isinstance(func, ast.Name) and func.id in ("relu_backward", "sigmoid_backward",
                                                      "tanh_backward") and len(node.args) == 2:
            upstream = self.expr(node.args[0])
            z = self.activation_input(node.args[1])
            return _backward(func.id, upstream, z)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                and func.value.id in MODULES and func.attr == "array" and node.args:
            return self.expr(node.args[0])  # np.array(dA, copy=True): dA
        if isinstance(func, ast.Attribute) and func.attr == "reshape" and len(node.args) == 1 \
                and isinstance(node.args[0], ast.Attribute) and node.args[0].attr == "shape":
            return self.expr(func.value)  # Y.reshape(AL.shape): Y, its shape checked later
        if isinstance(func, ast.Attribute) and func.attr == "copy" and not node.args:
            return self.expr(func.value)  # dA.copy()
        if isinstance(func, ast.Name) and func.id not in KEPT:
            raise _Unreadable(f"{func.id}()")
        if isinstance(func, ast.Attribute) and not (
                (isinstance(func.value, ast.Name) and func.value.id in MODULES)
                or func.attr in ATTRIBUTES):
            raise _Unreadable(_short(func) + "()")
        new_func = func if isinstance(func, ast.Name) or (
            isinstance(func.value, ast.Name) and func.value.id in MODULES) \
            else ast.Attribute(self.expr(func.value), func.attr, ast.Load())
        args = [self.expr(a) for a in node.args if not isinstance(a, ast.Starred)]
        if len(args) != len(node.args):
            raise _Unreadable(_short(node))
        if any(k.arg in (None, "out") for k in node.keywords):
            raise _Unreadable(_short(node))  # out= writes into an array; **kwargs unknown
        keywords = [ast.keyword(k.arg, self.resolve_keyword(k.value)) for k in node.keywords]
        return ast.Call(new_func, args, keywords)

    def resolve_keyword(self, node):
        if isinstance(node, ast.Constant):
            return node
        return self.expr(node)

    def activation_input(self, node) -> ast.expr:
        """What an activation cache holds: Z (the course's helpers store Z there)."""
        if isinstance(node, ast.Name):
            held = self.env.get(node.id)
            if isinstance(held, _Unreadable):
                raise held
            if isinstance(held, ast.expr):
                return copy.deepcopy(held)
        z = self.names.model("Z")
        if z is None:
            raise _Unreadable(f"{_short(node)} (no Z in the model)")
        return z


def _backward(helper, upstream, z) -> ast.expr:
    """The course's activation backward helpers, as what they compute from dA and Z."""
    text = {"relu_backward": "dA * (Z > 0)",
            "sigmoid_backward": "dA * sigmoid(Z) * (1 - sigmoid(Z))",
            "tanh_backward": "dA * (1 - tanh(Z) ** 2)"}[helper]
    tree = ast.parse(text, mode="eval").body
    for node in ast.walk(tree):
        for fieldname, child in ast.iter_fields(node):
            if isinstance(child, ast.Name) and child.id in ("dA", "Z"):
                setattr(node, fieldname, copy.deepcopy(upstream if child.id == "dA" else z))
    return tree


def _mask(at, value):
    """``dZ[Z <= 0] = 0`` keeps dZ where Z > 0: the mask ``(Z > 0)``; None for other stores."""
    negate = {ast.Gt: ast.LtE, ast.GtE: ast.Lt, ast.Lt: ast.GtE, ast.LtE: ast.Gt}
    if not (isinstance(value, ast.Constant) and value.value == 0
            and isinstance(at, ast.Compare) and len(at.ops) == 1
            and type(at.ops[0]) in negate):
        return None
    return ast.Compare(at.left, [negate[type(at.ops[0])]()], at.comparators)


def _masked(target) -> list[str]:
    if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
        return [target.value.id]
    return []


def _load(target):
    out = copy.deepcopy(target)
    for node in ast.walk(out):
        if hasattr(node, "ctx"):
            node.ctx = ast.Load()
    return out


def _reads(stmt, name) -> bool:
    value_parts = [stmt.value] if isinstance(stmt, (ast.Assign, ast.AugAssign)) else [stmt]
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
        if stmt.target.id == name:
            return True
    if isinstance(stmt, ast.Assign):
        value_parts += [t for t in stmt.targets if isinstance(t, ast.Subscript)]
    return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)
               for part in value_parts for n in ast.walk(part))


def _writes(stmt, name) -> bool:
    if isinstance(stmt, ast.Assign):
        return any(name in _target_names(t) + _masked(t) for t in stmt.targets)
    if isinstance(stmt, ast.AugAssign):
        return name in _target_names(stmt.target)
    return False


def _next_use(name, rest):
    """The first later statement that reads or writes ``name`` (one at top level)."""
    for stmt in rest:
        if isinstance(stmt, ast.Return):
            return stmt
        if _reads(stmt, name) or _writes(stmt, name) or any(
                isinstance(n, ast.Name) and n.id == name for n in ast.walk(stmt)):
            return stmt
    return None


def _harmless(stmt) -> bool:
    """A docstring, or a call of print: an expression statement that changes no array."""
    value = stmt.value
    if isinstance(value, ast.Constant):
        return True
    return isinstance(value, ast.Call) and isinstance(value.func, ast.Name) \
        and value.func.id == "print"


def _mutated(stmt) -> set:
    """The names that ``stmt`` may change in place: those an expression statement mentions
    (``dZ.fill(0)``, ``np.copyto(dZ, x)``) and those given as ``out=``."""
    found = set()
    if isinstance(stmt, ast.Expr) and not _harmless(stmt):
        found |= {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)} - set(MODULES)
    for node in ast.walk(stmt):
        if isinstance(node, ast.keyword) and node.arg == "out":
            found |= {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
    return found


def _changes(stmt, name) -> bool:
    """``stmt`` changes ``name`` from its value: ``dA2 = dA2 * D2``, ``dZ[Z <= 0] = 0``."""
    if not _writes(stmt, name):
        return False
    if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Subscript)
                                           and _masked(t) == [name] for t in stmt.targets):
        return _mask(stmt.targets[0].slice, stmt.value) is not None
    return _reads(stmt, name)


def _overwrites(stmt, name) -> bool:
    return _writes(stmt, name) and not _reads(stmt, name)


def _short(node) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 40 else text[:37] + "..."
