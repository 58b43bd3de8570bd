"""``symgrad prove --no-graph`` and ``--numbers``, and the Markdown proof's SVG: the same
mathematics on the same edges as the PDF's TikZ picture."""

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from symgrad.cli.main import main
from symgrad.proof import mathtext

ROOT = Path(__file__).resolve().parents[2]
CG = str(ROOT / "derivations/computation_graph.toml")
LR = str(ROOT / "derivations/logistic_regression.toml")
SVG = "{http://www.w3.org/2000/svg}"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_no_graph_leaves_out_the_picture_and_every_word_about_it(capsys, tmp_path):
    code, full, _ = run(capsys, "prove", LR, "-o", "-")
    assert code == 0 and "tikzpicture" in full and "red arrow" in full
    code, out, _ = run(capsys, "prove", LR, "-o", "-", "--no-graph")
    assert code == 0
    assert "tikzpicture" not in out and "\\section{The computation graph}" not in out
    assert not re.search(r"graph|arrow|figure", out.split("\\begin{document}")[1], flags=re.I)
    assert "\\section{Derivatives for one example}" in out
    md = tmp_path / "lr.md"
    assert run(capsys, "prove", LR, "-o", str(md), "--no-graph")[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lr.md"]
    text = md.read_text()
    assert "![" not in text and not re.search(r"computation graph|arrow", text, flags=re.I)


def test_numbers_writes_the_course_values_on_the_graph(capsys, tmp_path):
    code, out, _ = run(capsys, "prove", CG, "-o", "-", "--numbers", "a=5, b=3, c=2")
    assert code == 0
    labels = re.findall(r"\\node\[(\w+)label\] at \([^)]*\) \{(.*)\};", out)
    text = {kind: [re.sub(r"\$|\\\\ ", " ", t).split() for k, t in labels if k == kind]
            for kind in ("forward", "backward")}
    forward = [" ".join(t) for t in text["forward"]]
    assert sorted(forward) == ["J = 33", "a = 5", "b = 3", "c = 2", "u = 6", "v = 11"]
    backward = " | ".join(" ".join(t) for t in text["backward"])
    for d, v in (("a", 3), ("b", 6), ("c", 9), ("u", 3), ("v", 3)):
        assert f"\\mathrm{{d}}J/\\mathrm{{d}}{d} = {v}" in backward
    assert "\\partial u/\\partial b = c = 2" in backward
    # the Markdown's SVG says the same
    md = tmp_path / "cg.md"
    assert run(capsys, "prove", CG, "-o", str(md), "--numbers", "a=5,b=3,c=2")[0] == 0
    svg = (tmp_path / "cg-graph.svg").read_text()
    words = ["".join(t.itertext()) for t in ET.fromstring(svg).iter(f"{SVG}text")]
    for want in ("J = 33", "dJ/da = 3", "dJ/db = 6", "dJ/dc = 9", "u = 6"):
        assert want in words


@pytest.mark.parametrize("numbers, message", [
    ("a=5,b=3", "give every leaf a value; missing: c"),
    ("a=5,b=3,c=2,d=1", "'d' is not a leaf of the graph; its leaves are a, b, c"),
    ("a=5,a=3,b=1,c=2", "'a' is given twice"),
    ("a=__import__('os'),b=1,c=2", "is not NAME=NUMBER"),
    ("a=1e999999,b=1,c=2", "is not NAME=NUMBER"),
    ("a=5;b=3", "is not NAME=NUMBER"),
])
def test_bad_numbers_are_one_line_and_exit_2(capsys, numbers, message):
    code, out, err = run(capsys, "prove", CG, "-o", "-", "--numbers", numbers)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err


def test_numbers_refuses_models_with_arrays_and_goes_without_no_graph(capsys):
    code, _, err = run(capsys, "prove", LR, "-o", "-", "--numbers", "x=1,y=1,w=1,b=0")
    assert code == 2 and "--numbers needs a model of scalars; 'logistic_regression' has " \
        "arrays (x, w)" in err
    code, _, err = run(capsys, "prove", CG, "-o", "-", "--no-graph", "--numbers", "a=1")
    assert code == 2 and "cannot go with --no-graph" in err


def _tikz_labels(tex):
    """(source name, target name, kind) -> the label's LaTeX lines, from the TikZ picture."""
    names = dict(re.findall(r"\\node\[\w+, inner sep=0pt, minimum size=[\d.]+cm\] \((n\d+)\) "
                            r"at \([^)]*\) \{\$(.*)\$\};", tex))
    edges = re.findall(r"\\draw\[(forward|backward)\] \(([-\d.]+), ([-\d.]+)\)", tex)
    labels = re.findall(r"\\node\[(forward|backward)label\] at \(([-\d.]+), ([-\d.]+)\) "
                        r"\{(.*)\};", tex)
    return names, edges, [(k, [s.strip("$ ") for s in t.split("\\\\")]) for k, _, _, t in labels]


@pytest.mark.parametrize("name", ["shallow_network", "deep_network", "poisson_regression"])
def test_the_svg_writes_the_pdfs_labels_on_the_same_edges(capsys, tmp_path, name):
    spec = str(ROOT / f"derivations/{name}.toml")
    tex = tmp_path / "p.tex"
    md = tmp_path / "p.md"
    assert run(capsys, "prove", spec, "-o", str(tex))[0] == 0
    assert run(capsys, "prove", spec, "-o", str(md))[0] == 0
    _, _, tikz = _tikz_labels(tex.read_text())
    root = ET.fromstring((tmp_path / "p-graph.svg").read_text())
    svg = []
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "edge":
            texts = ["".join(t.itertext()) for t in g.iter(f"{SVG}text")]
            if texts:
                svg.append((g.get("data-kind"), texts))
    # the same labels, in the same order (the layout's), each the TikZ label read as text
    assert [(k, [mathtext.plain(s) for s in lines]) for k, lines in tikz] == svg
    assert len(svg) >= 5 and all(len(lines) <= 2 for _, lines in svg)


def test_the_svg_labels_are_mathematics_not_code(capsys, tmp_path):
    md = tmp_path / "sn.md"
    assert run(capsys, "prove", str(ROOT / "derivations/shallow_network.toml"), "-o",
               str(md))[0] == 0
    root = ET.fromstring((tmp_path / "sn-graph.svg").read_text())
    edge = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "edge" and
                (g.get("data-source"), g.get("data-target"), g.get("data-kind")) ==
                ("z1", "W1", "backward"))
    text = next(t for t in edge.iter(f"{SVG}text"))
    spans = [(s.text, s.get("font-style"), s.get("dy")) for s in text]
    # dz^[1] xᵀ: d upright, z and x italic, [1] and T raised (by 0.4 em)
    assert spans == [("d", None, None), ("z", "italic", None), ("[1]", None, "-4.5"),
                     ("\u2009", None, "4.5"), ("x", "italic", None), ("T", None, "-4.5")]
    assert "@" not in (tmp_path / "sn-graph.svg").read_text()
    assert ".T" not in "".join(root.itertext())


def test_the_specs_example_writes_the_lectures_values_by_default(capsys):
    """computation_graph.toml's [example] is the lecture's a = 5, b = 3, c = 2: without
    --numbers the picture carries the same values as with them, and the caption says where
    they were computed; --numbers gives another point."""
    code, plain, _ = run(capsys, "prove", CG, "-o", "-")
    code2, given, _ = run(capsys, "prove", CG, "-o", "-", "--numbers", "a=5,b=3,c=2")
    assert code == code2 == 0 and plain == given
    assert "At $a = 5, b = 3, c = 2$: each blue edge carries its value" in plain
    code, other, _ = run(capsys, "prove", CG, "-o", "-", "--numbers", "a=1,b=2,c=-1/2")
    assert code == 0 and "J = 0" in other and "At $a = 1, b = 2, c = - \\frac{1}{2}$" in other
    code, bare, _ = run(capsys, "prove", LR, "-o", "-")
    assert "each blue edge carries its value" not in bare
