"""The ``symgrad`` command line. Bad input: one line on stderr, exit code 2, no traceback."""

from __future__ import annotations

import argparse
import json
import sys

from .errors import SpecError

EPILOG = """examples:
  symgrad derive derivations/logistic_regression.toml
  symgrad derive derivations/logistic_regression.toml --format json
"""


SPEC_HELP = "model spec file (TOML), e.g. derivations/logistic_regression.toml"


def add_spec_argument(parser) -> None:
    """The positional SPEC argument that every subcommand takes."""
    parser.add_argument("spec", help=SPEC_HELP)


def cmd_derive(args) -> int:
    from .printing import text_report
    from .spec import load

    derivation = load(args.spec).derive()
    if args.format == "json":
        print(json.dumps(derivation.to_json(), indent=2))
    else:
        print(text_report(derivation))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="symgrad", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
        description="Derive, prove and generate code for the gradients of a computation graph.")
    from . import __version__

    p.add_argument("--version", action="version", version=f"symgrad {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    d = sub.add_parser("derive", help="derive every partial derivative of a model",
                       description="Derive every partial derivative of a model, per example and "
                                   "over m examples, simplified into the graph's own variables.")
    add_spec_argument(d)
    d.add_argument("--format", choices=("text", "json"), default="text",
                   help="output format (default: text)")
    d.set_defaults(run=cmd_derive)
    for register in _extensions():
        register(sub)
    return p


def _extensions():
    """Subcommands defined beside their features (codegen, prove, check...)."""
    import importlib

    out = []
    for module in ("codegen", "verify", "prove", "check"):
        try:
            mod = importlib.import_module(f".{module}_cli", __package__)
        except ModuleNotFoundError as err:
            if err.name != f"{__package__}.{module}_cli":
                raise
            continue
        out.append(mod.register)
    return out


def main(argv=None) -> int:
    p = parser()
    args = p.parse_args(argv)
    try:
        return args.run(args)
    except SpecError as err:
        print(f"symgrad: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("symgrad: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
