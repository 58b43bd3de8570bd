"""What every subcommand shares: the SPEC argument."""

from __future__ import annotations

SPEC_HELP = "model spec file (TOML), e.g. derivations/logistic_regression.toml"


def add_spec_argument(parser) -> None:
    """The positional SPEC argument that every subcommand takes."""
    parser.add_argument("spec", help=SPEC_HELP)
