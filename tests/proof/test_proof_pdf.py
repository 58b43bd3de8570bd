"""Every shipped spec's proof compiles to PDF with no LaTeX errors and no overfull boxes.

Needs pdflatex (or latexmk): Debian's texlive-latex-base, texlive-latex-recommended and
texlive-pictures, which CI installs.
"""

import shutil
from pathlib import Path

import pytest

import symgrad
from symgrad.cli.main import main
from symgrad.proof import document

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "derivations").glob("*.toml"))

pytestmark = [
    pytest.mark.slow,  # pdflatex runs
    pytest.mark.skipif(not any(shutil.which(e) for e in document.ENGINES),
                       reason="no LaTeX engine (pdflatex or latexmk); install "
                              f"{document.TEX_PACKAGES}"),
]


# every shipped spec's PDF is compiled once, in tests/proof/test_layout.py (no LaTeX error, no
# overfull box, no split block)


def test_prove_pdf_command(tmp_path, capsys):
    out = tmp_path / "proof.tex"
    spec = str(ROOT / "derivations/computation_graph.toml")
    assert main(["prove", spec, "-o", str(out), "--pdf"]) == 0
    assert capsys.readouterr().out.splitlines() == [str(out), str(tmp_path / "proof.pdf")]
    assert (tmp_path / "proof.pdf").read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proof.pdf", "proof.tex"]


def test_a_latex_error_is_one_line(tmp_path):
    tex = tmp_path / "bad.tex"
    tex.write_text("\\documentclass{article}\\begin{document}\\undefinedmacro\\end{document}\n")
    with pytest.raises(symgrad.SpecError, match="Undefined control sequence"):
        document.compile_pdf(tex)


def test_the_markdown_math_is_valid_latex(tmp_path):
    # a proxy for MathJax: every $$ block and every $...$ of the golden Markdown, typeset
    import re

    text = (ROOT / "tests/golden/logistic_regression/proof.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^\$\$\n(.*?)\n\$\$$", text, flags=re.S | re.M)
    inline = re.findall(r"(?<!\$)\$([^$\n]+)\$(?!\$)", re.sub(r"^\$\$\n.*?\n\$\$$", "", text,
                                                               flags=re.S | re.M))
    assert len(blocks) > 10 and len(inline) > 10
    body = "\n".join([f"\\[{b}\\]" for b in blocks] + [f"${m}$\\par" for m in inline])
    tex = tmp_path / "math.tex"
    tex.write_text("\\documentclass{article}\\usepackage{amsmath,amssymb}\\begin{document}\n"
                   f"{body}\n\\end{{document}}\n", encoding="utf-8")
    _, log = document.compile_pdf(tex)
    assert [line for line in document.problems(log) if line.startswith("!")] == []
