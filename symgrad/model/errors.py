"""The one error type a user ever sees from bad input: one line, naming where and what."""

from __future__ import annotations

from .escape import terminal_text


class SpecError(Exception):
    """Bad input: a spec file, a claim or a command-line argument.

    >>> str(SpecError("unknown name 'q'", file="m.toml", line=12, key="graph.z"))
    "m.toml:12: graph.z: unknown name 'q'"

    The file, the key and the user's text quoted in the message may come from a stranger: the
    line shows what is not printable as its escape (``\\x1b``), and never breaks.
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 key: str | None = None):
        self.message, self.file, self.line, self.key = message, file, line, key
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}" + (f":{self.line}" if self.line else "") + ": "
        elif self.line:
            where = f"line {self.line}: "
        if self.key:
            where += f"{self.key}: "
        return terminal_text(where + self.message)

    def located(self, *, file=None, line=None, key=None) -> SpecError:
        """A copy with the missing parts of its location filled in."""
        return SpecError(self.message, file=self.file or file, line=self.line or line,
                         key=self.key or key)
