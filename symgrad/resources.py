"""Files installed with the package: the Jinja templates and the shipped model specs."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def templates_dir() -> Path:
    return Path(str(resources.files("symgrad.templates")))


def shipped_specs() -> list[Path]:
    """The model specs that ship with symgrad (the repository's ``derivations/``)."""
    return sorted(Path(str(resources.files("symgrad.derivations"))).glob("*.toml"))
