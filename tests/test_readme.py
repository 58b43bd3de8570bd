"""README's table of operations lists every operation a spec may write, so that it cannot
drift from symgrad.model.ops: each elementwise function and each structural one."""

import re
from pathlib import Path

from symgrad.model.ops import ELEMENTWISE

README = Path(__file__).resolve().parents[1] / "README.md"
# what a spec writes besides ELEMENTWISE's functions (symgrad.model.graph.Model._parse): add a
# new structural operation here and a row to README's table
STRUCTURAL = {"softmax", "sum", "mean", "**", ".T", "@", "dropout", "batch_mean"}


def table_rows() -> dict[str, list[str]]:
    """README's table of operations: the operation's name -> the row's other cells."""
    text = README.read_text(encoding="utf-8")
    start = text.index("| operation | meaning | derivative | at a kink |")
    rows = {}
    for line in text[start:].splitlines()[2:]:
        line = line.strip()
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        written = re.fullmatch(r"`(.+)`", cells[0]).group(1)
        call = re.match(r"(\w+)\(", written)
        name = call.group(1) if call else next(op for op in ("**", ".T", "@") if op in written)
        rows[name] = cells[1:]
    return rows


def test_every_operation_has_a_row():
    rows = table_rows()
    assert set(ELEMENTWISE) | STRUCTURAL <= set(rows), set(ELEMENTWISE) | STRUCTURAL - set(rows)
    assert set(rows) <= set(ELEMENTWISE) | STRUCTURAL, set(rows) - set(ELEMENTWISE) - STRUCTURAL
    assert all(cells[0] and cells[1] for cells in rows.values())  # a meaning and a derivative


def test_kinks_state_their_convention():
    rows = table_rows()
    for name in ("relu", "leaky_relu", "abs", "maximum", "minimum", "clip"):
        assert rows[name][2], name
    assert rows["relu"][2] == "relu'(0) = 0"
    assert rows["leaky_relu"][2] == "leaky_relu'(0) = alpha"
    assert "goes to v" in rows["maximum"][2] and "goes to v" in rows["minimum"][2]
