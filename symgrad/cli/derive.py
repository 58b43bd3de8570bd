"""``symgrad derive SPEC``: every partial derivative of a model, as text or JSON."""

from __future__ import annotations

import json

from .common import add_spec_argument


def register(subparsers) -> None:
    d = subparsers.add_parser(
        "derive", help="derive every partial derivative of a model",
        description="Derive every partial derivative of a model, per example and "
                    "over m examples, simplified into the graph's own variables.")
    add_spec_argument(d)
    d.add_argument("--format", choices=("text", "json"), default="text",
                   help="output format (default: text)")
    d.set_defaults(run=run)


def run(args) -> int:
    from ..calculus.derivation import derive
    from ..model.spec import load
    from ..printing.printers import text_report

    derivation = derive(load(args.spec))
    if args.format == "json":
        print(json.dumps(derivation.to_json(), indent=2))
    else:
        print(text_report(derivation))
    return 0
