"""Writing a checked :class:`~symgrad.proof.blocks.Proof` as LaTeX or Markdown, and LaTeX as PDF.

The Python side prints: :func:`context` turns the proof into plain data (strings of LaTeX,
names, coordinates) with :class:`~symgrad.printing.printers.ProofLatexPrinter`; the templates
``proof.tex.jinja`` and ``proof.md.jinja`` only lay that data out. One Jinja environment serves
the project's LaTeX templates; its delimiters (``\\VAR{...}``, ``\\BLOCK{...}``, ``\\#{...}``) leave
TeX's braces and percent signs alone.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import sympy as sp

from ..calculus.chain import adjoint_symbol
from ..model.errors import SpecError
from ..model.escape import latex_text, markdown_text
from ..model.ops import as_expr
from ..model.shapes import SCALAR
from ..printing.files import private_folder
from ..printing.printers import ProofLatexPrinter
from ..printing.templates import environment
from . import breaking
from . import drawing as drawing_
from . import layout as layout_
from .blocks import Equations, Figure, Paragraph, Section, Table, Variables
from .layer_steps import index_names
from .summary import Summary

ENGINES = ("pdflatex", "latexmk")
TEX_TIMEOUT = 300  # seconds
TEX_PACKAGES = "texlive-latex-base texlive-latex-recommended texlive-pictures"
GREEK = {"lambd": r"\lambda"}  # names the spec language cannot spell (lambda is a keyword)
SUMMARY_MATH = 110  # characters of LaTeX that a summary line's math column holds


@lru_cache(maxsize=1)
# ----- the templates' data -----


@dataclass
class DocLine:
    lhs: str
    relation: str
    rhs: str
    rule: str  # LaTeX: text mode (a \tag*); Markdown: math mode
    numeric: bool
    code: str = ""  # the summary's: the NumPy line, escaped for the document
    shape: str = ""  # the summary's: the shape of the left side, math
    long: bool = False  # the summary's: math too long for its column, given a row of its own
    tag: str = ""  # LaTeX: the rule as set in the margin (a long one as a narrow paragraph)


@dataclass
class DocBlock:
    kind: str  # "paragraph", "equations", "variables" or "graph"
    text: str = ""
    own: bool = False  # a paragraph set apart from the text before it
    lines: list[DocLine] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)
    header: tuple = ()  # a table's column titles


@dataclass
class DocSection:
    title: str
    level: int
    number: str  # "3", or "" for a subsection
    blocks: list[DocBlock]
    boxed: bool = False  # the summary: one unbreakable framed box


@dataclass
class PicNode:
    id: str
    x: str
    y: str
    label: str
    style: str
    size: str  # cm: the circle's diameter or the box's side


@dataclass
class PicLabel:
    x: str
    y: str
    lines: list[str]  # LaTeX math, one line each


@dataclass
class PicEdge:
    source: str
    target: str
    style: str  # "forward" or "backward"
    path: str  # TikZ: (x, y) .. controls (x, y) and (x, y) .. (x, y)
    label: PicLabel | None = None


@dataclass
class PicGroup:
    """A dashed box around a layer drawn once for many, its title above it."""

    x0: str
    y0: str
    x1: str
    y1: str
    title: str  # LaTeX text


@dataclass
class Picture:
    nodes: list[PicNode]
    edges: list[PicEdge]
    groups: list[PicGroup] = field(default_factory=list)
    extra: list[PicLabel] = field(default_factory=list)  # the output's value (--numbers)
    notes: list[tuple] = field(default_factory=list)  # (mark, lines): labels with no room
    layout: object = None  # the :class:`~symgrad.proof.layout.Layout` drawn (the SVG's too)
    point: str = ""  # math: the leaves' values where numbers are written ("a = 5, b = 3")


@dataclass
class Document:
    title: str
    source: str
    sections: list[DocSection]
    picture: Picture | None  # None: --no-graph
    graph_file: str  # Markdown: the SVG beside the document
    numeric: bool  # some line was checked only at random points
    arrays: bool = True  # some variable is a vector or a matrix: the notation line says how


# ----- printing -----


class _Printers:
    """The printers of one proof, by scope: per example and over m examples, and for a model
    with repeated layers hidden layer l's ("layer", "layer batch"), whose symbols carry their
    layer's index (z[l], printed z^{[l]})."""

    def __init__(self, derivation):
        model = derivation.model
        names = {v.symbol: GREEK[n] for n, v in model.variables.items() if n in GREEK}
        names.update(layer_names(model))
        indexed = index_names(derivation)
        loss = sp.Symbol(model.loss.name, real=True) if model.loss is not None else None
        if indexed and loss is not None and loss.name == "L":  # L is the depth: the loss is 𝓛
            names[loss] = r"\mathcal{L}"
        self.settings: dict = {}  # scope -> the printer's settings
        label_adjoints: dict = {}
        parts = [(derivation, "example", "batch", None, None)]
        if indexed:
            parts.append((derivation.layer, "layer", "layer batch", loss,
                          derivation.batch_graph.output))
        for d, one, many, output, cost in parts:
            rename = indexed.get(one, {})
            pe, batch = d.per_example_graph, d.batch_graph
            example = self._settings(pe, "name", rename, output)  # dz, defined in the text
            per_example = frozenset(_renamed(d.model.per_example_symbols, rename) |
                                    ({output} if output is not None else set()))
            common = dict(symbol_names=names, per_example=per_example,
                          example_adjoints=example["adjoints"])
            self.settings[one] = {**example, **common}
            if batch is not None:
                settings = self._settings(batch, "name", rename, cost)
                shapes = {**example["shapes"], **settings["shapes"]}
                self.settings[many] = {**settings, **common, "shapes": shapes}
            label_adjoints.update(example["adjoints"])
            if one == "example":
                label = {**example, **common}
        self.label = ProofLatexPrinter({**label, "adjoints": label_adjoints,
                                        "inline_partials": True, "fold_short_frac": True,
                                        "adjoint_notation": "name"})
        self.printers = {scope: ProofLatexPrinter(s) for scope, s in self.settings.items()}

    @staticmethod
    def _settings(graph, notation, rename=None, output=None):
        """Adjoints (dz -> (output, z)) and shapes of ``graph``'s symbols, renamed."""
        rename = rename or {}
        shapes = dict(graph.shapes)
        adjoints = {}
        for var in [s for s, _ in graph.nodes] + list(graph.leaves) + list(graph.inputs):
            adjoints[adjoint_symbol(var)] = (output or graph.output, var)
            shapes[adjoint_symbol(var)] = shapes[var]
        if graph.seed.is_Symbol:  # a layer's da, from above
            shapes[graph.seed] = shapes[graph.output]
        # the symbols under both names: a summary (notebooks) shows the unrolled ones
        shapes.update({rename[k]: tuple(as_expr(d).xreplace(rename) for d in v)
                       for k, v in list(shapes.items()) if k in rename})
        adjoints.update({rename[k]: (out, rename.get(v, v))
                         for k, (out, v) in list(adjoints.items()) if k in rename})
        return {"adjoints": adjoints, "shapes": shapes, "adjoint_notation": notation}

    def math(self, expr, scope="example", notation="") -> str:
        """LaTeX for ``expr`` in ``scope``; ``notation`` "name" writes adjoints dz, not dL/dz."""
        if scope == "graph":
            return self.label.doprint(expr)
        if notation and (scope, notation) not in self.printers:
            self.printers[scope, notation] = ProofLatexPrinter(
                {**self.settings[scope], "adjoint_notation": notation})
        return self.printers[(scope, notation) if notation else scope].doprint(expr)

    def shape(self, shape, domain=None) -> str:
        """The set an array of ``shape`` lies in, its entries in ``domain`` (all reals if
        None): ``\\mathbb{R}^{n_x}``, ``\\lbrace 0, 1\\rbrace^{n_y \\times m}``."""
        r, c = shape
        base = domain.latex if domain is not None else r"\mathbb{R}"
        if tuple(shape) == SCALAR:
            return base
        if c == 1:
            return f"{base}^{{{self.math(r)}}}"
        return rf"{base}^{{{self.math(r)} \times {self.math(c)}}}"


def layer_names(model) -> dict:
    """The course's layer superscript for a network written with numbered layers (W1, z1, W2,
    ... with two layer numbers or more): W1 -> W^{[1]}, Z1 -> Z^{[1]}."""
    found = {}
    for name, var in model.variables.items():
        hit = re.fullmatch(r"([A-Za-z]+)(\d+)", name)
        if hit and var.role in ("parameter", "node"):
            found[name] = hit.groups()
    if len({n for _, n in found.values()}) < 2 or not any(
            model.variables[k].role == "parameter" for k in found):
        return {}
    out = {}
    stacked = model.stacked_names()
    stem_of = ProofLatexPrinter().doprint  # the stem as printed alone: ztilde -> \tilde{z}

    def layered(stem, n):
        return f"{GREEK.get(stem) or stem_of(sp.Symbol(stem, real=True))}^{{[{n}]}}"

    for name, (stem, n) in found.items():
        out[sp.Symbol(name, real=True)] = layered(stem, n)
        big = stacked.get(name)
        if big:
            hit = re.fullmatch(r"([A-Za-z]+)(\d+)", big)
            if hit:
                out[sp.Symbol(big, real=True)] = layered(*hit.groups())
    return out


def _renamed(symbols, rename) -> set:
    return {rename.get(s, s) for s in symbols}


class _Writer:
    def __init__(self, proof, fmt, values=None):
        self.proof, self.fmt = proof, fmt
        self.p = _Printers(proof.derivation)
        self.values = values  # --numbers: what the graph's labels add (drawing.numbers)

    def text(self, text, *, code=False) -> str:
        """Words, in the document's language: the one place where text (a spec's title, its
        descriptions, its file's name) enters the proof; ``code`` for Markdown's code span."""
        return latex_text(text) if self.fmt == "latex" else markdown_text(text, code=code)

    def prose(self, pieces, scope="example") -> str:
        out = []
        for piece in pieces:
            if isinstance(piece, str):
                out.append(self.text(piece))
            else:
                out.append(f"${self.p.math(piece, scope)}$")
        return "".join(out)

    def rule(self, pieces, numeric, scope) -> str:
        if self.fmt == "latex":
            text = self.prose(pieces, scope)
            return text + (r"${}^{\dagger}$" if numeric else "")
        out = []
        for piece in pieces:
            if isinstance(piece, str):
                out.append(r"\text{" + latex_text(piece) + "}")  # text inside $$ math
            else:
                out.append(self.p.math(piece, scope))
        return "".join(out) + (r"{}^{\dagger}" if numeric else "")

    def equations(self, block: Equations) -> DocBlock:
        lines = []
        for line in block.lines:
            lhs = "" if line.lhs is None else self.p.math(line.lhs, block.scope, block.notation)
            rhs = self.p.math(line.rhs, block.scope, block.notation)
            rule = self.rule(line.rule, line.checked == "numeric", block.scope)
            tag = ""
            if self.fmt == "latex" and not isinstance(block, Summary):  # rows for the page
                rhs, tag = breaking.broken(lhs, rhs), rule and breaking.boxed_rule(rule)
            lines.append(DocLine(lhs, line.relation, rhs, rule, line.checked == "numeric",
                                 tag=tag))
        return DocBlock("equations", lines=lines)

    def summary(self, block: Summary) -> DocBlock:
        """The summary's lines: math, the NumPy line (as code) and the shape."""
        out = self.equations(block)
        for line, code, shape in zip(out.lines, block.code, block.shapes, strict=True):
            line.code = self.text(code, code=True)
            if self.fmt == "latex":  # a long line of code may break after ( , * / + -
                line.code = re.sub(r"([(,*/+-])", r"\1\\allowbreak{}", line.code)
            dims = ", ".join(self.p.math(d, block.scope) for d in shape)
            line.shape = f"({dims})"
            line.long = len(line.lhs) + len(line.rhs) > SUMMARY_MATH
        if self.fmt == "markdown":  # a | would end the table's cell
            for line in out.lines:
                line.lhs, line.rhs = (t.replace("|", r"\vert ") for t in (line.lhs, line.rhs))
                line.code = line.code.replace("|", r"\|")
        out.kind = "summary"
        out.text = self.prose(block.title, block.scope)
        return out

    def variables(self, block: Variables) -> DocBlock:
        rows = []
        for sym, role, shape, domain, big, big_shape in block.rows:
            one = f"${self.p.shape(shape, domain)}$"
            many = (f"${self.p.math(big, 'batch')} \\in {self.p.shape(big_shape, domain)}$"
                    if big is not None else "")
            rows.append((f"${self.p.math(sym)}$", self.text(role), one, many))
        if not any(row[3] for row in rows):  # a model without examples: no column for them
            rows = [row[:3] for row in rows]
        return DocBlock("variables", rows=rows)

    def sections(self, graph: bool = True) -> list[DocSection]:
        """The sections; without ``graph``, none that holds the picture (and its caption)."""
        out: list[DocSection] = []

        def walk(section: Section):
            number = str(sum(1 for d in out if d.level == 1) + 1) if section.level == 1 else ""
            doc = DocSection(self.prose(section.title), section.level, number, [])
            out.append(doc)
            for block in section.blocks:
                if isinstance(block, Section):
                    walk(block)
                elif isinstance(block, Paragraph):
                    doc.blocks.append(DocBlock("paragraph", self.prose(block.pieces,
                                                                      block.scope),
                                               own=block.own))
                elif isinstance(block, Summary):
                    doc.blocks.append(self.summary(block))
                    doc.boxed = True
                elif isinstance(block, Equations):
                    doc.blocks.append(self.equations(block))
                elif isinstance(block, Variables):
                    doc.blocks.append(self.variables(block))
                elif isinstance(block, Table):
                    doc.blocks.append(DocBlock(
                        "table", header=tuple(self.text(h) for h in block.header),
                        rows=[tuple(self.prose(cell, block.scope) for cell in row)
                              for row in block.rows]))
                elif isinstance(block, Figure):
                    doc.blocks.append(DocBlock("graph"))
                else:
                    raise TypeError(f"no layout for {type(block).__name__}")

        for section in self.proof.sections:
            if graph or not _holds_figure(section):
                walk(section)
        return out

    def picture(self) -> Picture:
        """The graph laid out (:func:`~symgrad.proof.drawing.laid_out`), as TikZ's data."""
        d = drawing_.drawing(self.proof.derivation)
        titles = {id(g): self.prose(g.title, "graph") for g in d.groups}
        lay = drawing_.laid_out(d, self.p.label.doprint,
                                lambda g: layout_.text_size(titles[id(g)]), self.values)
        ids = {p.symbol: f"n{i}" for i, p in enumerate(d.places)}
        nodes = [PicNode(ids[p.symbol], _cm(n.x), _cm(n.y),
                         self.p.math(p.symbol), p.role, _cm(n.size))
                 for p in d.places for n in [lay.nodes[p.symbol]]]
        edges = []
        for c in lay.curves:
            p0, c1, c2, p3 = (f"({_cm(x)}, {_cm(y)})" for x, y in c.points)
            edges.append(PicEdge(ids[c.source], ids[c.target],
                                 "backward" if c.backward else "forward",
                                 f"{p0} .. controls {c1} and {c2} .. {p3}", _label(c.label)))
        groups = [PicGroup(_cm(f.box.x0), _cm(f.box.y0), _cm(f.box.x1), _cm(f.box.y1),
                           titles[id(g)]) for f, g in zip(lay.frames, d.groups, strict=True)]
        return Picture(nodes, edges, groups, [_label(e) for e in lay.extra], lay.notes, lay,
                       self.point())

    def point(self) -> str:
        """Where the numbers on the picture were computed: each leaf = its value."""
        if not self.values:
            return ""
        model = self.proof.derivation.model
        leaves = [v.symbol for v in model.variables.values()
                  if v.role in ("input", "parameter", "hyperparameter")]
        return ", ".join(f"{self.p.math(s)} = {self.p.math(self.values[s])}" for s in leaves
                         if s in self.values)


def picture(derivation, values=None) -> Picture:
    """The graph's picture alone, laid out as the proof draws it (no proof built)."""
    return _Writer(_Bare(derivation), "latex", values).picture()


@dataclass
class _Bare:
    derivation: object


def _holds_figure(section) -> bool:
    return any(isinstance(b, Figure) or isinstance(b, Section) and _holds_figure(b)
               for b in section.blocks)


def _cm(v: float) -> str:
    return f"{v:.3f}"


def _label(lab) -> PicLabel | None:
    return None if lab is None else PicLabel(_cm(lab.x), _cm(lab.y), lab.lines)


def context(proof, fmt: str = "latex", graph_file: str = "graph.svg", *, graph: bool = True,
            values=None) -> Document:
    """The plain data that the template for ``fmt`` ("latex" or "markdown") lays out; with
    ``graph`` False, no picture and no section about it (``--no-graph``); ``values`` (from
    :func:`~symgrad.proof.drawing.numbers`) writes numbers on the picture (``--numbers``);
    without them, a spec's ``[example]`` gives the point."""
    model = proof.derivation.model
    if values is None and graph and model.example:
        values = drawing_.numbers(proof.derivation, model.example, "[example]")
    w = _Writer(proof, fmt, values)
    numeric = any(line.checked == "numeric" for _, b in proof.equations() for line in b.lines)
    return Document(w.text(proof.title), w.text(proof.source, code=True), w.sections(graph),
                    w.picture() if graph else None, graph_file, numeric, bool(model.arrays))


def render(proof, fmt: str = "latex", graph_file: str = "graph.svg", *, graph: bool = True,
           values=None) -> str:
    """The proof as a LaTeX document or as Markdown (whose graph is ``graph_file``)."""
    return render_context(context(proof, fmt, graph_file, graph=graph, values=values), fmt)


def render_context(doc: Document, fmt: str) -> str:
    name = {"latex": "proof.tex.jinja", "markdown": "proof.md.jinja"}[fmt]
    return environment("latex").get_template(name).render(doc=doc)


def graph_svg(doc: Document) -> str:
    """The picture of ``doc`` as SVG: the layout that the PDF draws (the Markdown's graph)."""
    from .svg import picture_svg

    return picture_svg(doc.picture)


# ----- notebooks -----


def summary_latex(derivation) -> str:
    """The results of ``derivation`` as display math, for Jupyter's ``_repr_latex_``."""
    p = _Printers(derivation)
    rows = [rf"{p.math(s.adjoint)} &= {p.math(s.result)}"
            for s in derivation.per_example_steps.values()]
    if derivation.batch_graph is not None:
        rows += [rf"{p.math(s.adjoint, 'batch')} &= {p.math(s.result, 'batch')}"
                 for s in derivation.batch_steps.values()]
    return "$$\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}$$"


# ----- PDF -----


def engine() -> list[str]:
    """The command that compiles LaTeX to PDF; SpecError (exit 2) if none is installed."""
    for name in ENGINES:
        found = shutil.which(name)
        if found and name == "pdflatex":
            return [found, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape"]
        if found:
            return [found, "-pdf", "-interaction=nonstopmode", "-halt-on-error"]
    raise SpecError("no LaTeX engine (pdflatex or latexmk) found; install the Debian packages "
                    f"{TEX_PACKAGES}")


def typeset(tex: str | bytes, shown: str = "proof.tex") -> tuple[bytes, str]:
    """Compile LaTeX source in a temporary folder; the PDF's bytes and the log.

    Nothing is written outside that folder, which is removed on any exception (an interrupt
    included; the engine is killed first). ``shown`` names the source in error messages.
    """
    command = engine()
    name = Path(command[0]).name
    with private_folder("symgrad-tex-") as tmp:
        work = Path(tmp) / "proof.tex"
        work.write_bytes(tex if isinstance(tex, bytes) else tex.encode("utf-8"))
        try:
            done = subprocess.run(command + [work.name], cwd=tmp, capture_output=True,
                                  timeout=TEX_TIMEOUT, check=False, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise SpecError(f"{name} took longer than {TEX_TIMEOUT} s on {shown}; "
                            "nothing written") from None
        except OSError as err:
            raise SpecError(f"cannot run {name}: {err.strerror or err}") from None
        log_file = Path(tmp) / "proof.log"
        log = log_file.read_text(errors="replace") if log_file.exists() else ""
        pdf = Path(tmp) / "proof.pdf"
        if done.returncode != 0 or not pdf.exists():
            errors = [ln for ln in log.splitlines() if ln.startswith("!")]
            reason = errors[0] if errors else f"exit status {done.returncode}"
            raise SpecError(f"{name} failed on {shown}: {reason}")
        return pdf.read_bytes(), log


def compile_pdf(tex_path) -> tuple[Path, str]:
    """Compile ``proof.tex`` to ``proof.pdf`` beside it; return the PDF's path and the log."""
    from ..printing.files import Outputs

    tex_path = Path(tex_path)
    with Outputs(inputs=[tex_path]) as out:
        pdf_path = out.add(tex_path.with_suffix(".pdf"))
        pdf, log = typeset(tex_path.read_bytes(), str(tex_path))
        out.write(pdf_path, pdf)
    return pdf_path, log


def problems(log: str) -> list[str]:
    """LaTeX errors and overfull boxes in a compile log."""
    return [ln for ln in log.splitlines()
            if ln.startswith("!") or ln.startswith("Overfull \\hbox")]
