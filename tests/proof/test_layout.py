"""The page layout of the proofs, the summary box and the compact style.

Every shipped spec and every catalogue model is typeset once, here only (the one PDF compile of
each model in the test suite: no LaTeX error, no overfull box, no split block, no lone figure,
no page a third blank) (in chunks, so that pytest-xdist
spreads them over its workers; pdflatex runs beside the next model's build), and each PDF is
read back: its log for overfull boxes, and for the markers the template writes as each page is
shipped out (an equation block's first and last line, a figure's heading and picture: each pair
on one page); its words' positions (``pdftotext -bbox``) for a page left a third blank.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import symgrad
from symgrad.cli.main import main
from symgrad.proof import document
from symgrad.proof.build import build, prove
from symgrad.proof.summary import Summary

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "derivations").glob("*.toml")) + sorted(
    (ROOT / "tests/catalogue").glob("*.toml"))
CHUNKS = 6
PICTURE = ROOT / "docs/logistic_regression-page1.png"  # shown by README.md
PICTURE_DPI = 100

has_tex = any(shutil.which(e) for e in document.ENGINES)
needs_tex = pytest.mark.skipif(not has_tex, reason="no LaTeX engine (pdflatex or latexmk); "
                               f"install {document.TEX_PACKAGES}")
needs_pdfinfo = pytest.mark.skipif(not shutil.which("pdfinfo"),
                                   reason="no pdfinfo (poppler-utils)")

MARKER = re.compile(r"^symgrad-layout (block|figure) (\d+) (first|last|heading|picture) (\d+)$",
                    re.M)


# ----- reading a compiled proof -----


def split_blocks(log: str) -> list[str]:
    """The equation blocks whose first and last line are on different pages, and the figures
    not on their heading's page or at the top of the next (where a picture too tall for the
    rest of the page floats, rather than leave it blank)."""
    pages: dict = {}
    for kind, n, where, page in MARKER.findall(log):
        pages.setdefault((kind, int(n)), {})[where] = int(page)
    out = []
    for (kind, n), at in sorted(pages.items()):
        if len(at) != 2:
            out.append(f"{kind} {n}: {at}")
        elif kind == "block" and at["first"] != at["last"]:
            out.append(f"{kind} {n}: {at}")
        elif kind == "figure" and at["picture"] - at["heading"] not in (0, 1):
            out.append(f"{kind} {n}: {at}")
    return out


def blank_pages(pdf: Path, log: str = "") -> list[str]:
    """The pages (all but the last) whose text ends more than a third of the text height
    above the bottom of the text area; the page number below it is not counted, nor the page
    before the summary, which has a page of its own to be handed out."""
    summary = [int(p) for p in re.findall(r"^symgrad-layout summary (\d+)$", log, re.M)]
    xml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True,
                         text=True, check=True).stdout
    pages = re.findall(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', xml, re.S)
    margin = 2.2 / 2.54 * 72  # the template's geometry
    out = []
    for number, (_, height, body) in enumerate(pages[:-1], 1):
        if number + 1 in summary:
            continue
        bottom = float(height) - margin
        lows = [float(y) for y in re.findall(r'yMax="([\d.]+)"', body)
                if float(y) <= bottom + 2]
        text_height = float(height) - 2 * margin
        if not lows or bottom - max(lows) > text_height / 3:
            out.append(f"page {number}: text ends {bottom - max(lows or [margin]):.0f}pt "
                       "above the bottom")
    return out


def faults(tex: str, workdir: Path) -> list[str]:
    path = workdir / "proof.tex"
    path.write_text(tex, encoding="utf-8")
    pdf, log = document.compile_pdf(path)
    found = [ln for ln in log.splitlines()
             if ln.startswith(("!", "Overfull \\hbox", "Overfull \\vbox"))]
    found += split_blocks(log)
    if "symgrad-layout block" not in log:
        found.append("no block markers in the log")
    if shutil.which("pdftotext"):
        found += blank_pages(pdf, log)
    return found


def compiled_chunk(chunk: int, root: str) -> tuple[dict, float]:
    """Every spec of ``chunk``: its faults; and the seconds the chunk took."""
    start = time.monotonic()
    specs = SPECS[chunk::CHUNKS]
    out: dict = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = {}
        for spec in specs:
            tex = document.render(build(symgrad.load(spec).derive()))
            work = Path(root) / spec.stem
            work.mkdir()
            jobs[spec.stem] = pool.submit(faults, tex, work)
        for name, job in jobs.items():
            out[name] = job.result()
    return out, time.monotonic() - start


# ----- the tests -----


@pytest.mark.slow
@needs_tex
@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_every_proof_compiles_with_no_overfull_box_split_block_or_blank_page(
        chunk, tmp_path_factory):
    found, seconds = compiled_chunk(chunk, str(tmp_path_factory.mktemp(f"layout{chunk}")))
    assert len(found) == len(SPECS[chunk::CHUNKS]) > 0
    print(f"layout chunk {chunk}: {len(found)} PDFs in {seconds:.0f} s")
    assert {name: f for name, f in found.items() if f} == {}


def test_a_split_block_and_a_lone_figure_are_found():
    log = ("symgrad-layout block 1 first 1\nsymgrad-layout block 1 last 1\n"
           "symgrad-layout block 2 first 1\nsymgrad-layout block 2 last 2\n"
           "symgrad-layout figure 1 heading 2\nsymgrad-layout figure 1 picture 3\n"
           "symgrad-layout figure 2 heading 2\nsymgrad-layout figure 2 picture 4\n")
    assert split_blocks(log) == ["block 2: {'first': 1, 'last': 2}",
                                 "figure 2: {'heading': 2, 'picture': 4}"]


def test_every_block_is_unbreakable_and_marked():
    tex = document.render(build(symgrad.load(ROOT / "derivations/shallow_network.toml")
                                .derive()))
    assert "\\allowdisplaybreaks" not in tex  # amsmath then never breaks an align*
    blocks = tex.count("\\begin{align*}")
    assert blocks > 10
    assert len(re.findall(r"symgrad-layout block \d+ first", tex)) == blocks
    assert len(re.findall(r"symgrad-layout block \d+ last", tex)) == blocks
    assert tex.count("\\begin{figure}[!htb]") == 1  # here, or atop the next page: never alone


def _summary(proof):
    return [b for s in proof.sections if s.title[0] == "Summary over "
            for b in s.blocks if isinstance(b, Summary)]


def test_logistic_regression_has_the_vectorised_forward_pass_and_the_summary():
    proof = prove(symgrad.load(ROOT / "derivations/logistic_regression.toml").derive())
    titles = [s.title[0] for s in proof.sections]
    assert titles.index("The forward pass over ") < titles.index("Over ")
    assert titles[-1] == "Summary over "
    tex = document.render(proof)
    forward = tex[tex.index("The forward pass over"):tex.index("section{Over")]
    assert "Z &= w^{\\top} \\, X + b" in forward
    assert "$b$ added to each of the $m$ columns" in forward
    assert "A &= \\sigma\\left(Z\\right)" in forward
    blocks = _summary(proof)
    assert [b.title for b in blocks] == [("Forward pass",), ("Backward pass",)]
    forward, backward = blocks
    assert forward.code == ["Z = b + ((w).T @ X)", "A = sigmoid(Z)"]
    assert backward.code == ["dZ = A - Y", "dw = ((X @ (dZ).T))/m", "db = np.sum(dZ)/m"]
    assert [tuple(map(str, s)) for s in backward.shapes] == [("1", "m"), ("n_x", "1"),
                                                           ("1", "1")]
    assert all(line.checked == "symbolic" for b in blocks for line in b.lines)
    box = tex[tex.index("\\begin{tcolorbox}"):tex.index("\\end{tcolorbox}")]
    assert "Summary over $m$ examples" in box
    assert "db = np.sum(\\allowbreak{}dZ)/\\allowbreak{}m & $(1, 1)$" in box


def test_the_shallow_network_summary_goes_backward_layer_by_layer():
    proof = prove(symgrad.load(ROOT / "derivations/shallow_network.toml").derive())
    backward = _summary(proof)[1]
    assert [str(line.lhs) for line in backward.lines] == ["dZ2", "dW2", "db2", "dZ1", "dW1",
                                                          "db1"]
    assert "db1 = np.sum(dZ1, axis=1, keepdims=True)/m" in backward.code
    assert backward.code[3] == "dZ1 = (1 - A1**2)*(((W2).T @ dZ2))"
    assert tuple(map(str, backward.shapes[5])) == ("n_h", "1")
    assert all(line.checked for line in backward.lines)


def test_the_deep_network_summary_has_layer_l_and_layer_L():
    proof = prove(symgrad.load(ROOT / "derivations/deep_network.toml").derive())
    blocks = _summary(proof)
    assert [str(b.title[0]) + str(b.title[2]) for b in blocks] == [
        "Forward pass" + "hidden layer ", "Forward pass" + "output layer and cost",
        "Backward pass" + "output layer and cost", "Backward pass" + "hidden layer "]
    hidden = blocks[3]
    assert [str(line.lhs) for line in hidden.lines] == ["dZ[l]", "dW[l]", "db[l]", "dA[l-1]"]
    assert hidden.code[2] == "db = np.sum(dZ, axis=1, keepdims=True)/m"
    assert blocks[2].code[:2] == ["dZ = A - Y", "dW = ((dZ @ (A_prev).T))/m"]  # layer L
    assert all(line.checked for b in blocks for line in b.lines)


@pytest.mark.slow
@needs_tex
@needs_pdfinfo
@pytest.mark.parametrize("spec", ["logistic_regression", "shallow_network", "deep_network",
                                  "softmax_regression"])
def test_the_compact_style_is_one_or_two_pages(spec, tmp_path, capsys):
    out = tmp_path / "proof.tex"
    assert main(["prove", str(ROOT / f"derivations/{spec}.toml"), "--style", "compact",
                 "-o", str(out), "--pdf"]) == 0
    tex = out.read_text(encoding="utf-8")
    assert "\\section{Key steps}" in tex and "\\begin{tcolorbox}" in tex
    assert "Derivatives for one example" not in tex
    info = subprocess.run(["pdfinfo", str(tmp_path / "proof.pdf")], capture_output=True,
                          text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert 1 <= pages <= 2
    assert "Overfull" not in capsys.readouterr().err


def test_an_unknown_style_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["prove", str(ROOT / "derivations/logistic_regression.toml"), "--style", "long",
              "-o", "-"])
    assert "invalid choice: 'long'" in capsys.readouterr().err


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_the_readme_shows_the_first_page_of_the_logistic_regression_handout():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"]({PICTURE.relative_to(ROOT).as_posix()})" in readme
    width, height = _png_size(PICTURE)
    # the template's page, letter: 8.5 x 11 in at PICTURE_DPI
    assert (width, height) == (round(8.5 * PICTURE_DPI), round(11 * PICTURE_DPI))


@pytest.mark.slow
@needs_tex
@needs_pdfinfo
def test_the_readme_picture_has_the_handouts_page_size(tmp_path):
    tex = tmp_path / "proof.tex"
    tex.write_text(document.render(build(symgrad.load(
        ROOT / "derivations/logistic_regression.toml").derive())), encoding="utf-8")
    pdf, _ = document.compile_pdf(tex)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    w, h = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups())
    assert _png_size(PICTURE) == (round(w / 72 * PICTURE_DPI), round(h / 72 * PICTURE_DPI))
