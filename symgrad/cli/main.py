"""The ``symgrad`` command line. Bad input: one line on stderr, exit code 2, no traceback."""

from __future__ import annotations

import argparse
import sys

from .._version import __version__
from ..model.errors import SpecError
from . import check, codegen, derive, prove, verify

EPILOG = """examples:
  symgrad derive derivations/logistic_regression.toml
  symgrad derive derivations/logistic_regression.toml --format json
"""

SUBCOMMANDS = (derive, codegen, verify, prove, check)  # each module: register(), run()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="symgrad", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
        description="Derive, prove and generate code for the gradients of a computation graph.")
    p.add_argument("--version", action="version", version=f"symgrad {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in SUBCOMMANDS:
        command.register(sub)
    return p


def main(argv=None) -> int:
    p = parser()
    args = p.parse_args(argv)
    try:
        return args.run(args)
    except SpecError as err:
        print(f"symgrad: error: {err}", file=sys.stderr)
        return 2
    except RecursionError:  # input within every limit, yet too deep for SymPy: still one line
        where = f"{args.spec}: " if getattr(args, "spec", None) else ""
        print(f"symgrad: error: {where}the model's expressions are nested too deeply for SymPy; "
              "expected a graph with fewer nodes nested in one another", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("symgrad: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
