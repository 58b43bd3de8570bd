"""The drawn graph's layout: no label on a node, on another label or on an edge not its own,
each label on its own edge, no edge through a node it does not join, the picture within the
text's width; and the label boxes estimated from the LaTeX are never smaller than TeX's."""

import re
import shutil
from pathlib import Path

import pytest
import sympy as sp

import symgrad
from symgrad.proof import document, drawing, layout

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "derivations").glob("*.toml"))
CATALOGUE = sorted((ROOT / "tests/catalogue").glob("*.toml"))


def picture(path):
    return document.picture(symgrad.load(path).derive())


def laid_out(path):
    return picture(path).layout


@pytest.mark.parametrize("path", SPECS + CATALOGUE,
                         ids=[p.stem for p in SPECS] + [f"catalogue-{p.stem}" for p in CATALOGUE])
@pytest.mark.slow
def test_no_label_overlaps_and_no_edge_crosses_a_node(path):
    lay = laid_out(path)
    assert layout.problems(lay) == []
    box = lay.bounds()
    assert box.x1 - box.x0 <= drawing.PICTURE_WIDTH
    assert all(c.label is None or c.label.lines for c in lay.curves)


def _curve(lay, source, target, backward=True):
    s, t = sp.Symbol(source, real=True), sp.Symbol(target, real=True)
    return next(c for c in lay.curves if (c.source, c.target, c.backward) == (s, t, backward))


def test_each_label_is_on_its_own_edge_shallow_network():
    # the issue: dz2 W2^T was drawn on the b2 -> z2 edge
    lay = laid_out(ROOT / "derivations/shallow_network.toml")
    back = _curve(lay, "z2", "a1")
    assert back.label.lines == [r"\mathrm{d}z^{[2]} W^{[2]\top}"]
    assert back.meets(back.label.box)
    for other in ("b2", "W2"):
        assert not _curve(lay, "z2", other).meets(back.label.box, layout.GAP)
        assert not _curve(lay, other, "z2", False).meets(back.label.box, layout.GAP)
    assert _curve(lay, "z2", "b2").label.lines == [r"\partial z^{[2]}/\partial b^{[2]}", "= 1"]


def test_the_poisson_graph_does_not_draw_z_to_l_through_a():
    lay = laid_out(ROOT / "derivations/poisson_regression.toml")
    a = lay.nodes[sp.Symbol("a", real=True)]
    for backward in (False, True):
        curve = _curve(lay, "L", "z") if backward else _curve(lay, "z", "L", False)
        assert not any(a.inside(p) for p in curve.samples())


def test_the_deep_network_labels_stay_apart():
    # the issue: two labels ran together into "= a(1-a) = (1-y)/(1-a) - y/a"
    lay = laid_out(ROOT / "derivations/deep_network.toml")
    boxes = [lab.box for lab in lay.labels()]
    assert len(boxes) == 12  # 9 backward edges, l = 1, l = L - 1 and the frame's title
    for i, a in enumerate(boxes):
        assert not any(a.overlaps(b) for b in boxes[i + 1:])


def test_problems_finds_what_it_looks_for():
    x, y, z = sp.symbols("x y z")
    nodes = {x: layout.Node(x, 0, 0, "circle", 0.8), y: layout.Node(y, 2, 0, "box", 0.7),
             z: layout.Node(z, 4, 0, "circle", 0.8)}
    lay = layout.Layout(nodes, [])
    straight = layout.Curve(x, z, False, layout._bent(nodes[x], nodes[z], 0.0))
    lay.curves.append(straight)
    assert layout.problems(lay) == ["edge x -> z passes through node y"]
    lay.curves[0] = layout.Curve(x, z, False, layout._bent(nodes[x], nodes[z], 1.5))
    assert layout.problems(lay) == []
    lay.curves[0].label = layout.Label(["a"], 0.5, 0.3, 2.0, 0.0)  # on y, off its curve
    assert layout.problems(lay) == ["label a overlaps node y", "label a is not on its edge x -> z"]
    lay.curves[0].label.y = lay.curves[0].at(0.5)[1]
    assert layout.problems(lay) == []
    lay.extra.append(layout.Label(["b"], 0.5, 0.3, 2.1, lay.curves[0].at(0.5)[1]))
    assert layout.problems(lay) == ["label a overlaps label b", "label b overlaps the edge x -> z"]


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("pdflatex"), reason="needs pdflatex")
def test_the_estimated_sizes_hold_what_tex_draws(tmp_path):
    # every label and node name of the shipped specs, measured by TeX in the picture's fonts
    labels, names = set(), set()
    for path in SPECS:
        pic = picture(path)
        labels |= {line for lab in pic.layout.labels() for line in lab.lines}
        names |= {n.label for n in pic.nodes}
    labels, names = sorted(labels), sorted(names)
    body = []
    for size, items in ((r"\scriptsize", labels), (r"\normalsize", names)):
        for s in items:
            body.append(rf"\setbox0\hbox{{{size}${s}$}}"
                        rf"\typeout{{SIZE \the\wd0\space\the\ht0\space\the\dp0}}")
    tex = tmp_path / "m.tex"
    tex.write_text("\\documentclass[11pt]{article}\\usepackage{amsmath,amssymb}"
                   "\\begin{document}\n" + "\n".join(body) + "\nx\n\\end{document}\n")
    _, log = document.compile_pdf(tex)
    sizes = [tuple(float(v) / 72.27 * 2.54 for v in m)
             for m in re.findall(r"SIZE ([\d.]+)pt\s*([\d.]+)pt\s*([\d.]+)pt", log)]
    assert len(sizes) == len(labels) + len(names)
    for s, (w, up, down) in zip(labels, sizes, strict=False):
        ew, eh = layout.label_size([s])
        assert w + 2 * layout.LABEL_SEP <= ew, s
        assert up + down + 2 * layout.LABEL_SEP <= eh + 0.02, s
    for s, (w, up, down) in zip(names, sizes[len(labels):], strict=True):
        est = layout.node_size(s, "circle")
        assert (w ** 2 + (up + down) ** 2) ** 0.5 <= est, s

