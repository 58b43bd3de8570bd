"""Every file symgrad writes stays in its folder, is written whole or not at all, never over the
command's own input, with the user's umask, and an interrupt leaves no temporary file behind.

The writes all go through :class:`symgrad.printing.files.Outputs`; these tests go through the
commands (codegen -o, prove -o and --pdf, graph -o, verify's temporary module).
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from symgrad.cli.main import main
from symgrad.model.errors import SpecError
from symgrad.printing.files import Outputs, in_folder

ROOT = Path(__file__).resolve().parents[2]
LOGREG = ROOT / "derivations" / "logistic_regression.toml"
SMALL = ROOT / "derivations" / "computation_graph.toml"
HAS_DOT = shutil.which("dot") is not None
HAS_TEX = any(shutil.which(e) for e in ("pdflatex", "latexmk"))


def one_line(err: str) -> bool:
    return err.startswith("symgrad: error: ") and err.count("\n") == 1 and "Traceback" not in err


def listing(folder: Path) -> list[str]:
    """Every file and folder under ``folder``, hidden ones (temporary files) included."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """tempfile's folder, private to the test: what is left in it was left by symgrad."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def traversing_spec(folder: Path, source: Path = LOGREG) -> Path:
    """A copy of ``source`` named "../../x", two folders down in ``folder``."""
    deep = folder / "a" / "b"
    deep.mkdir(parents=True)
    text = source.read_text(encoding="utf-8")
    name = next(line for line in text.splitlines() if line.startswith("name ="))
    spec = deep / "s.toml"
    spec.write_text(text.replace(name, 'name = "../../x"'), encoding="utf-8")
    return spec


# ----- a file name made from spec text stays in its folder -----


@pytest.mark.parametrize("name", ["../../x", "../x.tex", "a/b.tex", "/etc/passwd", "..", ".",
                                  "", "x\0.tex", "x\\..\\y"])
def test_in_folder_refuses_anything_but_a_plain_file_name(name, tmp_path):
    if name == "x\\..\\y" and os.altsep is None and os.sep == "/":
        assert in_folder(tmp_path, name).parent == tmp_path  # a plain (odd) name on POSIX
        return
    with pytest.raises(SpecError, match="is not a plain file name"):
        in_folder(tmp_path, name)


@pytest.mark.parametrize("name", ["x.tex", "..x.tex", "x y.md", ".hidden", "x..y"])
def test_in_folder_keeps_plain_names_in_the_folder(name, tmp_path):
    path = in_folder(tmp_path, name)
    assert path.parent == tmp_path and path.name == name


def test_prove_refuses_a_model_name_that_leaves_the_folder(tmp_path, monkeypatch, capsys):
    spec = traversing_spec(tmp_path, SMALL)
    monkeypatch.chdir(spec.parent)
    for fmt in ("latex", "markdown"):
        assert main(["prove", str(spec), "--format", fmt]) == 2
        assert one_line(capsys.readouterr().err)
    assert listing(tmp_path) == ["a", "a/b", "a/b/s.toml"]


def test_verify_writes_its_module_under_a_fixed_name(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from symgrad.code import selfcheck, verify

    monkeypatch.setattr("symgrad.code.render.render", lambda derivation: "X = 1\n")
    folder = tmp_path / "a" / "b"
    folder.mkdir(parents=True)
    module = verify.generate(SimpleNamespace(model=SimpleNamespace(name="../../x")), folder)
    assert module.X == 1
    assert listing(tmp_path) == ["a", "a/b", f"a/b/{selfcheck.MODULE_FILE}"]


@pytest.mark.slow
def test_verify_writes_nothing_outside_its_temporary_folder(tmp_path, private_tmp, capsys):
    spec = traversing_spec(tmp_path)
    # 0: verified, the module written inside its folder; 2: the name itself refused
    assert main(["verify", str(spec), "--trials", "1"]) in (0, 2)
    assert listing(tmp_path) == ["a", "a/b", "a/b/s.toml", "tmp"]


# ----- where a command may write -----

COMMANDS = {  # command -> (arguments before -o, the suffix of its output)
    "codegen": (["codegen", str(LOGREG)], ".py"),
    "prove": (["prove", str(LOGREG)], ".tex"),
    "prove --pdf": (["prove", str(LOGREG), "--pdf"], ".tex"),
    "prove markdown": (["prove", str(LOGREG)], ".md"),
    "graph": (["graph", str(LOGREG)], ".svg"),
}


@pytest.fixture
def any_engine(monkeypatch):
    """--pdf checks for a LaTeX engine first; these tests never reach it."""
    monkeypatch.setattr("symgrad.proof.document.engine", lambda: ["false"])


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("where", ["folder", "missing folder", "under a file", "empty"])
def test_a_bad_output_path_is_one_line(command, where, tmp_path, capsys, monkeypatch,
                                       any_engine):
    monkeypatch.chdir(tmp_path)  # where prove would write by default
    argv, suffix = COMMANDS[command]
    (tmp_path / "file.txt").write_text("mine\n")
    (tmp_path / f"dir{suffix}").mkdir()
    output = {"folder": tmp_path / f"dir{suffix}", "missing folder": tmp_path / "no" / f"o{suffix}",
              "under a file": tmp_path / "file.txt" / f"o{suffix}", "empty": ""}[where]
    assert main([*argv, "-o", str(output)]) == 2
    err = capsys.readouterr().err
    expected = {"folder": "is a folder", "missing folder": "no such folder",
                "under a file": "is not a folder", "empty": "is a folder"}[where]
    if command == "graph" and where == "empty":
        expected = "cannot tell the format"
    assert one_line(err) and expected in err, err
    assert listing(tmp_path) == [f"dir{suffix}", "file.txt"]
    assert (tmp_path / "file.txt").read_text() == "mine\n"


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unwritable_folder_or_file_is_one_line(command, tmp_path, capsys, monkeypatch,
                                                  any_engine):
    argv, suffix = COMMANDS[command]
    locked = tmp_path / "locked"
    locked.mkdir()
    kept = tmp_path / f"kept{suffix}"
    kept.write_text("mine\n")
    if getattr(os, "geteuid", lambda: 1)() == 0:  # root writes anywhere, whatever the modes
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda path, how: (
            not (how & os.W_OK and Path(path) in (locked, kept)) and real_access(path, how)))
    kept.chmod(0o444)
    locked.chmod(0o555)
    try:
        for output, expected in ((locked / f"o{suffix}", "no permission"), (kept, "read-only")):
            assert main([*argv, "-o", str(output)]) == 2
            err = capsys.readouterr().err
            assert one_line(err) and expected in err, err
    finally:
        locked.chmod(0o755)
    assert listing(tmp_path) == ["kept" + suffix, "locked"]
    assert kept.read_text() == "mine\n"


@pytest.mark.parametrize("spelling", ["same", "another spelling", "symlink", "hard link"])
def test_no_command_writes_over_its_input(spelling, tmp_path, capsys, monkeypatch, any_engine):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    text = LOGREG.read_text(encoding="utf-8")

    def spec_and_target(suffix):
        spec = tmp_path / f"spec{suffix}"
        spec.write_text(text, encoding="utf-8")
        other = tmp_path / f"other{suffix}"
        if spelling == "symlink":
            other.symlink_to(spec)
        elif spelling == "hard link":
            os.link(spec, other)
        return str(spec), {"same": f"spec{suffix}", "another spelling": f"sub/../spec{suffix}",
                           "symlink": f"other{suffix}", "hard link": f"other{suffix}"}[spelling]

    runs = [["codegen", *spec_and_target(".py")], ["prove", *spec_and_target(".tex")],
            ["prove", *spec_and_target(".md")], ["graph", *spec_and_target(".svg")]]
    spec, target = spec_and_target(".pdf")  # --pdf writes beside the .tex: over the spec
    runs.append(["prove", spec, target.removesuffix(".pdf") + ".tex", "--pdf"])
    before = listing(tmp_path)
    for command, spec, target, *more in runs:
        assert main([command, spec, "-o", target, *more]) == 2
        err = capsys.readouterr().err
        assert one_line(err) and "would write over the input file" in err, err
    assert listing(tmp_path) == before
    assert all(p.read_text(encoding="utf-8") == text for p in tmp_path.glob("spec.*"))


def test_prove_pdf_refuses_two_outputs_that_are_one_file(tmp_path, capsys, any_engine):
    assert main(["prove", str(LOGREG), "-o", str(tmp_path / "p.pdf"), "--pdf"]) == 2
    err = capsys.readouterr().err
    assert one_line(err) and "the same file" in err, err
    assert listing(tmp_path) == []
    out = Outputs()
    out.add(tmp_path / "a.txt")
    with pytest.raises(SpecError, match="the same file"):
        out.add(tmp_path / "a.txt")


# ----- all the files or none -----


def old_files(folder: Path, *names) -> dict[str, str]:
    files = {name: f"old {name}\n" for name in names}
    for name, text in files.items():
        (folder / name).write_text(text)
    return files


def unchanged(folder: Path, files: dict[str, str]) -> bool:
    return (listing(folder) == sorted(files)
            and all((folder / n).read_text() == t for n, t in files.items()))


def no_markdown(doc, fmt="latex"):
    raise SpecError("the Markdown cannot be written")


def no_svg(doc):
    raise SpecError("the SVG failed: no")


@pytest.mark.parametrize("failing", [
    "symgrad.proof.document.render_context",  # after the SVG is made
    "symgrad.proof.document.graph_svg"])
def test_markdown_and_its_svg_are_written_together(failing, tmp_path, capsys, monkeypatch,
                                                   private_tmp):
    folder = tmp_path / "out"
    folder.mkdir()
    files = old_files(folder, "p.md", "p-graph.svg")
    markdown = failing.endswith("document.render_context")
    monkeypatch.setattr(failing, no_markdown if markdown else no_svg)
    assert main(["prove", str(SMALL), "-o", str(folder / "p.md")]) == 2
    err = capsys.readouterr().err
    assert one_line(err) and ("cannot be written" if markdown else "the SVG failed") in err, err
    assert unchanged(folder, files)
    assert listing(private_tmp) == []


@pytest.mark.parametrize("engine", ["false", "latex error", "timeout", "missing"])
def test_a_failed_pdf_leaves_the_old_tex_and_pdf(engine, tmp_path, capsys, monkeypatch,
                                                 private_tmp):
    from symgrad.proof import document

    folder = tmp_path / "out"
    folder.mkdir()
    files = old_files(folder, "p.tex", "p.pdf")
    if engine == "latex error":
        if not HAS_TEX:
            pytest.skip("no LaTeX engine")
        monkeypatch.setattr(document, "render", lambda proof, fmt="latex", graph_file="", **_: (
            "\\documentclass{article}\\begin{document}\\undefinedmacro\\end{document}\n"))
    elif engine == "timeout":
        monkeypatch.setattr(document, "engine", lambda: [sys.executable, "-c", "1"])
        monkeypatch.setattr(document.subprocess, "run", timeout_run)
    else:
        command = ["false"] if engine == "false" else [str(tmp_path / "no-such-engine")]
        monkeypatch.setattr(document, "engine", lambda: command)
    assert main(["prove", str(SMALL), "-o", str(folder / "p.tex"), "--pdf"]) == 2
    err = capsys.readouterr().err
    expected = {"false": "failed on", "latex error": "Undefined control sequence",
                "timeout": "took longer than", "missing": "cannot run"}[engine]
    assert one_line(err) and expected in err, err
    assert unchanged(folder, files)
    assert listing(private_tmp) == []


def timeout_run(command, **options):
    raise subprocess.TimeoutExpired(command, options.get("timeout"))


def test_dot_taking_too_long_is_one_line(tmp_path, capsys, monkeypatch):
    from symgrad.proof import drawing

    monkeypatch.setattr(drawing.shutil, "which", lambda name: "/usr/bin/dot")
    monkeypatch.setattr(drawing.subprocess, "run", timeout_run)
    files = old_files(tmp_path, "g.svg")
    assert main(["graph", str(SMALL), "-o", str(tmp_path / "g.svg")]) == 2
    err = capsys.readouterr().err
    assert one_line(err) and "dot took longer than" in err
    assert unchanged(tmp_path, files)


def test_outputs_write_all_or_none(tmp_path):
    files = old_files(tmp_path, "a.txt", "b.txt")
    with pytest.raises(KeyboardInterrupt), Outputs() as out:
        out.write(tmp_path / "a.txt", "new a")
        out.write(tmp_path / "b.txt", b"new b")
        raise KeyboardInterrupt
    assert unchanged(tmp_path, files)
    with Outputs() as out:
        out.write(tmp_path / "a.txt", "new a")
        out.write(tmp_path / "b.txt", b"new b")
        assert len(listing(tmp_path)) == 4  # two temporary files beside the old ones
    assert [(tmp_path / n).read_text() for n in ("a.txt", "b.txt")] == ["new a", "new b"]
    assert listing(tmp_path) == ["a.txt", "b.txt"]


# ----- modes and notices -----


@pytest.fixture
def umask():
    old = os.umask(0o027)
    yield 0o027
    os.umask(old)


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o7777


def test_new_files_get_the_umask_and_replaced_files_keep_their_mode(tmp_path, umask, capsys):
    new = tmp_path / "new.dot"
    assert main(["graph", str(SMALL), "-o", str(new)]) == 0
    assert mode(new) == 0o666 & ~umask
    kept = tmp_path / "kept.dot"
    kept.write_text("old\n")
    kept.chmod(0o604)
    assert main(["graph", str(SMALL), "-o", str(kept)]) == 0
    assert mode(kept) == 0o604 and kept.read_text().startswith("digraph")


def test_replacing_a_file_is_said_on_stderr(tmp_path, capsys):
    out = tmp_path / "g.dot"
    assert main(["graph", str(SMALL), "-o", str(out)]) == 0
    assert "replacing" not in capsys.readouterr().err
    assert main(["graph", str(SMALL), "-o", str(out)]) == 0
    assert capsys.readouterr().err == f"symgrad: replacing existing file {out}\n"


def test_a_symlinked_output_replaces_the_file_it_points_to(tmp_path, capsys):
    real = tmp_path / "real.dot"
    real.write_text("old\n")
    link = tmp_path / "link.dot"
    link.symlink_to(real)
    assert main(["graph", str(SMALL), "-o", str(link)]) == 0
    assert link.is_symlink() and real.read_text().startswith("digraph")


# ----- interrupts -----

SLOW_PDF = """
import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # even where SIGINT was ignored
from symgrad.proof import document
document.engine = lambda: [sys.executable, "-c", "import time; time.sleep(60)"]
from symgrad.cli.main import main
sys.exit(main(["prove", sys.argv[1], "-o", sys.argv[2], "--pdf"]))
"""


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupt_leaves_no_temporary_folder(signum, code, tmp_path):
    private = tmp_path / "tmp"
    private.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "TMPDIR": str(private), "PYTHONPATH": str(ROOT)}
    with subprocess.Popen([sys.executable, "-c", SLOW_PDF, str(SMALL), str(out / "p.tex")],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        deadline = time.monotonic() + 120
        while not list(private.glob("symgrad-*")):  # the LaTeX engine is at work
            assert proc.poll() is None and time.monotonic() < deadline, "no engine started"
            time.sleep(0.01)
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr.decode()
    assert stderr.decode().count("\n") == 1 and "Traceback" not in stderr.decode()
    assert listing(private) == [] and listing(out) == []
