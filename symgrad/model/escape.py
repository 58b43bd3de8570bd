r"""Text from a spec written into each output language: one function per language.

Spec files and claims come from strangers. Their free text (a title, a description, a file
name, a claim as typed) is data in every output, never code or markup, and each output applies
its function here in one place:

* :func:`python_text`: inside a docstring or after ``#`` in the generated module (the Jinja
  filter ``python_text``, where ``train.py.jinja`` writes the docstring and
  ``statements.py.jinja`` the comments);
* :func:`python_string`: a Python string literal (the code context's literals, and the filter
  ``python_string``);
* :func:`latex_text` and :func:`markdown_text`: prose in a proof (the writer of
  :mod:`symgrad.proof.document`);
* :func:`dot_string`: a quoted ID in Graphviz's DOT language (:mod:`symgrad.proof.drawing`);
* :func:`terminal_text`: a line on a terminal (:class:`~symgrad.model.errors.SpecError`,
  ``symgrad derive``'s report, the claim checker's verdicts).

It lives with the model, below every stage, because the one error type a user sees is here.
Expressions never reach an output as typed: they are printed from the parsed tree (comments
and all other raw text left behind), and names are identifiers (:mod:`symgrad.model.naming`).

A character that is not printable (a control character such as ESC or ``\r``, a bidi override
such as U+202E, a line separator) is written as its Python escape, ``\x1b`` or ``\u202e``: seen,
never obeyed, in every language. Prose (LaTeX, Markdown, DOT) turns whitespace into a space.

>>> print(python_string('x";__import__("os")#'))
"x\";__import__(\"os\")#"
>>> terminal_text("spec\x1b[2J\u202e.toml")
'spec\\x1b[2J\\u202e.toml'
>>> latex_text("50% of {x}"), markdown_text("a_b | *c*")
('50\\% of \\{x\\}', 'a\\_b \\| \\*c\\*')
"""

from __future__ import annotations

import re

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_LATEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
          "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
          "^": r"\textasciicircum{}"}
_MARKDOWN = re.compile(r"([\\`*_\[\]<>|$])")


def _visible(ch: str) -> str:
    if ch.isprintable():
        return ch
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _shown(text, prose: bool = False) -> str:
    """``text`` with what is not printable written as its escape; in prose, whitespace first
    becomes a space."""
    text = str(text)
    if prose:
        text = "".join(" " if ch.isspace() else ch for ch in text)
    return "".join(_visible(ch) for ch in text)


def terminal_text(text) -> str:
    """Text for a terminal: one line, no control characters (``\\x1b`` is shown, not obeyed)."""
    return _shown(text)


def python_text(text) -> str:
    """Text for inside a ``\"\"\"`` docstring or a ``#`` comment of generated code: its value
    at run time is the text as :func:`terminal_text` shows it, and nothing ends the string."""
    return _shown(text).replace("\\", "\\\\").replace('"', '\\"')


def python_string(text) -> str:
    """A Python string literal for ``text``, in double quotes (as ``ruff format`` writes it)."""
    return f'"{python_text(text)}"'


def latex_text(text) -> str:
    """Text for LaTeX's text mode: every special character typeset as itself."""
    return "".join(_LATEX.get(ch, ch) for ch in _shown(text, prose=True))


def markdown_text(text, *, code: bool = False) -> str:
    """Text for Markdown: its punctuation escaped; with ``code``, for inside a code span
    (`` ` `` cannot end it)."""
    text = _shown(text, prose=True)
    if code:
        return text.replace("`", "'")
    return _MARKDOWN.sub(r"\\\1", text)


def dot_string(text) -> str:
    """A double-quoted ID (a name, a label) in Graphviz's DOT language."""
    text = _shown(text, prose=True).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'
