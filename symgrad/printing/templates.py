"""The Jinja environment, built in one place for every template in ``templates/``.

Templates do layout only: they receive plain, precomputed data (names, shapes, expressions
already printed) and loop over it. Free text from a spec reaches generated code through the
filters of :mod:`symgrad.model.escape`: ``python_text`` where the docstring and the comments are
written, ``python_string`` for literals. Python templates (``*.py.jinja``) use Jinja's usual
delimiters; LaTeX templates (``*.tex.jinja``, ``*.md.jinja``) use ``\\BLOCK{}``/``\\VAR{}``, which
do not clash with LaTeX's braces and percent signs.
"""

from __future__ import annotations

import functools

import jinja2

from ..model.escape import python_string, python_text
from .resources import templates_dir

LATEX_DELIMITERS = {
    "block_start_string": r"\BLOCK{", "block_end_string": "}",
    "variable_start_string": r"\VAR{", "variable_end_string": "}",
    "comment_start_string": r"\#{", "comment_end_string": "}",
}


TEMPLATE_FILTERS = {"python_string": python_string, "python_text": python_text}


@functools.cache
def environment(syntax: str = "python") -> jinja2.Environment:
    """The environment for ``syntax`` "python" or "latex" (LaTeX and Markdown proofs)."""
    delimiters = LATEX_DELIMITERS if syntax == "latex" else {}
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        **delimiters,
    )
    env.filters.update(TEMPLATE_FILTERS)
    return env
