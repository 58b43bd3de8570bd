"""The drawn graph as SVG, for the Markdown proof: the very layout that the PDF draws in TikZ
(:mod:`symgrad.proof.layout`), its labels the same LaTeX written as text
(:func:`symgrad.proof.mathtext.runs`: italic letters, raised and lowered scripts, ∂, ⊙, ᵀ).

Each edge is a ``<g class="edge">`` with ``data-source``, ``data-target`` and ``data-kind``
(forward or backward), and its label's lines are ``<text class="label">`` in it, so that a
test can read which derivative the SVG writes on which edge.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from . import layout as layout_
from .mathtext import Run, parse, runs

SCALE = 40.0  # px per cm
MARGIN = 0.3  # cm around the picture
BLUE, RED, GREY = "#0000bf", "#bf0000", "#8c8c8c"
FONT = "'Latin Modern Math', 'STIX Two Math', 'Cambria Math', 'Times New Roman', serif"
SCRIPT_SIZE = "70%"
RAISE = {1: -0.4, -1: 0.25}  # em a script is moved (SVG's y goes down)


def picture_svg(picture) -> str:
    """SVG text for a :class:`~symgrad.proof.document.Picture`."""
    lay = picture.layout
    box = lay.bounds()
    notes = [f"{mark} " + "  ".join(lines) for mark, lines in lay.notes]
    note_h = 0.45 * len(notes)
    x0, y1 = box.x0 - MARGIN, box.y1 + MARGIN
    width, height = box.x1 - box.x0 + 2 * MARGIN, box.y1 - box.y0 + 2 * MARGIN + note_h

    def px(x, y):
        return f"{(x - x0) * SCALE:.1f} {(y1 - y) * SCALE:.1f}"

    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<svg xmlns="http://www.w3.org/2000/svg" width="{width * SCALE:.0f}" '
           f'height="{height * SCALE:.0f}" viewBox="0 0 {width * SCALE:.0f} '
           f'{height * SCALE:.0f}" font-family={quoteattr(FONT)}>',
           "<defs>"]
    for name, color in (("forward", BLUE), ("backward", RED)):
        out.append(f'<marker id="{name}" viewBox="0 0 10 10" refX="10" refY="5" '
                   f'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
                   f'<path d="M 0 0 L 10 5 L 0 10 z" fill="{color}"/></marker>')
    out += ["</defs>", '<rect width="100%" height="100%" fill="white"/>']
    for frame, group in zip(lay.frames, picture.groups, strict=True):
        b = frame.box
        out.append(f'<rect class="frame" x="{(b.x0 - x0) * SCALE:.1f}" '
                   f'y="{(y1 - b.y1) * SCALE:.1f}" width="{(b.x1 - b.x0) * SCALE:.1f}" '
                   f'height="{(b.y1 - b.y0) * SCALE:.1f}" fill="none" stroke="{GREY}" '
                   f'stroke-dasharray="5 3"/>')
        t = frame.title
        out.append(_text(_prose(group.title), t.x - t.width / 2 + layout_.NODE_SEP,
                         t.y - t.height / 2 + layout_.NODE_SEP + 0.08, px,
                         layout_.TITLE_EM, "#555555", "start", "title"))
    for n, node in zip(picture.nodes, lay.nodes.values(), strict=True):
        out.append(_node(n, node, px))
    for c in lay.curves:
        kind = "backward" if c.backward else "forward"
        color = RED if c.backward else BLUE
        p0, c1, c2, p3 = (px(*p) for p in c.points)
        dash = ' stroke-dasharray="5 3"' if c.backward else ""
        out.append(f'<g class="edge" data-source={quoteattr(str(c.source))} '
                   f'data-target={quoteattr(str(c.target))} data-kind="{kind}">')
        out.append(f'<path d="M {p0} C {c1}, {c2}, {p3}" fill="none" stroke="{color}" '
                   f'stroke-width="{1.6 if not c.backward else 1.0}"{dash} '
                   f'marker-end="url(#{kind})"/>')
        if c.label is not None:
            out += _label(c.label, px, color)
        out.append("</g>")
    for lab in lay.extra:
        out += _label(lab, px, BLUE)
    for i, note in enumerate(lay.notes):
        mark, lines = note
        tree = [Run(mark + " ")] + [r for line in lines for r in runs(parse(line)) + [Run(" ")]]
        out.append(_text(tree, box.x0, box.y0 - 0.45 * (i + 1), px, layout_.LABEL_EM, RED,
                         "start", "note"))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _node(n, node, px) -> str:
    r = node.size / 2 * SCALE
    x, y = px(node.x, node.y).split()
    fill = "#ebebeb" if n.style == "parameter" else "white"
    dash = ' stroke-dasharray="4 2"' if n.style == "hyperparameter" else ""
    if node.shape == "circle":
        shape = f'<circle cx="{x}" cy="{y}" r="{r:.1f}" fill="{fill}" stroke="black"/>'
        if n.style == "output":
            shape += f'<circle cx="{x}" cy="{y}" r="{r - 3:.1f}" fill="none" stroke="black"/>'
    else:
        shape = (f'<rect x="{float(x) - r:.1f}" y="{float(y) - r:.1f}" width="{2 * r:.1f}" '
                 f'height="{2 * r:.1f}" rx="3" fill="{fill}" stroke="black"{dash}/>')
    text = _text(runs(parse(n.label)), node.x, node.y - 0.3 * layout_.NODE_EM, px,
                 layout_.NODE_EM, "black", "middle", "name")
    return f'<g class="node" data-name={quoteattr(str(node.key))}>{shape}{text}</g>'


def _label(lab, px, color) -> list[str]:
    b = lab.box
    out = [f'<rect x="{px(b.x0, b.y1).split()[0]}" y="{px(b.x0, b.y1).split()[1]}" '
           f'width="{(b.x1 - b.x0) * SCALE:.1f}" height="{(b.y1 - b.y0) * SCALE:.1f}" '
           f'fill="white" fill-opacity="0.85"/>']
    n = len(lab.lines)
    step = layout_.LINE_SKIP * layout_.LABEL_EM
    for i, line in enumerate(lab.lines):
        y = lab.y + (n - 1) / 2 * step - i * step - 0.3 * layout_.LABEL_EM
        out.append(_text(runs(parse(line)), lab.x, y, px, layout_.LABEL_EM, color, "middle",
                         "label"))
    return out


def _prose(text: str) -> list[Run]:
    """LaTeX text with $math$ (a frame's title) as runs."""
    out: list[Run] = []
    for i, part in enumerate(text.split("$")):
        out += runs(parse(part)) if i % 2 else [Run(part)]
    return out


def _text(tree, x, y, px, em, color, anchor, cls) -> str:
    """``<text>`` with the runs in ``tree``, its baseline at (x, y) cm."""
    size = em * SCALE
    spans, shift = [], 0
    for r in tree:
        dy = 0.0
        if r.shift != shift:
            dy = (RAISE.get(max(-1, min(1, r.shift)), 0) -
                  RAISE.get(max(-1, min(1, shift)), 0)) * size
            shift = r.shift
        attrs = f' dy="{dy:.1f}"' if dy else ""
        if r.shift:
            attrs += f' font-size="{SCRIPT_SIZE}"'
        if r.italic:
            attrs += ' font-style="italic"'
        spans.append(f"<tspan{attrs}>{escape(r.text)}</tspan>")
    sx, sy = px(x, y).split()
    return (f'<text class="{cls}" x="{sx}" y="{sy}" font-size="{size:.1f}" fill="{color}" '
            f'text-anchor="{anchor}" xml:space="preserve">{"".join(spans)}</text>')
