"""Regenerate the golden files in tests/golden/ from the specs in derivations/.

    python -m tests.regen_golden          (from the repository root)

Each spec gets a folder, tests/golden/<spec>/, holding what symgrad generates from it: train.py,
the NumPy training module, for every model with examples; proof.tex and proof.md, its proof in
LaTeX and in Markdown, for the specs in PROOFS. The tests compare the output with these files
byte for byte; after an intended change to a template, the code generator, the proof writer or
the printer, run this script and review ``git diff tests/golden`` before committing.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
PROOFS = ("logistic_regression",)  # the specs whose proofs are kept as golden files
GRAPH_FILE = "proof-graph.svg"  # what `symgrad prove SPEC -o proof.md` writes beside it


def outputs(name: str) -> dict[str, str]:
    """The generated files of derivations/<name>.toml, by file name."""
    import symgrad
    from symgrad.code.render import render
    from symgrad.proof import document
    from symgrad.proof.build import prove

    spec = f"derivations/{name}.toml"  # as a user in the repository root would name it
    derivation = symgrad.loads((ROOT / spec).read_text(encoding="utf-8"), source=spec).derive()
    files = {}
    if derivation.batch_graph is not None:  # no examples: nothing to train
        files["train.py"] = render(derivation)
    if name in PROOFS:
        proof = prove(derivation)
        files["proof.tex"] = document.render(proof, "latex")
        files["proof.md"] = document.render(proof, "markdown", GRAPH_FILE)
    return files


def main() -> int:
    sys.path.insert(0, str(ROOT))  # this checkout's symgrad and templates
    for spec in sorted((ROOT / "derivations").glob("*.toml")):
        for file, text in outputs(spec.stem).items():
            path = GOLDEN / spec.stem / file
            old = path.read_bytes() if path.exists() else None
            if old == text.encode("utf-8"):
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode("utf-8"))
            print(f"{'updated' if old is not None else 'created'} {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
