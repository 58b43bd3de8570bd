"""The package's folders are the pipeline, and its imports only point down it.

cli -> the three readers (code, proof, claims) -> calculus -> printing -> model. Every import
counts, function-level ones too. A reader never imports another reader, nothing imports a stage
above its own, and there is no cycle anywhere, not even inside one stage.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "symgrad"
STAGES = {"_version": 0, "model": 1, "printing": 2, "calculus": 3,
          "code": 4, "proof": 4, "claims": 4, "cli": 5}
READERS = {"code", "proof", "claims"}


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


def imports(name: str, path: Path, known) -> set[str]:
    """The symgrad modules that ``name`` imports, resolved as Python resolves them."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            base = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                target = f"{base}.{alias.name}"
                out.add(target if target in known else base)
        elif isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
    return {m for m in out if m in known and m != name}


def stage(name: str) -> str | None:
    """``symgrad.model.graph`` -> "model"; the top-level package and __main__ have none."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in STAGES else None


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


EDGES = graph()


def test_every_module_belongs_to_a_stage():
    loose = [m for m in EDGES if stage(m) is None and m not in ("symgrad", "symgrad.__main__")]
    assert not loose, f"modules outside the pipeline's folders: {loose}"


def test_imports_only_point_down_the_pipeline():
    wrong = []
    for name, targets in EDGES.items():
        here = stage(name)
        if here is None:  # the public API and __main__ sit above everything
            continue
        for target in targets:
            there = stage(target)
            if there is None:
                wrong.append(f"{name} imports {target}, above every stage")
            elif there != here and STAGES[there] >= STAGES[here]:
                kind = "another reader" if {here, there} <= READERS else "a stage above it"
                wrong.append(f"{name} imports {target}: {kind}")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_import_cycle():
    def reach(start):
        seen, todo = set(), [start]
        while todo:
            for target in EDGES[todo.pop()]:
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return seen

    cycles = sorted(m for m in EDGES if m in reach(m))
    assert not cycles, f"modules in import cycles: {cycles}"


@pytest.mark.parametrize("stage_name", sorted(set(STAGES) - {"_version"}))
def test_each_stage_says_what_it_takes_and_gives(stage_name):
    doc = ast.get_docstring(ast.parse((PACKAGE / stage_name / "__init__.py").read_text()))
    assert doc and "Takes" in doc and "give" in doc.lower(), stage_name


def test_the_checker_sees_an_upward_import(tmp_path, monkeypatch):
    """The test above can fail: an import of the CLI from the model is reported."""
    known = modules()
    fake = tmp_path / "graph.py"
    fake.write_text("def f():\n    from ..cli.main import main\n")
    found = imports("symgrad.model.graph", fake, known)
    assert found == {"symgrad.cli.main"}
    assert STAGES[stage("symgrad.cli.main")] > STAGES[stage("symgrad.model.graph")]
