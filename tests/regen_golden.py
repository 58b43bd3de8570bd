"""Regenerate the golden files in tests/golden/ from the specs in derivations/.

    python -m tests.regen_golden          (from the repository root)

Each spec gets a folder, tests/golden/<spec>/, holding what symgrad generates from it (today:
train.py, the NumPy training module, for every model with examples). The tests compare the
generator's output with these files byte for byte; after an intended change to a template or
to the generator, run this script and review ``git diff tests/golden`` before committing.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"


def outputs(derivation) -> dict[str, str]:
    """The generated files of one derivation, by file name."""
    from symgrad.codegen import render

    files = {}
    if derivation.batch_graph is not None:  # no examples: nothing to train
        files["train.py"] = render(derivation)
    return files


def main() -> int:
    sys.path.insert(0, str(ROOT))  # this checkout's symgrad and templates
    import symgrad

    for spec in sorted((ROOT / "derivations").glob("*.toml")):
        for name, text in outputs(symgrad.load(spec).derive()).items():
            path = GOLDEN / spec.stem / name
            old = path.read_bytes() if path.exists() else None
            if old == text.encode("utf-8"):
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode("utf-8"))
            print(f"{'updated' if old is not None else 'created'} {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
