"""Regenerate the golden files in tests/golden/ from the specs in derivations/, and from a few
of the catalogue's (tests/catalogue/).

    python -m tests.regen_golden          (from the repository root)

Each spec gets a folder, tests/golden/<spec>/ (tests/golden/catalogue-<spec>/ for the
catalogue's, so that no name clashes), holding what symgrad generates from it: train.py, the
NumPy training module, for every model with examples; proof.tex and proof.md, its proof in
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
# the catalogue's specs kept too: several inputs (dropout_mask), a label node (hinge_svm)
CATALOGUE = ("dropout_mask", "hinge_svm")
GRAPH_FILE = "proof-graph.svg"  # what `symgrad prove SPEC -o proof.md` writes beside it


def specs() -> dict[str, str]:
    """Each golden folder's name and its spec, as a user in the repository root names it."""
    folders = {p.stem: f"derivations/{p.name}"
               for p in sorted((ROOT / "derivations").glob("*.toml"))}
    folders.update({f"catalogue-{name}": f"tests/catalogue/{name}.toml" for name in CATALOGUE})
    return folders


def outputs(name: str) -> dict[str, str]:
    """The generated files of the golden folder name's spec (specs()), by file name."""
    import symgrad
    from symgrad.code.render import render
    from symgrad.proof import document
    from symgrad.proof.build import prove

    spec = specs()[name]
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
    for name in specs():
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
