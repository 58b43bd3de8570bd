"""Reading a model from a spec file (TOML). Every problem becomes one :class:`SpecError` line."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from . import naming
from .errors import SpecError
from .graph import Model
from .limits import MAX_DIGITS, MAX_FILE_LENGTH, MAX_TOML_NESTING

SECTIONS = {"name", "title", "description", "dims", "inputs", "labels", "constants",
            "parameters", "hyperparameters", "graph", "cost", "layers", "example"}
TABLES = ("dims", "inputs", "labels", "constants", "parameters", "hyperparameters", "graph",
          "cost", "example")


def load(path) -> Model:
    """Read a spec file and return its :class:`Model`.

    >>> load("derivations/computation_graph.toml").derive().per_example["db"]
    3*c
    """
    return loads(read_text(path), source=str(path))


def read_text(path) -> str:
    """A user's file as text, or one clear SpecError."""
    shown = str(path)
    try:
        with Path(path).open(encoding="utf-8") as file:
            text = file.read(MAX_FILE_LENGTH + 1)  # never more: the file may be huge, or endless
    except FileNotFoundError:
        raise SpecError("no such file", file=shown) from None
    except (OSError, UnicodeDecodeError) as err:
        raise SpecError(f"cannot read the file: {err.__class__.__name__}", file=shown) from None
    if len(text) > MAX_FILE_LENGTH:
        raise SpecError(f"file longer than {MAX_FILE_LENGTH} characters; expected a spec or "
                        "claims file of at most 1 MB", file=shown)
    return text


def read_toml(text: str, source: str) -> tuple[dict, dict]:
    """TOML text as data, and the line of each (section, key) for error messages."""
    if len(text) > MAX_FILE_LENGTH:
        raise SpecError(f"text longer than {MAX_FILE_LENGTH} characters; expected at most 1 MB",
                        file=source)
    _check_toml_limits(text, source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        msg = str(err)
        found = re.search(r"\(at line (\d+)", msg)
        reason = re.sub(r" \(at line.*", "", msg)
        raise SpecError(f"TOML syntax error: {reason}", file=source,
                        line=int(found.group(1)) if found else None) from None
    except (RecursionError, ValueError):  # should the scan have missed something
        raise SpecError(f"a value nested more than {MAX_TOML_NESTING} deep or a number of more "
                        f"than {MAX_DIGITS} digits; expected less", file=source) from None
    return data, _key_lines(text)


# where something starts in TOML text: a string, a comment, a bracket, a line, a number
_TOML_START = re.compile(r'"""|\'\'\'|["\'#\[\]{}\n]|(?<![A-Za-z0-9_])[0-9][0-9A-Za-z_]*')
_STRING_REST = {'"': re.compile(r'(?:[^"\\\n]|\\.)*"?'), "'": re.compile(r"[^'\n]*'?"),
                '"""': re.compile(r'(?:[^"\\]|\\[\s\S]|"(?!""))*(?:""")?'),
                "'''": re.compile(r"(?:[^']|'(?!''))*(?:''')?"), "#": re.compile(r"[^\n]*")}


def _check_toml_limits(text: str, source: str) -> None:
    """Refuse values nested more than MAX_TOML_NESTING deep and numbers of more than MAX_DIGITS
    digits, with their line, before tomllib reads them: it recurses into nested values, and
    calls int(), which refuses more than 4300 digits. Strings and comments are skipped; every
    character is looked at once (no pattern here backtracks over a long line)."""
    line, depth, at = 1, 0, 0
    while found := _TOML_START.search(text, at):
        token, at = found.group(), found.end()
        if token in _STRING_REST:
            rest = _STRING_REST[token].match(text, at)
            line += text.count("\n", at, rest.end())
            at = rest.end()
        elif token == "\n":
            line += 1
        elif token in ("[", "{"):
            depth += 1
            if depth > MAX_TOML_NESTING:
                raise SpecError(f"arrays or inline tables nested more than {MAX_TOML_NESTING} "
                                f"deep; expected at most {MAX_TOML_NESTING}", file=source,
                                line=line)
        elif token in ("]", "}"):
            depth = max(depth - 1, 0)
        elif len(token) > MAX_DIGITS:
            raise SpecError(f"a number of {len(token)} digits; expected at most {MAX_DIGITS}",
                            file=source, line=line)


def loads(text: str, source: str = "<spec>") -> Model:
    data, lines = read_toml(text, source)
    for key, value in data.items():
        if key not in SECTIONS:
            raise SpecError(f"unknown section or key '{key}'; expected one of: "
                            f"{', '.join(sorted(SECTIONS))}", file=source,
                            line=lines.get((None, key)), key=key)
        if key in TABLES and not isinstance(value, dict):
            raise SpecError(f"'{key}' must be a table ([{key}])", file=source,
                            line=lines.get((None, key)), key=key)
    for section in TABLES + ("layers.parameters", "layers.hidden", "layers.output"):
        table = data
        for part in section.split("."):
            table = table.get(part, {}) if isinstance(table, dict) else {}
        for key, value in (table if isinstance(table, dict) else {}).items():
            if section == "hyperparameters" and isinstance(value, dict):
                continue  # { default = ..., domain = ... }: checked by domains.hyperparameter
            if section == "example":
                continue  # numbers: checked by graph.example_values
            if not isinstance(value, str):
                raise SpecError(f"expected a string, found {type(value).__name__}", file=source,
                                line=lines.get((section, key)), key=f"{section}.{key}")
    for key in ("title", "description"):
        if key in data and not isinstance(data[key], str):
            raise SpecError(f"expected a string, found {type(data[key]).__name__}", file=source,
                            line=lines.get((None, key)), key=key)
    # a spec without a name is named after its file, made a valid name (my-model -> my_model)
    name = data["name"] if "name" in data else naming.identifier(Path(source).stem)
    return Model.build(name, title=str(data.get("title", "")),
                       description=data.get("description", ""), dims=data.get("dims"),
                       inputs=data.get("inputs"), labels=data.get("labels"),
                       constants=data.get("constants"),
                       parameters=data.get("parameters"),
                       hyperparameters=data.get("hyperparameters"), graph=data.get("graph"),
                       cost=data.get("cost"), source=source, lines=lines,
                       layers=data.get("layers"), example=data.get("example"))


_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_.]+)\s*\]")
# a bare key starts and ends with a non-space, so that no two parts can match the same spaces
# (a long line of spaces would take cubic time)
_KEY = re.compile(r"""^\s*("([^"]*)"|'([^']*)'|([A-Za-z0-9_\-,](?:[A-Za-z0-9_\-, ]*"""
                  r"""[A-Za-z0-9_\-,])?))\s*=""")


def _key_lines(text: str) -> dict:
    """(section, key) -> line number, for error messages (tomllib keeps no positions)."""
    out, section = {}, None
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            section = header.group(1)
            out.setdefault((None, section), number)
            out.setdefault((section, None), number)
            continue
        key = _KEY.match(line)
        if key:
            name = next(g for g in key.groups()[1:] if g is not None)
            out.setdefault((section, name.strip()), number)
    return out
