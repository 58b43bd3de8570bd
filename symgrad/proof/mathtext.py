"""The small part of LaTeX that the graph's labels are printed in, read back: to estimate how
much room a label takes in the PDF, and to write the same mathematics as SVG text (the Markdown
proof's picture) or as one line of Unicode (Graphviz).

:func:`parse` turns a label into a tree of :class:`Atom` runs; :func:`width` and :func:`height`
measure it in em, conservatively (a label drawn is never wider than its estimate: the
proof's tests measure every shipped label with TeX); :func:`runs` flattens it into text runs
with a vertical shift (superscript, subscript) that :mod:`symgrad.proof.svg` writes as
``<tspan>``. A command outside this subset raises ``ValueError`` naming it.

>>> "".join(r.text for r in runs(parse(r"\\mathrm{d}z_{1} \\, x^{\\top}")))
'dz1\\u2009xT'
>>> unicode(r"\\partial a/\\partial z = a \\left(1 - a\\right)")
'∂a/∂z = a(1 − a)'
>>> unicode(r"\\mathrm{d}z^{[l]} \\, a^{[l-1]\\top}")
'dz^[l] a^[l−1]ᵀ'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[{}^_]|\s+|.", re.S)

GREEK = {n: c for n, c in zip(
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu "
    "xi pi rho sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma "
    "Phi Psi Omega".split(),
    "αβγδϵεζηθϑικλμνξπρστυϕφχψωΓΔΘΛΞΠΣΦΨΩ", strict=True)}
SYMBOLS = {**GREEK, "partial": "∂", "wp": "℘", "infty": "∞", "ell": "ℓ", "nabla": "∇",
           "lvert": "|", "rvert": "|", "lVert": "‖", "rVert": "‖", "top": "T", "prime": "′"}
BINARY = {"odot": "⊙", "cdot": "·", "times": "×", "pm": "±", "circ": "∘"}
RELATION = {"leq": "≤", "geq": "≥", "neq": "≠", "approx": "≈", "in": "∈", "to": "→"}
FUNCTIONS = {"log", "exp", "sin", "cos", "tan", "sinh", "cosh", "tanh", "max", "min", "ln"}
FONTS = {"mathrm", "operatorname", "mathbf", "mathcal", "text", "mathit", "boldsymbol",
         "mathbb"}
ACCENTS = {"hat": "\u0302", "tilde": "\u0303", "bar": "\u0304", "dot": "\u0307"}
SPACES = {",": 0.17, ":": 0.22, ";": 0.28, " ": 0.33, "!": 0.0, "quad": 1.0}
CALLIGRAPHIC = {"L": "𝓛", "D": "𝓓", "N": "𝓝"}
IGNORED = {"left", "right", "displaystyle", "big", "Big"}

# widths in em of Computer Modern math italic at its design size, rounded up
WIDE = set("mwMWQ")
BIN_SPACE, REL_SPACE = 0.45, 0.56  # \medmuskip and \thickmuskip on both sides, in em
SCRIPT = 0.72  # a sub- or superscript's size relative to its base


@dataclass
class Atom:
    kind: str  # "letter", "upright", "bin", "rel", "space", "sup", "sub", "frac", "sqrt",
    # "group"
    text: str = ""
    children: tuple = ()  # sup/sub/sqrt/group: (tree,); frac: (num, den)
    italic: bool = False


def parse(latex: str) -> list[Atom]:
    tokens = [t for t in _TOKEN.findall(latex)]
    pos = 0

    def group():
        nonlocal pos
        if pos >= len(tokens):
            raise ValueError(f"unfinished group in {latex!r}")
        if tokens[pos] == "{":
            pos += 1
            return items(closing=True)
        t = tokens[pos]
        pos += 1
        return items_of([t])

    def items_of(toks):
        nonlocal tokens, pos
        saved = tokens, pos
        tokens, pos = toks, 0
        out = items()
        tokens, pos = saved
        return out

    def items(closing=False):
        nonlocal pos
        out: list[Atom] = []
        while pos < len(tokens):
            t = tokens[pos]
            pos += 1
            if t == "}":
                if closing:
                    return out
                raise ValueError(f"unbalanced '}}' in {latex!r}")
            if t == "{":
                out.append(Atom("group", children=(items(closing=True),)))
            elif t in "^_":
                out.append(Atom("sup" if t == "^" else "sub", children=(group(),)))
            elif t.isspace():
                continue
            elif t.startswith("\\"):
                out.extend(command(t[1:]))
            elif t.isalpha():
                out.append(Atom("letter", t, italic=True))
            elif t in "+-":
                out.append(Atom("bin", "−" if t == "-" else "+"))
            elif t in "=<>":
                out.append(Atom("rel", t))
            else:
                out.append(Atom("upright", t))
        if closing:
            raise ValueError(f"unbalanced '{{' in {latex!r}")
        return out

    def command(name):
        nonlocal pos
        if name in SPACES:
            return [Atom("space", " " if SPACES[name] >= 0.3 else "\u2009")]
        if name in IGNORED:
            return []
        if name in SYMBOLS:
            return [Atom("letter", SYMBOLS[name], italic=name in GREEK and name[0].islower())]
        if name in BINARY:
            return [Atom("bin", BINARY[name])]
        if name in RELATION:
            return [Atom("rel", RELATION[name])]
        if name in FUNCTIONS:
            return [Atom("upright", name)]
        if name in ("{", "}", "[", "]", "|"):
            return [Atom("upright", name)]
        if name == "frac":
            num = group()
            return [Atom("frac", children=(num, group()))]
        if name == "sqrt":
            return [Atom("sqrt", children=(group(),))]
        if name in FONTS:
            inner = group()
            if name == "mathcal":
                return [Atom("letter", "".join(CALLIGRAPHIC.get(a.text, a.text) for a in inner))]
            if name == "mathbf" and [a.text for a in inner] == ["1"]:
                return [Atom("upright", "𝟏")]
            return [Atom("upright", a.text, a.children) if a.kind == "letter" else a
                    for a in inner]
        if name in ACCENTS:
            inner = group()
            if len(inner) == 1 and inner[0].kind == "letter":
                a = inner[0]
                return [Atom("letter", a.text + ACCENTS[name], italic=a.italic)]
            return [Atom("group", children=(inner,))]
        raise ValueError(f"no reading of the LaTeX command \\{name} in a graph label")

    return items()


# ----- size -----


def _char_width(c: str) -> float:
    if c.isdigit():
        return 0.5
    if c in WIDE:
        return 1.0
    if c.isalpha():
        return 0.82 if c.isupper() else 0.6
    if c in "()[]|":
        return 0.4
    if c in ",.;":
        return 0.3
    if c in "/":
        return 0.5
    return 0.8


def width(tree, scale: float = 1.0) -> float:
    """How wide ``tree`` is, in em, at the font's size times ``scale``; an upper bound."""
    w = 0.0
    for a in tree:
        if a.kind in ("letter", "upright"):
            w += sum(_char_width(c) for c in a.text if not 0x300 <= ord(c) < 0x370) * scale
            if a.kind == "upright" and len(a.text) > 1:  # an operator name: space after
                w += 0.17 * scale
        elif a.kind == "bin":
            w += (0.8 + 2 * BIN_SPACE) * scale
        elif a.kind == "rel":
            w += (0.8 + 2 * REL_SPACE) * scale
        elif a.kind == "space":
            w += (0.33 if a.text == " " else 0.17) * scale
        elif a.kind in ("sup", "sub"):
            w += width(a.children[0], scale * SCRIPT) + 0.06
        elif a.kind == "frac":
            w += max(width(c, scale * SCRIPT) for c in a.children) + 0.25 * scale
        elif a.kind == "sqrt":
            w += width(a.children[0], scale) + 0.9 * scale
        elif a.kind == "group":
            w += width(a.children[0], scale)
    return w


def height(tree) -> float:
    """The height plus depth of one line of ``tree``, in em; an upper bound."""
    up, down = 0.75, 0.25
    for a in tree:
        if a.kind == "sup":
            up = max(up, 0.45 + SCRIPT * height(a.children[0]))
        elif a.kind == "sub":
            down = max(down, 0.2 + SCRIPT * height(a.children[0]) * 0.7)
        elif a.kind == "frac":
            num, den = a.children
            up = max(up, 0.35 + SCRIPT * height(num))
            down = max(down, 0.2 + SCRIPT * height(den))
        elif a.kind in ("sqrt", "group"):
            h = height(a.children[0])
            up = max(up, h - 0.2 + (0.15 if a.kind == "sqrt" else 0))
        elif a.kind == "letter" and any(0x300 <= ord(c) < 0x370 for c in a.text):
            up = max(up, 1.0)
    return up + down


# ----- text -----


@dataclass(frozen=True)
class Run:
    text: str
    shift: int = 0  # 1 superscript, -1 subscript (nested: 2, -2, ...)
    italic: bool = False


def runs(tree, shift: int = 0) -> list[Run]:
    """``tree`` as runs of text; a fraction is written a/b, in parentheses where needed."""
    out: list[Run] = []
    for a in tree:
        if a.kind == "letter":
            out.append(Run(a.text, shift, a.italic))
        elif a.kind == "upright":
            out.append(Run(a.text, shift))
        elif a.kind in ("bin", "rel"):
            prev = out[-1].text if out else ""
            unary = a.kind == "bin" and (not out or prev.endswith(("(", " ", "[")))
            out.append(Run(a.text if unary or shift else f" {a.text} ", shift))
        elif a.kind == "space":
            out.append(Run(a.text, shift))
        elif a.kind in ("sup", "sub"):
            out += runs(a.children[0], shift + (1 if a.kind == "sup" else -1))
        elif a.kind == "frac":
            for i, part in enumerate(a.children):
                simple = len(part) == 1 or all(p.kind in ("letter", "upright", "sup", "sub")
                                               for p in part)
                if i:
                    out.append(Run("/", shift))
                out += runs(part, shift) if simple else [Run("(", shift), *runs(part, shift),
                                                         Run(")", shift)]
            out.append(Run("\u2009", shift))  # 1/2 erf(z), not 1/2erf(z)
        elif a.kind == "sqrt":
            out += [Run("√(", shift), *runs(a.children[0], shift), Run(")", shift)]
        elif a.kind == "group":
            out += runs(a.children[0], shift)
    return _merged(out)


def _merged(out):
    merged: list[Run] = []
    for r in out:
        if merged and merged[-1].shift == r.shift and merged[-1].italic == r.italic:
            merged[-1] = Run(merged[-1].text + r.text, r.shift, r.italic)
        else:
            merged.append(r)
    if merged:  # "= 1" starts a line: no space before it
        merged[0] = Run(merged[0].text.lstrip(" "), merged[0].shift, merged[0].italic)
        merged[-1] = Run(merged[-1].text.rstrip(" "), merged[-1].shift, merged[-1].italic)
    return [r for r in merged if r.text]


SUPER = str.maketrans("0123456789+−=()Tnil", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵀⁿⁱˡ")
SUB = str.maketrans("0123456789+−=()aeiorx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑᵢₒᵣₓ")
SUPER_SET, SUB_SET = set("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵀⁿⁱˡ"), set("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑᵢₒᵣₓ")


def unicode(latex: str) -> str:
    """One line of Unicode (Graphviz): scripts in Unicode's small digits and letters where it
    has them all, else written ``^[l]``, ``_{prob}``; thin spaces as spaces."""
    out: list[str] = []
    pieces: list[list] = []  # [shift, text]: runs of one shift, italics merged
    for r in runs(parse(latex)):
        if pieces and pieces[-1][0] == r.shift:
            pieces[-1][1] += r.text
        else:
            pieces.append([r.shift, r.text])
    for shift, text in pieces:
        text = text.replace("\u2009", " ")
        if shift > 0:
            small = text.translate(SUPER)
            if all(c in SUPER_SET for c in small):
                out.append(small)
            else:  # a^[l-1]ᵀ
                out.append(f"^{text[:-1]}ᵀ" if text.endswith("T") else f"^{text}")
        elif shift < 0:
            small = text.translate(SUB)
            out.append(small if all(c in SUB_SET for c in small) else f"_{{{text}}}")
        else:
            out.append(text)
    return re.sub(r"  +", " ", "".join(out)).strip()


def plain(latex: str) -> str:
    """The text of ``latex``'s runs, scripts in line: what an SVG label reads as text."""
    return "".join(r.text for r in runs(parse(latex)))
