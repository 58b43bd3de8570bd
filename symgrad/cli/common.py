"""What every subcommand shares: the SPEC argument, and the files a command writes."""

from __future__ import annotations

import sys

from ..printing.files import Outputs

SPEC_HELP = "model spec file (TOML), e.g. derivations/logistic_regression.toml"


def add_spec_argument(parser) -> None:
    """The positional SPEC argument that every subcommand takes."""
    parser.add_argument("spec", help=SPEC_HELP)


def outputs(args) -> Outputs:
    """The files a command writes, all of them or none, never over its SPEC; a file that is
    replaced is named on stderr."""
    return Outputs(inputs=[args.spec], notify=_notice)


def _notice(line: str) -> None:
    print(f"symgrad: {line}", file=sys.stderr)
