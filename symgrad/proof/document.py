"""Writing a checked :class:`~symgrad.proof.steps.Proof` as LaTeX or Markdown, and LaTeX as PDF.

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
from . import drawing as drawing_
from .layer_steps import index_names
from .steps import Equations, Figure, Paragraph, Section, Table, Variables

ENGINES = ("pdflatex", "latexmk")
TEX_TIMEOUT = 300  # seconds
TEX_PACKAGES = "texlive-latex-base texlive-latex-recommended texlive-pictures"
GREEK = {"lambd": r"\lambda"}  # names the spec language cannot spell (lambda is a keyword)
GRAPH_WIDTH = 15.5  # cm available to the drawn graph
ROW = 1.8  # cm between the graph's rows
GROUP_MARGIN = (0.75, 0.95)  # cm around a group's nodes (x, y), room for the red labels


@lru_cache(maxsize=1)
# ----- the templates' data -----


@dataclass
class DocLine:
    lhs: str
    relation: str
    rhs: str
    rule: str  # LaTeX: text mode (a \tag*); Markdown: math mode
    numeric: bool


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


@dataclass
class PicNode:
    id: str
    x: str
    y: str
    label: str
    style: str


@dataclass
class PicEdge:
    source: str
    target: str
    style: str  # TikZ options: "forward", or "backward" with the bend, away from the centre
    label: str  # backward: the local partial, say \partial a/\partial z, or what flows back
    value: str  # its value ("= a (1 - a)"), or ""
    swap: bool  # the label on the other side (for edges bending upwards)
    pos: str = ""  # where along the edge the label sits, if not halfway


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


@dataclass
class Document:
    title: str
    source: str
    sections: list[DocSection]
    picture: Picture
    graph_file: str  # Markdown: the SVG beside the document
    numeric: bool  # some line was checked only at random points


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
    for name, (stem, n) in found.items():
        out[sp.Symbol(name, real=True)] = f"{stem}^{{[{n}]}}"
        big = stacked.get(name)
        if big:
            hit = re.fullmatch(r"([A-Za-z]+)(\d+)", big)
            if hit:
                out[sp.Symbol(big, real=True)] = f"{hit.group(1)}^{{[{hit.group(2)}]}}"
    return out


def _renamed(symbols, rename) -> set:
    return {rename.get(s, s) for s in symbols}


class _Writer:
    def __init__(self, proof, fmt):
        self.proof, self.fmt = proof, fmt
        self.p = _Printers(proof.derivation)

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
            lines.append(DocLine(lhs, line.relation,
                                 self.p.math(line.rhs, block.scope, block.notation),
                                 self.rule(line.rule, line.checked == "numeric", block.scope),
                                 line.checked == "numeric"))
        return DocBlock("equations", lines=lines)

    def variables(self, block: Variables) -> DocBlock:
        rows = []
        for sym, role, shape, domain, big, big_shape in block.rows:
            one = f"${self.p.shape(shape, domain)}$"
            many = (f"${self.p.math(big, 'batch')} \\in {self.p.shape(big_shape, domain)}$"
                    if big is not None else "")
            rows.append((f"${self.p.math(sym)}$", self.text(role), one, many))
        return DocBlock("variables", rows=rows)

    def sections(self) -> list[DocSection]:
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
            walk(section)
        return out

    def picture(self) -> Picture:
        d = drawing_.drawing(self.proof.derivation)
        columns = max(p.column for p in d.places) or 1
        dx = min(3.6, GRAPH_WIDTH / columns)
        ids = {p.symbol: f"n{i}" for i, p in enumerate(d.places)}
        row = {p.symbol: p.row for p in d.places}
        column = {p.symbol: p.column for p in d.places}
        nodes = [PicNode(ids[p.symbol], f"{p.column * dx:.2f}", f"{p.row * ROW:.2f}",
                         self.p.math(p.symbol), p.role) for p in d.places]
        edges = []
        for e in d.edges:
            if not e.backward:
                label = self.p.label.doprint(e.label) if e.label is not None else ""
                edges.append(PicEdge(ids[e.source], ids[e.target], "forward", label, "", False))
                continue
            if isinstance(e.label, sp.Eq):
                label, value = (self.p.label.doprint(e.label.lhs),
                                "= " + self.p.label.doprint(e.label.rhs))
            else:
                label, value = self.p.label.doprint(e.label), ""
            # upwards where the target is higher, and into a layer's input (a[l-1]), whose
            # label would otherwise crowd the next one below the row; that label sits near
            # a[l-1], clear of the parameter's arrow into z[l]
            entry = any(e.target == g.entry for g in d.groups)
            up = row[e.target] > row[e.source] or entry
            span = column[e.source] - column[e.target]  # a long edge bends deeper, past nodes
            between = any(row[p.symbol] == row[e.source] == row[e.target] and
                          column[e.target] < p.column < column[e.source] for p in d.places)
            depth = min(35 + 15 * (span - 1), 65) if between or span < 2 else 20
            bend = f"bend {'right' if up else 'left'}={depth}"
            edges.append(PicEdge(ids[e.source], ids[e.target], f"backward, {bend}", label,
                                 value, up, "0.75" if entry else ""))
        groups = []
        for g in d.groups:
            inside = [p for p in d.places if p.symbol in g.members]
            groups.append(PicGroup(
                f"{min(p.column for p in inside) * dx - GROUP_MARGIN[0]:.2f}",
                f"{min(p.row for p in inside) * ROW - GROUP_MARGIN[1]:.2f}",
                f"{max(p.column for p in inside) * dx + GROUP_MARGIN[0]:.2f}",
                f"{max(p.row for p in inside) * ROW + GROUP_MARGIN[1]:.2f}",
                self.prose(g.title, "graph")))
        return Picture(nodes, edges, groups)


def context(proof, fmt: str = "latex", graph_file: str = "graph.svg") -> Document:
    """The plain data that the template for ``fmt`` ("latex" or "markdown") lays out."""
    w = _Writer(proof, fmt)
    numeric = any(line.checked == "numeric" for _, b in proof.equations() for line in b.lines)
    return Document(w.text(proof.title), w.text(proof.source, code=True), w.sections(),
                    w.picture(), graph_file, numeric)


def render(proof, fmt: str = "latex", graph_file: str = "graph.svg") -> str:
    """The proof as a LaTeX document or as Markdown (whose graph is ``graph_file``)."""
    name = {"latex": "proof.tex.jinja", "markdown": "proof.md.jinja"}[fmt]
    return environment("latex").get_template(name).render(doc=context(proof, fmt, graph_file))


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
