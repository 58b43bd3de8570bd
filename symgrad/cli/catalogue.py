"""``symgrad list``: the models shipped with symgrad, by the bare name every command takes."""

from __future__ import annotations

import json

from ..model.errors import SpecError
from ..model.escape import terminal_text
from .common import shipped


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "list", help="list the models shipped with symgrad",
        description="List the models shipped with symgrad: each one's name, which every "
                    "command takes in place of a spec file (symgrad derive "
                    "logistic_regression), and its title.")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="output format (default: text)")
    p.set_defaults(run=run)


def run(args) -> int:
    rows = [(name, _title(path)) for name, path in sorted(shipped().items())]
    if args.format == "json":
        print(json.dumps([{"name": n, "title": t, "spec": str(shipped()[n])} for n, t in rows],
                         indent=2))
        return 0
    width = max((len(name) for name, _ in rows), default=0)
    for name, title in rows:
        print(f"{name:<{width}}   {terminal_text(title)}".rstrip())
    return 0


def _title(path) -> str:
    """The spec's title (free text, shown escaped), or '' if the file has none."""
    from ..model.spec import read_text, read_toml

    try:
        data, _ = read_toml(read_text(path), str(path))
    except SpecError:
        return ""
    title = data.get("title", "")
    return title if isinstance(title, str) else ""
