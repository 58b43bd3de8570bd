"""Files installed with the package: the Jinja templates and the shipped model specs.

``templates/`` and ``derivations/`` sit at the top of the repository and are installed as the
data-only packages ``symgrad.templates`` and ``symgrad.derivations`` (see pyproject.toml), so
the same lookup works from a checkout, an editable install and a wheel.
"""

from __future__ import annotations

import importlib
from pathlib import Path


def _folder(package: str) -> Path:
    try:
        module = importlib.import_module(package)
    except ModuleNotFoundError:  # run from a source checkout: the folders beside the package
        return Path(__file__).resolve().parents[2] / package.rsplit(".", 1)[1]
    return Path(next(iter(module.__path__)))


def templates_dir() -> Path:
    return _folder("symgrad.templates")


def shipped_specs() -> list[Path]:
    """The model specs that ship with symgrad (the repository's ``derivations/``)."""
    return sorted(_folder("symgrad.derivations").glob("*.toml"))
