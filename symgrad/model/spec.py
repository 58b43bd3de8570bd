"""Reading a model from a spec file (TOML). Every problem becomes one :class:`SpecError` line."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from . import naming
from .errors import SpecError
from .graph import Model

SECTIONS = {"name", "title", "dims", "inputs", "parameters", "hyperparameters", "graph", "cost",
            "layers"}
TABLES = ("dims", "inputs", "parameters", "hyperparameters", "graph", "cost")


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
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("no such file", file=shown) from None
    except (OSError, UnicodeDecodeError) as err:
        raise SpecError(f"cannot read the file: {err.__class__.__name__}", file=shown) from None


def read_toml(text: str, source: str) -> tuple[dict, dict]:
    """TOML text as data, and the line of each (section, key) for error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        msg = str(err)
        found = re.search(r"\(at line (\d+)", msg)
        reason = re.sub(r" \(at line.*", "", msg)
        raise SpecError(f"TOML syntax error: {reason}", file=source,
                        line=int(found.group(1)) if found else None) from None
    return data, _key_lines(text)


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
            if not isinstance(value, str):
                raise SpecError(f"expected a string, found {type(value).__name__}", file=source,
                                line=lines.get((section, key)), key=f"{section}.{key}")
    # a spec without a name is named after its file, made a valid name (my-model -> my_model)
    name = data["name"] if "name" in data else naming.identifier(Path(source).stem)
    return Model.build(name, title=str(data.get("title", "")), dims=data.get("dims"),
                       inputs=data.get("inputs"), parameters=data.get("parameters"),
                       hyperparameters=data.get("hyperparameters"), graph=data.get("graph"),
                       cost=data.get("cost"), source=source, lines=lines,
                       layers=data.get("layers"))


_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_.]+)\s*\]")
_KEY = re.compile(r"""^\s*("([^"]*)"|'([^']*)'|([A-Za-z0-9_\-, ]+?))\s*=""")


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
