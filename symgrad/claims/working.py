"""Multi-line hand derivations, judged line by line as a grader would.

A derivation is a file of equalities, one a line (``symgrad check SPEC derivation.md``):

* ``.md``: the lines of Markdown math blocks (```` ```math ````, ``$$ ... $$``), or every line
  with an ``=`` where there are none; ``.tex``: the lines of ``align``, ``align*``, ``equation``,
  ``aligned`` environments and ``\\[ ... \\]``; ``.txt``: every line with an ``=``. LaTeX's
  ``&`` and ``\\\\`` are dropped.
* ``NAME = expr`` starts a derivative (any left side a claim may have: ``dz``, ``dL/dz``,
  ``dZ^{[2]}``); ``= expr`` (``&= expr``) continues it, and so does a chain ``a = b = c``. A line
  about a name of the graph that is not a derivative (``z = w^T x + b``) is context, skipped.

Each line is judged twice, in the claim's notation (:mod:`symgrad.claims.notation`):

* **right**: the line, with the derivatives the student defined on earlier lines taken at the
  student's own values, is proven equal to symgrad's derivative (:class:`Checker`);
* otherwise, **follows (error carried forward)**: it is a correct step from the line before
  (the two agree; for a derivative's first line, it is right at symgrad's values of the
  derivatives it uses, so the slip is in one of them); or **wrong**: it does not follow.

The report names the first wrong line, the step that broke ("line 7 does not follow from line
6") and the slip (:mod:`symgrad.claims.diagnose`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..calculus.budget import OutOfTime, limit
from ..model.errors import SpecError
from ..model.escape import terminal_text
from ..model.limits import MAX_CLAIMS, MAX_LENGTH
from .checker import PROVEN, REFUTED, Checker, Verdict
from .claim import Claim
from .notation import standard_name
from .scope import differs

SUFFIXES = (".md", ".tex", ".txt")
RIGHT, FOLLOWS, WRONG, UNDECIDED = "right", "follows", "wrong", "not proven"
MARK = {RIGHT: "✓", FOLLOWS: "→", WRONG: "✗", UNDECIDED: "?"}
POINTS = 6  # random points at which two steps must agree to follow
_ENVIRONMENTS = re.compile(r"\\(begin|end)\{(align|aligned|equation|gather|split|eqnarray)"
                           r"\*?\}")
_DROP = re.compile(r"\\(nonumber|notag|label\{[^}]*\}|tag\{[^}]*\}|displaystyle)")


@dataclass
class Line:
    """One judged line of a derivation."""

    number: int  # in the file
    name: str
    text: str  # the right side, as written
    status: str
    after: int | None = None  # the line it follows from (None: the derivative's first line)
    reason: str = ""
    verdict: Verdict | None = None

    def text_lines(self) -> list[str]:
        head = f"line {self.number}: {MARK[self.status]} {self.name} = {self.text}"
        if self.status == RIGHT:
            out = [head + " (right)"]
        elif self.status == FOLLOWS:
            out = [head + f" ({self.reason})"]
        else:
            out = [head + f" ({self.status}): {self.reason}"]
            if self.verdict is not None:
                out += [f"  {d}" for d in self.verdict.diagnosis]
                if self.verdict.counterexample is not None:
                    ce = self.verdict.counterexample.text(self.name, self.verdict.batch)
                    out.append(f"  Counterexample: {ce}.")
        return out

    def to_json(self) -> dict:
        return {"line": self.number, "name": self.name, "claim": self.text,
                "status": self.status, "follows_from": self.after, "reason": self.reason,
                "diagnosis": self.verdict.diagnosis if self.verdict else [],
                "verdict": self.verdict.to_json() if self.verdict else None}


@dataclass
class Report:
    """The judged lines of one derivation file."""

    file: str
    lines: list = field(default_factory=list)

    @property
    def first_wrong(self) -> Line | None:
        return next((line for line in self.lines if line.status == WRONG), None)

    @property
    def all_right(self) -> bool:
        return all(line.status == RIGHT for line in self.lines)

    def text(self) -> str:
        out = [f"{self.file}: {len(self.lines)} lines judged"]
        for line in self.lines:
            out += line.text_lines()
        first = self.first_wrong
        if first is not None:
            out.append(f"First wrong line: {first.number} ({first.name} = {first.text}): "
                       f"{first.reason}")
        elif self.all_right:
            out.append("Every line is right.")
        return "\n".join(terminal_text(line) for line in out)

    def to_json(self) -> dict:
        first = self.first_wrong
        return {"file": self.file, "all_right": self.all_right,
                "first_wrong_line": first.number if first else None,
                "lines": [line.to_json() for line in self.lines]}


# ----- reading the file -----

def equalities(text: str, suffix: str) -> list[tuple[int, list[str]]]:
    """(line number, the parts of its equality split at ``=``) for each line of math."""
    lines = text.splitlines()
    if suffix == ".md":
        chosen = _markdown(lines)
    elif suffix == ".tex":
        chosen = _latex(lines)
    else:
        chosen = list(enumerate(lines, 1))
    out = []
    for number, raw in chosen:
        line = _clean(raw)
        if "=" not in line.replace("==", ""):
            continue
        out.append((number, _split(line)))
    return out


def _markdown(lines):
    chosen, fence, dollars = [], False, False
    for number, line in enumerate(lines, 1):
        s = line.strip()
        if s.startswith("```"):
            fence = not fence and s[3:].strip() in ("math", "latex", "tex", "")
            continue
        if s.startswith("$$") and s.endswith("$$") and len(s) > 4:
            chosen.append((number, s[2:-2]))
            continue
        if s.startswith("$$") or s.endswith("$$"):
            dollars = not dollars
            rest = s.strip("$")
            if rest:
                chosen.append((number, rest))
            continue
        if fence or dollars:
            chosen.append((number, line))
    if chosen:
        return chosen
    return [(n, line) for n, line in enumerate(lines, 1) if "=" in line]


def _latex(lines):
    chosen, inside = [], 0
    for number, line in enumerate(lines, 1):
        s = line.split("%", 1)[0] if "\\%" not in line else line
        begins = len(re.findall(r"\\begin\{(align|aligned|equation|gather|split)\*?\}", s))
        begins += s.count("\\[")
        ends = len(re.findall(r"\\end\{(align|aligned|equation|gather|split)\*?\}", s))
        ends += s.count("\\]")
        if inside or begins:
            chosen.append((number, s))
        inside += begins - ends
    return chosen


def _clean(line: str) -> str:
    line = _ENVIRONMENTS.sub(" ", line)
    line = _DROP.sub(" ", line)
    line = line.replace("\\[", " ").replace("\\]", " ").replace("&", " ").replace("$", " ")
    line = line.strip()
    while line.endswith("\\\\"):
        line = line[:-2].rstrip()
    return line.rstrip(",;.").strip()


def _split(line: str) -> list[str]:
    """``line`` cut at every ``=`` outside brackets (not ``==``, ``<=``, ``>=``)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(line):
        depth += 1 if ch in "([{" else -1 if ch in ")]}" else 0
        if ch == "=" and depth == 0 and line[i - 1:i] not in ("<", ">", "=", "!") \
                and line[i + 1:i + 2] != "=":
            parts.append(line[start:i].strip())
            start = i + 1
    parts.append(line[start:].strip())
    return parts


# ----- judging -----

def check_derivation(model, path, checker: Checker | None = None) -> Report:
    """Judge the derivation in the file ``path`` (``.md``, ``.tex`` or ``.txt``)."""
    from ..model.spec import read_text

    shown, suffix = str(path), Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise SpecError(f"cannot read a derivation from '{suffix or shown}'; expected a file "
                        f"ending in {', '.join(SUFFIXES)}", file=shown)
    text = read_text(path)
    checker = checker or Checker(model)
    rows = equalities(text, suffix)
    if not rows:
        raise SpecError("no equalities found; expected lines such as dz = a - y (in a math "
                        "block, an align environment or plain text)", file=shown)
    if sum(len(parts) - 1 for _, parts in rows) > MAX_CLAIMS:
        raise SpecError(f"more than {MAX_CLAIMS} steps; expected at most {MAX_CLAIMS}",
                        file=shown)
    prepared = _prepare(checker, rows, shown)  # every input error before any verdict
    return _Judge(checker, shown).run(prepared)


def _prepare(checker, rows, shown):
    graph_names = set()
    for batch in (False, True):
        try:
            space = checker.space(batch)
        except SpecError:
            continue
        graph_names |= set(space.names) - set(space.adjoints)
    steps, current = [], None
    for number, parts in rows:
        where = {"file": shown, "line": number}
        left, rights = parts[0], [p for p in parts[1:]]
        if len(left) + sum(map(len, rights)) > MAX_LENGTH:
            raise SpecError(f"line of {len(left)} characters is too long", **where)
        if left:
            try:
                name = standard_name(left)[0]
            except SpecError as err:
                raise err.located(**where) from None
            if name in graph_names:
                current = None  # a definition of the forward pass: context
                continue
            current = left
        elif current is None:
            raise SpecError(f"'= {rights[0][:40]}' continues no derivative; expected a line "
                            "NAME = expression before it, such as dz = a - y", **where)
        for right in rights:
            if not right:
                raise SpecError(f"nothing after '=' for {current[:40]}; expected an expression",
                                **where)
            claim = Claim.of(current, right, where=where)
            steps.append((number, claim, checker.prepare(claim)))
    return steps


class _Judge:
    def __init__(self, checker, shown):
        self.checker, self.shown = checker, shown
        self.defined = {}  # (space, adjoint symbol) -> the student's expression
        self.report = Report(shown)

    def run(self, prepared) -> Report:
        previous = None  # (line, name, space, expression) of the line before in the block
        last = {}
        for number, claim, (space, claim, step, expr) in prepared:
            own = self.own(space, expr)
            same_block = previous is not None and previous[1] == claim.name
            line = Line(number, claim.name, claim.written, RIGHT,
                        after=previous[0] if same_block else None)
            try:
                with limit(self.checker.time_limit):  # one line, one claim's time
                    line.verdict = self.checker.judge(space, claim, step, own)
                    if line.verdict.status != PROVEN:
                        self.grade(line, space, step, expr, own,
                                   previous if same_block else None)
            except OutOfTime as out:
                line.status = UNDECIDED
                line.reason = f"gave up after {out.seconds:g} s, the time limit"
            self.report.lines.append(line)
            previous = (number, claim.name, space, own)
            last[space, step.adjoint] = own
            self.defined = dict(last)
        return self.report

    def own(self, space, expr):
        """``expr`` with the derivatives the student defined taken at the student's values."""
        subs = {s: e for (sp_, s), e in self.defined.items() if sp_ is space}
        return expr.xreplace(subs) if subs else expr

    def grade(self, line, space, step, expr, own, previous):
        verdict = line.verdict
        if previous is not None:
            if previous[2] is space and _agree(space, step, own, previous[3]):
                line.status, line.reason = FOLLOWS, (f"follows from line {previous[0]} (error "
                                                     "carried forward)")
                return
            broke = (f"line {line.number} does not follow from line {previous[0]}"
                     if previous[0] != line.number else
                     f"the step on line {line.number} does not follow from the one before it")
        else:
            if own != expr:
                at_truth = self.checker.judge(space, _claim_of(line, verdict), step, expr)
                if at_truth.status == PROVEN:
                    line.status = FOLLOWS
                    line.reason = ("follows (error carried forward): right at symgrad's "
                                   "values of the derivatives it uses")
                    return
            broke = f"line {line.number} is wrong: it is not {line.name}"
        if verdict.status == REFUTED:
            line.status, line.reason = WRONG, broke + "."
        else:
            line.status = UNDECIDED
            line.reason = broke + f" ({verdict.reason or 'not proven'})."


def _claim_of(line, verdict):
    return Claim(line.name, "0", verdict.batch, {}, line.text)


def _agree(space, step, a, b) -> bool:
    """True where the two expressions agree: SymPy shows it, or they agree at the random points
    (one step follows from the other: a grade, never a proof)."""
    if a == b or space.equal(a, b):
        return True
    compared = 0
    for env in space.points(POINTS):
        differ = differs(space.value(a, env), space.value(b, env), space.due(step, env))
        if differ:
            return False
        compared += differ is not None
    return compared > 0
