"""What every subcommand shares: the SPEC argument, and the files a command writes."""

from __future__ import annotations

import sys
from pathlib import Path

from ..model.errors import SpecError
from ..printing.files import Outputs
from ..printing.resources import shipped_specs

SPEC_HELP = ("a model spec file (TOML), e.g. derivations/logistic_regression.toml, or the name "
             "of a model shipped with symgrad, e.g. logistic_regression ('symgrad list' shows "
             "them)")


def add_spec_argument(parser) -> None:
    """The positional SPEC argument that every subcommand takes."""
    parser.add_argument("spec", help=SPEC_HELP)


def shipped() -> dict[str, Path]:
    """The shipped specs by bare name (the file's stem)."""
    from ..model.naming import is_valid  # here, so that --help and --version need no SymPy

    return {path.stem: path for path in shipped_specs() if is_valid(path.stem)}


def resolve_spec(spec: str) -> str:
    """The file SPEC names: an existing file as given; else a shipped model's file, if SPEC is a
    plain identifier equal to one's name; else one line saying what SPEC may be.

    A bare name never becomes a path by itself: it is only looked up among the shipped files.

    >>> Path(resolve_spec("logistic_regression")).name
    'logistic_regression.toml'
    """
    from ..model.naming import is_valid

    path = Path(spec)
    if path.exists() and not path.is_dir():
        return spec
    if is_valid(spec):
        found = shipped().get(spec)
        if found is not None:
            return str(found)
    what = "is a folder" if path.is_dir() else "no such file"
    raise SpecError(f"{what}, and not the name of a model shipped with symgrad; expected a "
                    "spec file or a shipped model's name ('symgrad list' shows them)", file=spec)


def outputs(args) -> Outputs:
    """The files a command writes, all of them or none, never over its SPEC; a file that is
    replaced is named on stderr."""
    return Outputs(inputs=[args.spec], notify=_notice)


def _notice(line: str) -> None:
    print(f"symgrad: {line}", file=sys.stderr)
