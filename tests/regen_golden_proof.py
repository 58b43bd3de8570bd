"""Regenerate the golden proofs in tests/golden/<spec>/ (proof.tex and proof.md).

    python -m tests.regen_golden_proof          (from the repository root)

The tests compare ``symgrad prove``'s output with these files byte for byte; after an intended
change to the proof writer, the printer or the templates, run this script and review
``git diff tests/golden`` before committing. (train.py has its own script, regen_golden.py.)
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
SPECS = ("logistic_regression",)  # the specs whose proofs are kept as golden files
GRAPH_FILE = "proof-graph.svg"  # what `symgrad prove SPEC -o proof.md` writes beside it


def outputs(name: str) -> dict[str, str]:
    """The proof of derivations/<name>.toml in both formats, by file name."""
    import symgrad
    from symgrad.document import prove, render

    spec = f"derivations/{name}.toml"  # as a user in the repository root would name it
    proof = prove(symgrad.loads((ROOT / spec).read_text(encoding="utf-8"), source=spec).derive())
    return {"proof.tex": render(proof, "latex"),
            "proof.md": render(proof, "markdown", GRAPH_FILE)}


def main() -> int:
    sys.path.insert(0, str(ROOT))  # this checkout's symgrad and templates
    for name in SPECS:
        for file, text in outputs(name).items():
            path = GOLDEN / name / file
            old = path.read_bytes() if path.exists() else None
            if old == text.encode("utf-8"):
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode("utf-8"))
            print(f"{'updated' if old is not None else 'created'} {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
