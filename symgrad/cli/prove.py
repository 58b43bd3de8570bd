"""``symgrad prove`` and ``symgrad graph``: the derivation as a checked proof, the graph drawn.

Loaded by :mod:`symgrad.cli.main`, which calls :func:`register` with its subcommands.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..model.errors import SpecError
from .common import add_spec_argument, outputs

PROVE_EPILOG = """examples:
  symgrad prove derivations/logistic_regression.toml --pdf
      writes logistic_regression.tex and logistic_regression.pdf here
  symgrad prove logistic_regression -o proof.tex --pdf      (a shipped model, by name)
  symgrad prove derivations/logistic_regression.toml -o proof.md
      Markdown with $$ math, and the graph beside it as proof-graph.svg
  symgrad prove derivations/logistic_regression.toml -o -
      LaTeX on standard output
  symgrad prove computation_graph --pdf
      the graph evaluated at its spec's [example], the course's a = 5, b = 3, c = 2:
      J = 33, dJ/da = 3, dJ/db = 6, dJ/dc = 9
  symgrad prove computation_graph --numbers a=1,b=2,c=-1/2 --pdf   (another point)
  symgrad prove logistic_regression --no-graph --pdf       (no picture of the graph)
"""

GRAPH_EPILOG = """examples:
  symgrad graph derivations/logistic_regression.toml -o graph.svg
  symgrad graph logistic_regression -o graph.png            (a shipped model, by name)
  symgrad graph derivations/logistic_regression.toml            (DOT on standard output)
"""

MARKDOWN_SUFFIXES = (".md", ".markdown")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "prove", help="write the derivation as a step-by-step proof (LaTeX, PDF or Markdown)",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=PROVE_EPILOG,
        description="Write the derivation of every partial derivative as a proof: the model, "
                    "its computation graph, the chain rule node by node with every step named, "
                    "the average over m examples and the updates; for a model with repeated "
                    "layers, hidden layer l once, with the general index l. Every displayed "
                    "equality is checked before anything is written.")
    add_spec_argument(p)
    p.add_argument("-o", "--output", metavar="FILE",
                   help="where to write (default: <model name>.tex, or .md with --format "
                        "markdown, in the current folder; '-' for standard output)")
    p.add_argument("--format", choices=("latex", "markdown"),
                   help="output format (default: from the file's suffix, else latex)")
    p.add_argument("--pdf", action="store_true",
                   help="also compile the LaTeX to PDF beside it (proof.tex -> proof.pdf), with "
                        "pdflatex or latexmk")
    p.add_argument("--no-graph", action="store_true",
                   help="leave out the computation graph's picture and the section about it")
    p.add_argument("--numbers", metavar="NAME=VALUE,...",
                   help="evaluate the graph at these values of its leaves (every input, "
                        "parameter and hyperparameter; scalar models only), e.g. "
                        "a=5,b=3,c=2: the values are written on the forward edges and the "
                        "derivatives' values on the backward edges (default: the spec's "
                        "[example] values, where it has them)")
    p.add_argument("--style", choices=("course", "compact"), default="course",
                   help="course (default): every step, the forward pass over m examples and a "
                        "boxed summary; compact: 1-2 pages, the summary and the key steps")
    p.set_defaults(run=cmd_prove)

    g = subparsers.add_parser(
        "graph", help="draw the computation graph with Graphviz (svg, png or dot)",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=GRAPH_EPILOG,
        description="Draw the model's computation graph for one example: forward edges blue, "
                    "backward edges red, labelled with the local partial derivatives. A model "
                    "with repeated layers is drawn as a stack, hidden layer l once in a box, "
                    "whatever its depth. svg and png need Graphviz's dot.")
    add_spec_argument(g)
    g.add_argument("-o", "--output", metavar="FILE",
                   help="graph.svg, graph.png or graph.dot (default: DOT on standard output)")
    g.set_defaults(run=cmd_graph)


def cmd_prove(args) -> int:
    from ..model.spec import load
    from ..printing.files import in_folder
    from ..proof import document

    fmt = args.format
    if fmt is None:
        suffix = Path(args.output).suffix.lower() if args.output else ""
        fmt = "markdown" if suffix in MARKDOWN_SUFFIXES else "latex"
    if args.pdf and fmt != "latex":
        raise SpecError("--pdf needs LaTeX output (--format latex)")
    if args.pdf and args.output == "-":
        raise SpecError("--pdf needs a file to write the LaTeX to (-o FILE.tex)")
    if fmt == "markdown" and args.output == "-":
        raise SpecError("Markdown needs a file, for the graph's SVG beside it (-o FILE.md)")
    if args.numbers is not None and args.no_graph:
        raise SpecError("--numbers writes on the graph; it cannot go with --no-graph")
    if args.pdf:
        document.engine()  # no engine: say so before any work
    model = load(args.spec)
    values = None
    if args.numbers is not None:
        from ..calculus.derivation import derive
        from ..proof.drawing import numbers, parse_numbers

        # bad input: one line, before the proof
        values = numbers(derive(model), parse_numbers(args.numbers))
    draw = dict(graph=not args.no_graph, values=values)
    if args.output == "-":
        proof = _checked_proof(model, args.style)
        if proof is not None:
            sys.stdout.write(document.render(proof, "latex", **draw))
        return 0 if proof is not None else 1
    try:
        out = Path(args.output) if args.output is not None else in_folder(
            ".", f"{model.name}.{'md' if fmt == 'markdown' else 'tex'}")
    except SpecError as err:
        raise SpecError(f"{err.message} to write the proof to; give -o FILE",
                        file=model.source, key="name") from None
    with outputs(args) as files:  # every file is checked before the work
        files.add(out)
        graph = files.add(out.with_name(f"{out.stem}-graph.svg")) \
            if fmt == "markdown" and not args.no_graph else None
        pdf = files.add(out.with_suffix(".pdf")) if args.pdf else None
        proof = _checked_proof(model, args.style)
        if proof is None:
            return 1
        if fmt == "markdown":
            doc = document.context(proof, "markdown", graph.name if graph else "", **draw)
            if graph is not None:
                files.write(graph, document.graph_svg(doc))
            files.write(out, document.render_context(doc, "markdown"))
        else:
            tex = document.render(proof, "latex", **draw)
            files.write(out, tex)
            if args.pdf:  # compiled before either file is replaced; a failure leaves both
                compiled, log = document.typeset(tex, str(out))
                files.write(pdf, compiled)
    for path in (out, graph, pdf):
        if path is not None:
            print(path)
    if args.pdf:
        for problem in document.problems(log)[:3]:
            print(f"symgrad: warning: {problem}", file=sys.stderr)
    return 0


def _checked_proof(model, style="course"):
    """The model's proof, every line checked; None (said on stderr) if a line does not check."""
    from ..calculus.derivation import derive
    from ..proof.build import prove
    from ..proof.line_check import ProofError

    try:
        return prove(derive(model), style=style)
    except ProofError as err:
        print(f"symgrad: internal error: a step of the proof does not check: {err}",
              file=sys.stderr)
        return None


def cmd_graph(args) -> int:
    from ..calculus.derivation import derive
    from ..model.spec import load
    from ..proof.drawing import FORMATS, render

    if args.output in (None, "-"):
        sys.stdout.write(render(derive(load(args.spec)), "dot").decode())
        return 0
    out = Path(args.output)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise SpecError(f"cannot tell the format from '{out.name}'; use .svg, .png or .dot")
    with outputs(args) as files:
        files.add(out)
        files.write(out, render(derive(load(args.spec)), fmt))
    print(out)
    return 0
