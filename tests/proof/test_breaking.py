"""Long equation lines broken into rows for the page (symgrad/proof/breaking.py); that no PDF
is left with an overfull box is tested over every model in tests/proof/test_layout.py."""

from symgrad.proof import breaking

TERM = r"\frac{\mathrm{d}L}{\mathrm{d}h_{1}} \odot \left(1 - \tanh^{2}{\left(Wx \, x_{1} + b \right)}\right) \, x_{1}^{\top}"  # noqa: E501


def test_a_short_line_is_left_alone():
    assert breaking.broken(r"\mathrm{d}z", "a - y") == "a - y"
    assert breaking.boxed_rule("chain rule") == "chain rule"


def test_a_long_sum_breaks_at_its_outer_plus_only():
    rhs = " + ".join([TERM] * 3)
    rows = breaking.rows(rhs, 30)
    assert len(rows) == 3 and rows[0] == TERM and rows[1] == "+ " + TERM
    assert " ".join(rows) == rhs  # the same text: only the rows change
    out = breaking.broken(r"\mathrm{d}Wx", rhs)
    assert "\\\\\n &\\qquad + " in out and out.replace(" \\\\\n &\\qquad ", " ") == rhs
    assert all(breaking.width(r) <= 30 for r in rows)


def test_a_factor_times_a_long_sum_breaks_inside_its_parentheses():
    rhs = r"\frac{1}{m} \left(" + " - ".join([TERM] * 2) + r"\right)"
    rows = breaking.rows(rhs, 30)
    assert rows == [r"\frac{1}{m} \left(" + TERM + r" \right.", r"\left. - " + TERM + r" \right)"]


def test_nothing_to_break_at_stays_one_row():
    rhs = r"\left(" + TERM + r"\right) \odot \left(" + TERM + r"\right)"
    assert breaking.rows(rhs, 30) == [rhs]


def test_a_long_justification_is_a_paragraph_and_a_wide_formula_in_it_is_scaled():
    rule = "with $" + TERM + " + " + TERM + "$, and the other terms do not depend on $b$"
    out = breaking.boxed_rule(rule)
    assert out.startswith(r"\parbox[t]{" + breaking.RULE_WIDTH + r"}{\raggedleft with ")
    assert r"\adjustbox{max width=0.9\linewidth}{$" + TERM in out
    assert out.endswith("do not depend on $b$}")  # a narrow formula stays inline
