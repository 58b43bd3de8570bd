r"""Long equation lines broken for the page.

An ``align*`` row cannot break by itself, so a right-hand side wider than the text is cut here
into rows at its outermost ``+`` and ``-`` (or, for ``c \left( ... \right)``, inside the
parentheses), each row then starting ``&\qquad``. Only the printing changes: the line is one
equation and is checked as one (symgrad/proof/line_check.py). A justification too long for
the margin is set in a narrow paragraph, where its inline math may break.

Widths are the upper bounds of :mod:`symgrad.proof.mathtext`, in em of the text font.
"""

from __future__ import annotations

import re

from . import mathtext

ROW_EM = 40.0  # em: an lhs, its relation and one row of the right-hand side, at most
RULE_EM = 36.0  # em of \small text: a longer justification (wider than the page when it
# has a row of its own) is set as a paragraph
RULE_WIDTH = r"0.42\linewidth"
BOX_EM = 14.0  # em of \small text: a formula in such a paragraph, at most
INDENT = r"\qquad "
_TOKEN = re.compile(r"\\left\\?.|\\right\\?.|\\[A-Za-z]+|\\.|.", re.S)


def width(tex: str) -> float:
    """An upper bound of ``tex``'s width in em (math, display style)."""
    try:
        return mathtext.width(mathtext.parse(tex))
    except Exception:  # noqa: BLE001 - a fragment the estimator does not read: by its length
        return 0.6 * len(re.sub(r"\\[A-Za-z]+", "x", tex))


def _terms(tex: str, depth: int) -> list[tuple[int, int]]:
    """The spans of ``tex`` between its ``+``/``-`` at nesting ``depth`` (braces and
    ``\\left``/``\\right`` pairs), each span starting at its sign."""
    cuts, level, i = [0], 0, 0
    for tok in _TOKEN.finditer(tex):
        t = tok.group()
        i = tok.start()
        if t == "{" or t.startswith(r"\left"):
            level += 1
        elif t == "}" or t.startswith(r"\right"):
            level -= 1
        elif t in "+-" and level == depth and i > 0 and tex[i - 1] == " " \
                and tex[i + 1:i + 2] == " " and tex[:i].strip() not in ("", r"\left("):
            cuts.append(i)
    return list(zip(cuts, cuts[1:] + [len(tex)], strict=True))


def _pack(pieces: list[str], limit: float) -> list[str]:
    rows: list[str] = []
    for p in pieces:
        if rows and width(rows[-1] + " " + p) <= limit:
            rows[-1] = rows[-1] + " " + p
        else:
            rows.append(p)
    return rows


def rows(rhs: str, limit: float) -> list[str]:
    """``rhs`` cut into rows no wider than ``limit`` em where it can be; one row if it fits
    or has nowhere to break."""
    if width(rhs) <= limit:
        return [rhs]
    spans = _terms(rhs, 0)
    if len(spans) > 1:
        return _pack([rhs[a:b].strip() for a, b in spans], limit)
    # c \left( t1 + t2 \right): break inside the parentheses, \right. and \left. at the cuts
    hit = re.search(r"\\left\(", rhs)
    if hit is None or not rhs.rstrip().endswith(r"\right)"):
        return [rhs]
    inner = rhs[hit.end():rhs.rstrip().rindex(r"\right)")]
    if not _balanced(inner):
        return [rhs]
    spans = _terms(inner, 0)
    if len(spans) < 2:
        return [rhs]
    head = rhs[:hit.start()] + r"\left("
    pieces = [inner[a:b].strip() for a, b in spans]
    pieces[0] = head + pieces[0]
    out = _pack(pieces, limit - 1)
    return [(r"\left. " if k else "") + row + (r" \right." if k < len(out) - 1 else r" \right)")
            for k, row in enumerate(out)]


def _balanced(tex: str) -> bool:
    level = 0
    for tok in _TOKEN.finditer(tex):
        t = tok.group()
        if t == "{" or t.startswith(r"\left"):
            level += 1
        elif t == "}" or t.startswith(r"\right"):
            level -= 1
        if level < 0:
            return False
    return level == 0


def broken(lhs: str, rhs: str) -> str:
    r"""``rhs`` as printed in an ``align*`` row after ``lhs &=``: rows joined by ``\\`` and
    ``&\qquad`` where the line is too wide for the page."""
    limit = max(ROW_EM - width(lhs) - 2, 16.0)
    parts = rows(rhs, limit)
    return (" \\\\\n &" + INDENT).join(parts)


def rule_width(text: str) -> float:
    """An upper bound of a justification's width in em (\\small text with $math$)."""
    w = 0.0
    for i, part in enumerate(text.split("$")):
        w += width(part) if i % 2 else 0.55 * len(re.sub(r"\\[A-Za-z]+\s*", "", part))
    return w * 0.9


def boxed_rule(text: str) -> str:
    """A justification too long for the margin set as a narrow paragraph, else as it is; a
    formula in it wider than the paragraph (it cannot break inside its parentheses) is scaled
    down to the paragraph's width."""
    if rule_width(text) <= RULE_EM:
        return text
    parts = re.split(r"(?<!\\)\$", text)
    for i in range(1, len(parts), 2):
        if 0.9 * width(parts[i]) > BOX_EM:
            parts[i] = rf"\adjustbox{{max width=0.9\linewidth}}{{${parts[i]}$}}"
        else:
            parts[i] = f"${parts[i]}$"
    return rf"\parbox[t]{{{RULE_WIDTH}}}{{\raggedleft {''.join(parts)}}}"
