"""Where everything in the drawn graph goes, in centimetres: nodes, edges as cubic Bézier
curves, and every label in a box of its own.

The PDF (TikZ) and the Markdown proof's SVG both draw this one layout, so they agree. A label's
box is estimated from its LaTeX (:mod:`symgrad.proof.mathtext`, an upper bound at the
font size used) and placed on its own edge, where it overlaps no node, no other label and no
other edge; edges are bent around the nodes they do not join. :func:`problems` lists whatever
breaks these rules; the tests assert that it finds nothing for every model they know.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import pairwise

from . import mathtext

LABEL_EM = 0.2812  # cm: \scriptsize (8 pt) in an 11 pt article
NODE_EM = 0.3866  # cm: \normalsize (10.95 pt)
LABEL_SEP = 0.053  # cm: the label's inner sep (1.5 pt) on each side
NODE_SEP = 0.12  # cm: a node's inner sep around its name
NODE_MIN = {"circle": 0.8, "box": 0.7}  # cm: the smallest node drawn
LINE_SKIP = 1.2  # em between two lines of a label
LONG_LABEL = 20  # em: a longer label is shown by its name only (derived in the proof)
SAMPLES = 48  # points along each curve, for the overlap tests
GAP = 0.04  # cm kept free between a label and what it must not touch
DEBUG = False


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    @staticmethod
    def around(x, y, w, h):
        return Box(x - w / 2, y - h / 2, x + w / 2, y + h / 2)

    def overlaps(self, o: Box, gap: float = 0.0) -> bool:
        return (self.x0 < o.x1 + gap and o.x0 < self.x1 + gap and
                self.y0 < o.y1 + gap and o.y0 < self.y1 + gap)

    def contains(self, p, gap: float = 0.0) -> bool:
        return self.x0 - gap <= p[0] <= self.x1 + gap and self.y0 - gap <= p[1] <= self.y1 + gap

    def hits(self, p, q, gap: float = 0.0) -> bool:
        """Whether the segment p-q passes through the box (grown by ``gap``): Liang-Barsky."""
        x0, y0, x1, y1 = self.x0 - gap, self.y0 - gap, self.x1 + gap, self.y1 + gap
        t0, t1 = 0.0, 1.0
        dx, dy = q[0] - p[0], q[1] - p[1]
        for d, lo, hi, v in ((dx, x0, x1, p[0]), (dy, y0, y1, p[1])):
            if abs(d) < 1e-12:
                if v < lo or v > hi:
                    return False
                continue
            a, b = (lo - v) / d, (hi - v) / d
            if a > b:
                a, b = b, a
            t0, t1 = max(t0, a), min(t1, b)
            if t0 > t1:
                return False
        return True


@dataclass
class Node:
    key: object  # the symbol
    x: float
    y: float
    shape: str  # "circle" or "box"
    size: float  # diameter or side, cm

    def __post_init__(self):
        self.box = Box.around(self.x, self.y, self.size, self.size)

    def inside(self, p, gap: float = 0.0) -> bool:
        if self.shape == "circle":
            return math.hypot(p[0] - self.x, p[1] - self.y) < self.size / 2 + gap
        return self.box.contains(p, gap)


@dataclass
class Label:
    lines: list[str]  # LaTeX, one string per line
    width: float  # cm, an upper bound
    height: float
    x: float = 0.0  # its centre, once placed
    y: float = 0.0

    @property
    def box(self) -> Box:
        return Box.around(self.x, self.y, self.width, self.height)


@dataclass
class Curve:
    source: object
    target: object
    backward: bool
    points: tuple  # p0, c1, c2, p3: the Bézier from node border to node border
    label: Label | None = None

    def __post_init__(self):
        pts = [self.at(i / SAMPLES) for i in range(SAMPLES + 1)]
        self._samples = pts
        self.bounds = Box(min(p[0] for p in pts), min(p[1] for p in pts),
                          max(p[0] for p in pts), max(p[1] for p in pts))

    def at(self, t):
        return _bezier(self.points, t)

    def samples(self):
        return self._samples

    def meets(self, box: Box, gap: float = 0.0) -> bool:
        """Whether the curve passes through ``box``, grown by ``gap``."""
        if not self.bounds.overlaps(box, gap):
            return False
        return any(box.hits(p, q, gap) for p, q in pairwise(self._samples))


@dataclass
class Frame:
    """A dashed box around a layer drawn once for many, and its title above it."""

    box: Box
    title: Label
    members: tuple


@dataclass
class Layout:
    nodes: dict  # key -> Node
    curves: list[Curve]
    frames: list[Frame] = field(default_factory=list)
    extra: list[Label] = field(default_factory=list)  # labels of nodes (values), placed
    notes: list[tuple] = field(default_factory=list)  # (mark, lines): labels written below

    def bounds(self) -> Box:
        """Everything drawn: nodes, curves, labels, frames."""
        boxes = [n.box for n in self.nodes.values()] + [c.bounds for c in self.curves]
        boxes += [lab.box for lab in self.labels()] + [f.box for f in self.frames]
        return Box(min(b.x0 for b in boxes), min(b.y0 for b in boxes),
                   max(b.x1 for b in boxes), max(b.y1 for b in boxes))

    def labels(self):
        return [c.label for c in self.curves if c.label is not None] + \
            [f.title for f in self.frames] + self.extra


# ----- sizes -----


def label_size(lines) -> tuple[float, float]:
    """A label's box in cm (``lines`` of LaTeX in \\scriptsize): an upper bound."""
    trees = [mathtext.parse(s) for s in lines]
    w = max(mathtext.width(t) for t in trees)
    h = sum(max(mathtext.height(t), LINE_SKIP) for t in trees)
    return w * LABEL_EM * 1.1 + 2 * LABEL_SEP, h * LABEL_EM + 2 * LABEL_SEP


TITLE_EM = 0.3515  # cm: \small (10 pt) in an 11 pt article


def text_size(text: str) -> tuple[float, float]:
    r"""A frame's title (LaTeX text with $math$, in \small): its box in cm, an upper bound."""
    w = 0.0
    for i, part in enumerate(text.split("$")):
        if i % 2:
            w += mathtext.width(mathtext.parse(part))
        else:
            w += sum(0.35 if c == " " else 0.6 for c in part)
    return w * TITLE_EM + 2 * NODE_SEP, 1.3 * TITLE_EM + 2 * NODE_SEP


def node_size(latex: str, shape: str) -> float:
    t = mathtext.parse(latex)
    w, h = mathtext.width(t) * NODE_EM, mathtext.height(t) * NODE_EM
    inner = math.hypot(w, h) if shape == "circle" else max(w, h)
    return round(max(NODE_MIN[shape], inner + 2 * NODE_SEP), 2)


def too_long(lines) -> bool:
    return max(mathtext.width(mathtext.parse(s)) for s in lines) > LONG_LABEL


# ----- curves -----


def _bezier(pts, t):
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = pts
    u = 1 - t
    a, b, c, d = u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t
    return (a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3)


def _split(pts, t0, t1):
    """The piece of the Bézier ``pts`` between t0 and t1, as a Bézier of its own."""
    def cut(p, t):  # de Casteljau: the part after t
        (a, b, c, d) = p
        ab, bc, cd = _lerp(a, b, t), _lerp(b, c, t), _lerp(c, d, t)
        abc, bcd = _lerp(ab, bc, t), _lerp(bc, cd, t)
        return (_lerp(abc, bcd, t), bcd, cd, d)

    after = cut(pts, t0)
    s = (t1 - t0) / (1 - t0) if t0 < 1 else 1.0
    rev = cut(tuple(reversed(after)), 1 - s)
    return tuple(reversed(rev))


def _lerp(a, b, t):
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def _bent(a: Node, b: Node, k: float):
    """The Bézier from a's centre to b's, bowed ``k`` cm to the left of the way a -> b (its
    middle lies 0.75 k off the straight line), cut where it leaves a and enters b."""
    dx, dy = b.x - a.x, b.y - a.y
    n = math.hypot(dx, dy) or 1.0
    nx, ny = -dy / n * k, dx / n * k
    full = ((a.x, a.y), (a.x + dx / 3 + nx, a.y + dy / 3 + ny),
            (a.x + 2 * dx / 3 + nx, a.y + 2 * dy / 3 + ny), (b.x, b.y))
    t0 = _leave(full, a, lambda t: t)
    t1 = _leave(full, b, lambda t: 1 - t)
    return _split(full, t0, t1)


def _leave(pts, node, along):
    """The parameter where the curve crosses ``node``'s border (bisection)."""
    lo, hi = 0.0, 0.5
    for _ in range(30):
        mid = (lo + hi) / 2
        if node.inside(_bezier(pts, along(mid))):
            lo = mid
        else:
            hi = mid
    return along(hi)


def _through(curve, nodes, ends) -> int:
    """How many of ``nodes`` (other than ``ends``) the curve passes through."""
    hit = 0
    points = curve.samples()
    for n in nodes:
        if n.key in ends or not curve.bounds.overlaps(n.box, GAP):
            continue
        if any(n.inside(p, GAP) for p in points) or any(
                n.box.hits(p, q) and n.shape == "box" for p, q in pairwise(points)):
            hit += 1
    return hit


def _crossings(curve, others) -> int:
    count = 0
    ours = list(pairwise(curve.samples()[::4]))
    for other in others:
        if not curve.bounds.overlaps(other.bounds):
            continue
        for r, s in pairwise(other.samples()[::4]):
            count += sum(1 for p, q in ours if _cross(p, q, r, s))
    return count


def _cross(p, q, r, s) -> bool:
    def side(a, b, c):
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    return side(p, q, r) * side(p, q, s) < 0 and side(r, s, p) * side(r, s, q) < 0


BENDS = (0.0, 0.5, -0.5, 0.8, -0.8, 1.1, -1.1, 1.5, -1.5, 2.0, -2.0, 2.6, -2.6, 3.2, -3.2, 4.0,
         -4.0)
SPOTS = (0.5, 0.42, 0.58, 0.34, 0.66, 0.27, 0.73, 0.2, 0.8, 0.14, 0.86)


def add(layout: Layout, source, target, backward: bool, prefer: int, label: Label | None,
        placed: list) -> bool:
    """Add the curve source -> target to ``layout``, with its label on it: forward ones
    straight where they can be, backward ones bowed (to the side ``prefer``, +1 or -1, first:
    +1 is to the left of the way it goes); through no node but its ends and no label placed,
    its label clear of every node, label and other curve; of those, the one crossing the
    fewest curves. False (nothing added) if there is none."""
    a, b = layout.nodes[source], layout.nodes[target]
    others = layout.curves
    best = None
    for k in BENDS:
        if backward and abs(k) < 0.5:
            continue
        k *= prefer
        curve = Curve(source, target, backward, _bent(a, b, k))
        if _through(curve, layout.nodes.values(), {source, target}):
            continue
        if any(curve.meets(box, GAP) for box in placed):
            continue
        spot = None
        if label is not None:
            spot = _spot(layout, curve, label, placed)
            if spot is None:
                continue
        score = _crossings(curve, others) * 2 + abs(k)
        if best is None or score < best[0]:
            best = (score, curve, spot)
        if score < 2:
            break
    if best is None:
        if DEBUG:
            print("no room:", source, target, label and label.lines)
            layout.curves.append(Curve(source, target, backward, _bent(a, b, prefer)))
            return True
        return False
    _, curve, spot = best
    if label is not None:
        label.x, label.y = spot
        curve.label = label
        placed.append(label.box)
    layout.curves.append(curve)
    return True


def _spot(layout, curve, label, placed):
    w, h = label.width, label.height
    for t in SPOTS:
        x, y = curve.at(t)
        for sx, sy in ((x, y), (x, y + h / 2 - 0.02), (x, y - h / 2 + 0.02),
                       (x + w / 2 - 0.02, y), (x - w / 2 + 0.02, y)):
            if _free(Box.around(sx, sy, w, h), layout, curve, placed):
                return sx, sy
    return None


def _free(box: Box, layout: Layout, own, placed) -> bool:
    if any(box.overlaps(n.box, GAP) and _box_meets_node(box, n) for n in layout.nodes.values()):
        return False
    if any(box.overlaps(b, GAP) for b in placed):
        return False
    if any(c.meets(box, GAP) for c in layout.curves if c is not own):
        return False
    return all(not box.hits(p, q, GAP) for p, q in _frame_sides(layout))


def _box_meets_node(box: Box, n: Node) -> bool:
    if n.shape == "box":
        return True
    cx = min(max(n.x, box.x0), box.x1)
    cy = min(max(n.y, box.y0), box.y1)
    return math.hypot(cx - n.x, cy - n.y) < n.size / 2 + GAP


def _frame_sides(layout):
    out = []
    for f in layout.frames:
        b = f.box
        corners = [(b.x0, b.y0), (b.x1, b.y0), (b.x1, b.y1), (b.x0, b.y1)]
        out += list(pairwise(corners + corners[:1]))
    return out


def place_near(layout: Layout, node: Node, label: Label, placed: list) -> bool:
    """A node's own label (its value) beside it, clear of everything else."""
    r = node.size / 2 + 0.05
    w, h = label.width, label.height
    for dx, dy in ((0, -r - h / 2), (0, r + h / 2), (r + w / 2, 0), (-r - w / 2, 0),
                   (r + w / 2, -r), (-r - w / 2, -r), (r + w / 2, r), (-r - w / 2, r)):
        box = Box.around(node.x + dx, node.y + dy, w, h)
        if _free(box, layout, None, placed):
            label.x, label.y = node.x + dx, node.y + dy
            placed.append(box)
            return True
    return False


# ----- checks -----


def problems(layout: Layout) -> list[str]:
    """Every broken rule: a label on a node, on another label, on an edge not its own, or off
    its own edge; an edge through a node it does not join."""
    out = []
    labels = [(c.label, c) for c in layout.curves if c.label is not None]
    labels += [(f.title, None) for f in layout.frames] + [(e, None) for e in layout.extra]
    for i, (lab, own) in enumerate(labels):
        name = " / ".join(lab.lines)
        box = lab.box
        for n in layout.nodes.values():
            if box.overlaps(n.box) and _box_meets_node(box, n):
                out.append(f"label {name} overlaps node {n.key}")
        for other, _ in labels[i + 1:]:
            if box.overlaps(other.box):
                out.append(f"label {name} overlaps label {' / '.join(other.lines)}")
        for c in layout.curves:
            pts = c.samples()
            hit = any(box.hits(p, q) for p, q in pairwise(pts))
            if c is own and not hit:
                out.append(f"label {name} is not on its edge {c.source} -> {c.target}")
            elif c is not own and hit:
                out.append(f"label {name} overlaps the edge {c.source} -> {c.target}")
    for c in layout.curves:
        pts = c.samples()
        for n in layout.nodes.values():
            if n.key not in (c.source, c.target) and any(n.inside(p) for p in pts):
                out.append(f"edge {c.source} -> {c.target} passes through node {n.key}")
    return out
