"""Math and textbook notation for claims, read into Python expression syntax.

A claim may be written as on paper or in LaTeX; :func:`to_python` turns it into the Python
syntax that :mod:`symgrad.claims.numpy_notation` and then the whitelist parser read. Text that is
already Python syntax comes out unchanged. The text is cut into tokens by a small tokenizer with
an allow-list (a character outside it is refused by name) and read by a recursive-descent parser
that builds a Python syntax tree from its own nodes, printed with ``ast.unparse``; nothing is
ever evaluated.

What is read (see :mod:`symgrad.claims.claim` for the names a claim may use):

* powers ``a^2``, ``a^{2}``, ``a²``, ``e^{-z}`` (``exp(-z)``); transposes ``X^T``, ``X^{T}``,
  ``X^\\top``, ``Xᵀ``, ``A'``;
* elementwise products ``.*``, ``⊙``, ``\\odot``, ``\\circ``, ``*``; ``−`` (U+2212) as ``-``;
* ``·``, ``\\cdot``, ``×``, ``\\times`` and juxtaposition (``(1/m) dZ A^T``, ``2a``,
  ``a (1 - a)``): ``dot(u, v)``, which the claim's scope reads by shapes (a number times an
  array, a matrix product where only it fits, an elementwise product where only it fits, and a
  question where both fit);
* ``σ(z)``, ``\\sigma(z)`` (sigmoid), ``σ'(z)``, ``tanh'(z)``, ``relu'(z)`` (their derivatives
  written out), ``g'(z1)`` and ``g^{[1]'}(Z^{[1]})`` (``gprime(z1)``: the derivative of the
  activation that the model applies to z1);
* names ``ŷ``, ``\\hat{y}`` (``yhat``), Greek letters (``λ``: ``lambd``), subscripts ``W_1``,
  ``W_{1}``, ``W₁`` (``W1``), layer superscripts ``W^{[2]}`` (``W2``), ``W^{[l]}``,
  ``A^{[l-1]}``, ``W^{[l]T}`` (``W[l]``, ``A[l-1]``, ``W[l].T``), ``A^{[L]}`` (``A[L]``, the
  output layer);
* LaTeX ``\\frac{a}{b}``, ``\\left(``, ``\\right)``, ``{}`` groups, ``\\log``, ``\\exp``,
  ``\\tanh``, ``\\sqrt``, and sums over the examples: ``\\sum_{i=1}^{m}`` of a term whose names
  carry the example index (``dz^{(i)}``, ``x^{(i)}``) is that term's sum along the rows of the
  stacked names (``sum(dZ, axis=1)``); ``\\sum dZ`` is the sum over the examples too.

:func:`left_side` reads a claim's left side: ``dz``, ``dL/dz``, ``∂L/∂z``,
``\\frac{\\partial J}{\\partial W^{[2]}}``, ``dZ^{[l]}``, ``dZ[2]``.

>>> to_python("(1/m) dZ A^T")
'dot(1 / m * dZ, A.T)'
>>> left_side("dJ/dW^{[2]}")
('dW2', 'J')
"""

from __future__ import annotations

import ast
import re
import unicodedata

from ..model.errors import SpecError
from ..model.limits import MAX_LENGTH, MAX_NESTING
from ..model.ops import ELEMENTWISE

# ----- tokens -----

_SYMBOLS = {  # character(s) -> token kind (the longest is tried first)
    "**": "**", ".*": "*", "./": "/", ">=": ">=", "<=": "<=",
    "+": "+", "-": "-", "*": "*", "/": "/", "@": "@", "(": "(", ")": ")", "[": "[", "]": "]",
    "{": "{", "}": "}", ",": ",", ".": ".", "^": "^", "_": "_", "'": "'", "=": "=", ">": ">",
    "<": "<",
    "\u2212": "-", "\u2013": "-", "\u2299": "*", "\u2218": "*", "\u2217": "*", "\u00b7": "dot",
    "\u22c5": "dot", "\u00d7": "dot", "\u00f7": "/", "\u2032": "'", "\u2019": "'",
    "\u1d40": "T",
}
_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789", strict=True))
_SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉", "0123456789", strict=True))
_LETTERS = {  # letters outside ASCII -> the name they are read as
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "η": "eta",
    "θ": "theta", "λ": "lambd", "μ": "mu", "π": "pi", "ρ": "rho", "σ": "sigma", "τ": "tau",
    "φ": "phi", "ϕ": "phi", "ω": "omega", "ŷ": "yhat", "Ŷ": "Yhat",
}
_COMMANDS = {  # LaTeX command -> (token kind, value)
    **{name: ("name", _LETTERS.get(ch, name)) for name, ch in (
        ("alpha", "α"), ("beta", "β"), ("gamma", "γ"), ("delta", "δ"), ("epsilon", "ε"),
        ("varepsilon", "ε"), ("eta", "η"), ("theta", "θ"), ("lambda", "λ"), ("mu", "μ"),
        ("pi", "π"), ("rho", "ρ"), ("sigma", "σ"), ("tau", "τ"), ("phi", "φ"),
        ("varphi", "φ"), ("omega", "ω"))},
    **{name: ("function", name) for name in ("log", "exp", "tanh", "sqrt", "sinh", "cosh",
                                               "sin", "cos")},
    "ln": ("function", "log"),
    "frac": ("frac", None), "dfrac": ("frac", None), "tfrac": ("frac", None),
    "sum": ("sum", None), "hat": ("hat", None), "partial": ("partial", None),
    "cdot": ("dot", None), "times": ("dot", None), "odot": ("*", None), "circ": ("*", None),
    "ast": ("*", None), "div": ("/", None), "top": ("T", None), "intercal": ("T", None),
    "prime": ("'", None),
    **{name: ("style", None) for name in ("mathrm", "mathbf", "mathit", "boldsymbol",
                                            "operatorname", "mathcal", "bm", "text")},
    **{name: ("space", None) for name in ("left", "right", "big", "Big", "bigg", "Bigg",
                                            "bigl", "bigr", "Bigl", "Bigr", "quad", "qquad",
                                            ",", ";", ":", "!", " ")},
}
_ALLOWED = "letters, digits, + - * / ^ _ ' ( ) [ ] { } , . @ = < >, ⊙ · × − ᵀ ² and LaTeX"


def tokens(text: str) -> list[tuple[str, str]]:
    """``text`` cut into (kind, value) tokens; a character outside the allow-list is refused.

    >>> [value for _, value in tokens("σ'(z)²")]
    ['sigma', "'", '(', 'z', ')', '^', '{', '2', '}']
    """
    text = unicodedata.normalize("NFC", text)
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "#":  # a comment, as in Python: the rest of the text is not read
            break
        if ch.isspace() or ch == "~":
            i += 1
        elif ch.isdigit() and ch.isascii():
            j = re.match(r"\d+(\.\d*)?([eE][-+]?\d+)?", text[i:]).end()
            out.append(("number", text[i:i + j]))
            i += j
        elif ch == "." and text[i + 1:i + 2].isdigit():
            j = re.match(r"\.\d+([eE][-+]?\d+)?", text[i:]).end()
            out.append(("number", "0" + text[i:i + j]))
            i += j
        elif (ch.isascii() and ch.isalpha()) or ch in _LETTERS:
            j = i
            while j < len(text) and (text[j].isascii() and (text[j].isalnum() or text[j] == "_")
                                     or text[j] in _LETTERS):
                j += 1
            word = "".join(_LETTERS.get(c, c) for c in text[i:j])
            word = re.sub(r"^([A-Za-z]+)_(\d+)$", r"\1\2", word)  # W_1: W1
            if word.endswith("_") and len(word) > 1:  # W_{1}: the subscript follows
                word, j = word[:-1], j - 1
            if j < len(text) and text[j] == "\u0302":  # y followed by a combining circumflex
                word, j = word + "hat", j + 1
            out.append(("T", "T") if word == "T" else ("name", word))
            i = j
        elif ch == "\\":
            match = re.match(r"\\([A-Za-z]+|[,;:! ])", text[i:])
            name = match.group(1) if match else text[i + 1:i + 2]
            if name not in _COMMANDS:
                raise SpecError(f"LaTeX command '\\{name}' in '{text}' is not read; expected "
                                f"one of \\frac \\cdot \\odot \\top \\log \\exp \\sigma \\sum "
                                f"\\hat \\left \\right (or write it in Python syntax)")
            kind, value = _COMMANDS[name]
            if kind != "space":
                out.append((kind, value or kind))
            i += 1 + len(name)
        elif ch in _SUPERSCRIPTS or ch == "⁻":
            j = i
            while j < len(text) and (text[j] in _SUPERSCRIPTS or text[j] == "⁻"):
                j += 1
            digits = "".join(_SUPERSCRIPTS.get(c, "-") for c in text[i:j])
            out += [("^", "^"), ("{", "{")] + tokens(digits) + [("}", "}")]
            i = j
        elif ch in _SUBSCRIPTS:
            j = i
            while j < len(text) and text[j] in _SUBSCRIPTS:
                j += 1
            out += [("_", "_"), ("number", "".join(_SUBSCRIPTS[c] for c in text[i:j]))]
            i = j
        else:
            pair = text[i:i + 2]
            symbol = pair if pair in _SYMBOLS else ch
            if symbol not in _SYMBOLS:
                code = f"U+{ord(ch):04X}"
                raise SpecError(f"character '{ch}' ({code}) in '{text}' is not part of the "
                                f"notation symgrad reads; expected {_ALLOWED}")
            kind = _SYMBOLS[symbol]
            out.append((kind, "T" if kind == "T" else symbol))
            i += len(symbol)
    return out


# ----- names -----

CALLS = frozenset(ELEMENTWISE) | frozenset({  # read as functions when "(" follows, else a product
    "sum", "transpose", "softmax", "heaviside", "sign", "mean", "squeeze", "shape", "dot",
    "gprime", "sech", "diag", "ones", "ones_like", "eye", "onehot",  # Space.functions()
    "outer", "where", "multiply", "power", "int", "float", "max", "min", "np", "len",
})
# the derivatives of the activations written out, as functions of the argument's text
PRIMES = {
    "sigmoid": "sigmoid({0}) * (1 - sigmoid({0}))",
    "tanh": "1 - tanh({0})**2",
    "relu": "heaviside({0})",
    "exp": "exp({0})",
    "log": "1 / ({0})",
}
_GENERIC = ("g", "f")  # g'(z): the derivative of the model's activation at z
_SCALAR_NAMES = {"m"}  # always a number: a product with it is a plain product
_OUTPUTS = ("L", "J")


def stacked(name: str) -> str:
    """A per-example name stacked over the examples, as the course writes it (dz -> dZ)."""
    if name.startswith("d") and len(name) > 1:
        return "d" + stacked(name[1:])
    return name[:1].upper() + name[1:]


def _subscripted(name: str, index: str) -> str:
    """``W`` with the layer ``index`` (``2``: ``W2``, ``l``: ``W[l]``, ``l-1``: ``W[l-1]``)."""
    index = "".join(index.split())
    if index.isdigit():
        return f"{name}{index}"
    if re.fullmatch(r"[lL]([-+]1)?", index):  # l+1 is refused, with its reason, by the claim
        return f"{name}[{index}]"
    raise SpecError(f"layer index '[{index}]' of {name} is not read; expected a number or "
                    "l, l-1, L, L-1")


# ----- the parser -----

class _Parser:
    """Recursive descent over the tokens, building a Python syntax tree."""

    def __init__(self, text, toks):
        self.text, self.toks, self.i = text, toks, 0
        self.sums = 0  # inside a sum over the examples
        self.examples = 0  # names with the example index read inside the current sum

    def peek(self, k=0):
        at = self.i + k
        return self.toks[at] if at < len(self.toks) else ("end", "")

    def take(self, kind=None):
        tok = self.peek()
        if kind is not None and tok[0] != kind:
            shown = tok[1] or "the end"
            raise self.error(f"expected '{kind}' but found '{shown}'")
        self.i += 1
        return tok

    def error(self, what) -> SpecError:
        return SpecError(f"{what} in '{self.text}'")

    # levels, lowest first

    def expression(self):
        left = self.additive()
        ops = {">": ast.Gt(), "<": ast.Lt(), ">=": ast.GtE(), "<=": ast.LtE()}
        if self.peek()[0] in ops:
            op = ops[self.take()[0]]
            return ast.Compare(left, [op], [self.additive()])
        return left

    def additive(self):
        node = self.product()
        while self.peek()[0] in "+-":
            op = ast.Add() if self.take()[0] == "+" else ast.Sub()
            node = ast.BinOp(node, op, self.product())
        return node

    def product(self):
        node = self.unary()
        while True:
            kind = self.peek()[0]
            if kind in ("*", "/", "@"):
                self.take()
                op = {"*": ast.Mult(), "/": ast.Div(), "@": ast.MatMult()}[kind]
                node = ast.BinOp(node, op, self.unary())
            elif kind == "dot":
                self.take()
                node = self.juxtapose(node, self.unary())
            elif self.starts_operand():
                node = self.juxtapose(node, self.power())
            else:
                return node

    def starts_operand(self) -> bool:
        kind = self.peek()[0]
        return kind in ("number", "name", "(", "{", "function", "frac", "sum", "hat", "style")

    def juxtapose(self, left, right):
        if self.sums or _scalar(left) or _scalar(right):
            return ast.BinOp(left, ast.Mult(), right)
        return _call("dot", left, right)

    def unary(self):
        kind = self.peek()[0]
        if kind in "+-":
            self.take()
            operand = self.unary()
            return operand if kind == "+" else ast.UnaryOp(ast.USub(), operand)
        return self.power()

    def power(self):
        node = self.postfix(self.atom())
        if self.peek()[0] == "**":
            self.take()
            return ast.BinOp(node, ast.Pow(), self.unary())
        return node

    def postfix(self, node):
        while True:
            kind, value = self.peek()
            if kind == "^":
                self.take()
                node = self.superscript(node)
            elif kind == "T":
                self.take()
                node = self.transposed(node)
            elif kind == "'":
                self.take()
                node = self.transposed(node)
            elif kind == "_" and isinstance(node, ast.Name):
                self.take()
                node = ast.Name(node.id + self.subscript())
            elif kind == "." and self.peek(1)[0] in ("name", "T"):
                self.take()
                attr = self.take()[1]
                node = ast.Attribute(node, attr) if attr != "T" else self.transposed(node)
                if self.peek()[0] == "(":
                    node = self.call(node)
            elif kind == "[" and isinstance(node, (ast.Name, ast.Attribute)):
                node = self.bracket(node)
            else:
                return node

    def transposed(self, node):
        if self.sums and isinstance(node, ast.Name) and self.examples:
            raise self.error("a transposed example (a sum of outer products) is not read; "
                             "expected the stacked form, such as dZ X^T")
        return ast.Attribute(node, "T")

    def bracket(self, node):
        """``W[2]`` (``W2``), ``W[l]``, ``A[l-1]``, ``A[L]``; ``X.shape[1]`` as written."""
        self.take("[")
        start = self.i
        depth = 1
        while depth:
            kind = self.take()[0]
            if kind == "end":
                raise self.error("'[' is not closed")
            depth += {"[": 1, "]": -1}.get(kind, 0)
        inner = "".join(v for _, v in self.toks[start:self.i - 1])
        if isinstance(node, ast.Name) and (inner.isdigit() or re.fullmatch(r"[lL](-1)?",
                                                                               inner)):
            return ast.Name(_subscripted(node.id, inner)) if inner.isdigit() else \
                ast.Subscript(node, _read(inner))
        return ast.Subscript(node, _read(inner))

    def subscript(self) -> str:
        if self.peek()[0] == "{":
            self.take()
            parts = []
            while self.peek()[0] != "}":
                kind, value = self.take()
                if kind not in ("number", "name", ","):
                    raise self.error(f"'{value}' in a subscript is not read; expected a "
                                     "number or a name, such as W_{1}")
                parts.append(value)
            self.take("}")
            return "".join(parts)
        kind, value = self.take()
        if kind not in ("number", "name"):
            raise self.error(f"'{value}' after '_' is not read; expected a number or a name")
        return value

    def superscript(self, node):
        """After ``^``: a transpose, a layer index, the example index or an exponent."""
        kind, _ = self.peek()
        if kind == "T":
            self.take()
            return self.transposed(node)
        if kind == "{":
            close = self.closing(self.i)
            inner = self.toks[self.i + 1:close]
            if inner and inner[0][0] == "[" and isinstance(node, ast.Name):
                end = next((k for k, t in enumerate(inner) if t[0] == "]"), None)
                if end is None:
                    raise self.error("'[' is not closed")
                index = "".join(v for _, v in inner[1:end])
                node = ast.Name(_subscripted(node.id, index))
                rest = inner[end + 1:]
                node = self.layer_name(node)
                self.i = close + 1
                if [t[0] for t in rest[:1] + rest[2:3]] == ["(", ")"] and len(rest) == 3:
                    self.i = close  # dz^{[2](i)}: example i of dz2
                    return self.example(node, close)
                for tok in rest:
                    if tok[0] in ("^", "{", "}"):  # W^{[l]^T}, W^{[l]^{T}}
                        continue
                    if tok[0] == "T":
                        node = self.transposed(node)
                    elif tok[0] == "'":
                        self.toks.insert(self.i, tok)
                    else:
                        raise self.error(f"'{tok[1]}' after a layer index is not read; "
                                         "expected T, as in W^{[l]T}")
                return node
            if inner and inner[0][0] == "(" and isinstance(node, ast.Name):
                if any(t[0] == "T" for t in inner):
                    raise self.error("a transposed example (a sum of outer products) is not "
                                     "read; expected the stacked form, such as dZ X^T")
                return self.example(node, close)
            if len(inner) == 1 and inner[0][0] == "T":
                self.i = close + 1
                return self.transposed(node)
        if kind == "(" and isinstance(node, ast.Name) and self.peek(2)[0] == ")" \
                and self.peek(1)[0] == "name":
            return self.example(node, self.i + 2, braces=False)
        exponent = self.exponent()
        if isinstance(node, ast.Name) and node.id == "e":
            return _call("exp", exponent)
        return ast.BinOp(node, ast.Pow(), exponent)

    def layer_name(self, node):
        """``W[l]`` as the parser's subscript node; ``W2`` as a name."""
        match = re.fullmatch(r"(\w+)\[([lL](?:[-+]1)?)\]", node.id)
        return ast.Subscript(ast.Name(match.group(1)), _read(match.group(2))) if match else node

    def example(self, node, close, braces=True):
        """``dz^{(i)}``: example i of dz, read as the stacked dZ inside a sum over examples."""
        if not self.sums:
            raise self.error(f"'{node.id}^{{(i)}}' is one example; expected it inside a sum "
                             "over the examples, such as \\frac{1}{m} \\sum_{i=1}^{m} "
                             f"{node.id}^{{(i)}}")
        self.i = close + 1
        self.examples += 1
        return ast.Name(stacked(node.id))

    def closing(self, at):
        depth = 0
        for k in range(at, len(self.toks)):
            depth += {"{": 1, "}": -1}.get(self.toks[k][0], 0)
            if depth == 0:
                return k
        raise self.error("'{' is not closed")

    def exponent(self):
        kind, value = self.peek()
        if kind in ("{", "("):
            return self.atom()
        if kind == "number":
            self.take()
            return _number(value)
        if kind == "name" and len(value) == 1:
            self.take()
            return ast.Name(value)
        if kind == "-":
            self.take()
            return ast.UnaryOp(ast.USub(), self.exponent())
        raise self.error(f"'{value or 'the end'}' after '^' is not read; expected a number, "
                         "T or a group in braces, such as a^2, X^T, e^{-z}")

    def atom(self):
        kind, value = self.take()
        if kind == "number":
            return _number(value)
        if kind == "name":
            return self.named(value)
        if kind in ("(", "{", "["):
            node = self.expression()
            self.take({"(": ")", "{": "}", "[": "]"}[kind])
            return node
        if kind == "function":
            return self.function(value)
        if kind == "frac":
            reference = self.reference()
            if reference is not None:
                return reference
            top = self.group()
            return ast.BinOp(top, ast.Div(), self.group())
        if kind == "sum":
            return self.sum()
        if kind == "hat":
            name = self.group()
            if not isinstance(name, ast.Name):
                raise self.error("\\hat of an expression is not read; expected a name, such "
                                 "as \\hat{y}")
            return ast.Name(name.id + "hat")
        if kind == "style":
            return self.group()
        if kind == "end":
            raise self.error("the expression ends too early")
        raise self.error(f"'{value}' is not read here; expected a number, a name or '('")

    def reference(self):
        """``\\frac{\\partial L}{\\partial a}`` or ``\\frac{dL}{da}`` on the right: ``da``."""
        if self.peek()[0] != "{":
            return None
        first = self.peek(1)
        if not (first[0] == "partial" or first[0] == "name" and first[1] in ("dL", "dJ")):
            return None
        start = self.i
        top = _span(self)
        if self.peek()[0] != "{":
            self.i = start
            return None
        bottom = _span(self)
        name, _ = _derivative(self.text, top, bottom)
        return ast.Name(name)

    def group(self):
        """A ``{...}`` group, or a single token (``\\frac12``)."""
        if self.peek()[0] == "{":
            self.take()
            node = self.expression()
            self.take("}")
            return node
        kind, value = self.take()
        if kind == "number" and len(value) > 1 and value.isdigit():  # \frac12: 1 and 2
            self.i -= 1
            self.toks[self.i] = ("number", value[1:])
            return _number(value[0])
        if kind == "number":
            return _number(value)
        if kind == "name":
            return ast.Name(value)
        raise self.error(f"'{value}' is not read as an argument; expected a group in braces")

    def named(self, name):
        if name == "sigma" and self.peek()[0] in ("(", "'"):
            name = "sigmoid"
        if self.peek()[0] == "'" and self.peek(1)[0] == "(":
            return self.prime(name)
        if [k for k, _ in self.toks[self.i:self.i + 5]] == ["^", "{", "'", "}", "("]:
            self.i += 4  # f^{'}(z)
            return self.prime(name, taken=True)
        if name in _GENERIC and self.peek()[0] == "^" and self.peek(1)[0] == "{" \
                and self.peek(2)[0] == "[":  # g^{[1]'}(Z^{[1]}): the layer is the argument's
            close = self.closing(self.i + 1)
            if any(t[0] == "'" for t in self.toks[self.i:close + 2]):
                self.i = close + 1
                if self.peek()[0] == "'":
                    self.take()
                return self.prime(name, taken=True)
        if name in CALLS and self.peek()[0] == "(":
            return self.call(ast.Name(name))
        return ast.Name(name)

    def prime(self, name, taken=False):
        if not taken:
            self.take("'")
        self.take("(")
        arg = self.expression()
        self.take(")")
        if name in _GENERIC:
            return _call("gprime", arg)
        if name not in PRIMES:
            raise self.error(f"the derivative {name}' is not read; expected one of "
                             f"{', '.join(sorted(PRIMES))} or g (the model's activation)")
        text = PRIMES[name].format(ast.unparse(arg))
        return _read(f"({text})")

    def function(self, name):
        if self.peek()[0] == "(":
            return self.call(ast.Name(name))
        if self.peek()[0] == "^" and name in ("log", "tanh"):
            raise self.error(f"\\{name}^ is not read; expected \\{name}(...)^2")
        return _call(name, self.power())

    def call(self, func):
        self.take("(")
        args, keywords = [], []
        while self.peek()[0] != ")":
            if self.peek()[0] == "name" and self.peek(1)[0] == "=":
                key = self.take()[1]
                self.take("=")
                keywords.append(ast.keyword(key, self.expression()))
            else:
                args.append(self.expression())
            if self.peek()[0] != ",":
                break
            self.take(",")
        self.take(")")
        return ast.Call(func, args, keywords)

    def sum(self):
        """``\\sum_{i=1}^{m}`` (or ``\\sum_i``) of a term: a sum over the examples."""
        if self.peek()[0] == "_":
            self.take()
            if self.peek()[0] == "{":
                self.i = self.closing(self.i) + 1
            else:
                self.take()
        if self.peek()[0] == "^":
            self.take()
            if self.peek()[0] == "{":
                self.i = self.closing(self.i) + 1
            else:
                self.take()
        self.sums += 1
        before, self.examples = self.examples, 0
        term = self.product()
        self.examples = before
        self.sums -= 1
        return ast.Call(ast.Name("sum"), [term], [ast.keyword("axis", ast.Constant(1))])


def _number(text):
    return ast.Constant(float(text) if any(c in text for c in ".eE") else int(text))


def _call(name, *args):
    return ast.Call(ast.Name(name), list(args), [])


def _scalar(node) -> bool:
    """True for a number written as one (``2``, ``1/m``): a product with it is plain."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name):
        return node.id in _SCALAR_NAMES
    if isinstance(node, ast.UnaryOp):
        return _scalar(node.operand)
    if isinstance(node, ast.BinOp) and not isinstance(node.op, ast.MatMult):
        return _scalar(node.left) and _scalar(node.right)
    return False


def _read(text):
    return ast.parse(text, mode="eval").body


def _python(text: str) -> bool:
    """True where ``text`` is already Python syntax that means what it says (no ``^``, no
    name called as a function that is not one, no ``W[2]`` or ``W_1``)."""
    if not text.isascii() or any(c in text for c in "^'\\{}"):
        return False
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id not in CALLS:
            return False
        if isinstance(node, ast.Name) and re.fullmatch(r"[A-Za-z]+_\d+", node.id):
            return False
    return True


def _limits(text: str) -> None:
    """Refuse text too long or nested too deeply before any work on it."""
    if len(text) > MAX_LENGTH:
        raise SpecError(f"expression of {len(text)} characters is longer than the limit; "
                        f"expected at most {MAX_LENGTH} characters")
    depth = deepest = 0
    for char in text:
        depth += 1 if char in "([{" else -1 if char in ")]}" else 0
        deepest = max(deepest, depth)
    if deepest > MAX_NESTING:
        raise SpecError(f"'{text[:20]}...' nests parentheses {deepest} deep; expected at most "
                        f"{MAX_NESTING}")


def to_python(text: str) -> str:
    """``text`` in Python expression syntax (unchanged where it already is).

    >>> to_python("σ'(z) ⊙ dA^{[1]}")
    'sigmoid(z) * (1 - sigmoid(z)) * dA1'
    >>> to_python("a - y")
    'a - y'
    """
    if _python(text):
        return text
    _limits(text)
    try:
        toks = tokens(text)
        parser = _Parser(text, toks)
        node = parser.expression()
        if parser.peek()[0] != "end":
            raise parser.error(f"'{parser.peek()[1]}' is not read here; expected an operator "
                               "or the end")
    except SpecError:
        if _plain(text):
            return text  # no math notation in it: the whitelist parser says what is wrong
        raise
    return ast.unparse(node)


def _plain(text: str) -> bool:
    """True for ASCII text without a mark of math notation (``^ ' \\ { }``), or Python."""
    if not text.isascii() or any(c in text for c in "^\\{}"):
        return False
    try:
        ast.parse(text.strip(), mode="eval")
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return "'" not in text


# ----- left sides -----

def left_side(text: str) -> tuple[str, str | None]:
    """(the derivative's name, the output it is taken of, or None) for a claim's left side.

    >>> left_side("∂L/∂z")
    ('dz', 'L')
    >>> left_side("\\\\frac{\\\\partial J}{\\\\partial W^{[l]}}")
    ('dW[l]', 'J')
    >>> left_side("dZ^{[2]}")
    ('dZ2', None)
    """
    squeezed = "".join(str(text).split())
    if not squeezed or _python_name(squeezed):
        return str(text), None
    toks = tokens(str(text).replace("∂", "\\partial "))
    kinds = [k for k, _ in toks]
    if kinds and kinds[0] == "frac":  # \frac{\partial L}{\partial z}
        parser = _Parser(text, toks)
        parser.take()
        top, bottom = _span(parser), _span(parser)
        return _derivative(text, top, bottom)
    if "/" in kinds:
        cut = kinds.index("/")
        return _derivative(text, toks[:cut], toks[cut + 1:])
    return _name(text, toks), None


def _python_name(text):
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\[[lL](-1)?\])?", text) is not None and \
        re.fullmatch(r"[A-Za-z]+_\d+", text) is None


def _span(parser):
    """The tokens of one ``{...}`` group."""
    start = parser.i
    close = parser.closing(start)
    parser.i = close + 1
    return parser.toks[start + 1:close]


def _derivative(text, top, bottom):
    """``dL/dz``, ``∂J/∂W2``: ("dz", "L"), ("dW2", "J")."""
    output = _differential(text, top)
    name = _name(text, _differential(text, bottom, tokens_only=True))
    return "d" + name, output


def _differential(text, toks, tokens_only=False):
    """The variable of ``dL`` or ``\\partial L`` (its name, or its tokens)."""
    if toks and toks[0][0] == "partial":
        rest = toks[1:]
    elif toks and toks[0][0] == "name" and toks[0][1].startswith("d") and len(toks[0][1]) > 1:
        rest = [("name", toks[0][1][1:])] + toks[1:]
    elif toks and toks[0] == ("name", "d"):
        rest = toks[1:]
    else:
        raise SpecError(f"left side '{text}' is not read; expected a derivative such as dz, "
                        "dL/dz, ∂J/∂W2 or \\frac{\\partial L}{\\partial z}")
    if len(rest) > 2 and rest[0][0] == "{" and rest[-1][0] == "}":
        rest = rest[1:-1]
    if rest and rest[0][0] == "style":
        rest = rest[2:-1] if len(rest) > 2 and rest[1][0] == "{" else rest[1:]
    if tokens_only:
        return rest
    if len(rest) != 1 or rest[0][0] != "name":
        raise SpecError(f"left side '{text}': the derivative of '{''.join(v for _, v in rest)}'"
                        f" is not read; expected the loss or the cost ({' or '.join(_OUTPUTS)})")
    return rest[0][1]


def _name(text, toks):
    """``dZ^{[2]}``, ``dZ[2]``, ``dZ_2``, ``dZ^{[l]}``: the derivative's name."""
    parser = _Parser(text, list(toks))
    try:
        node = parser.postfix(parser.atom())
    except SpecError:
        node = None
    if node is None or parser.peek()[0] != "end":
        return text  # the claim says what a derivative's name may be
    return ast.unparse(node).replace(" ", "")
