"""The proof of a model with batch statistics: it says why no per-example form exists and
derives what the statistics read over the m examples, every line checked."""

from __future__ import annotations

import time

import pytest

import symgrad
from symgrad.proof import document
from symgrad.proof.steps import build_plain


def test_sections_say_why(bn_layer):
    proof = build_plain(bn_layer().derive())
    text = document.render(proof, "markdown")
    assert "No per-example form exists for $W$ and $z$" in text
    assert "they couple the examples" in text
    assert "The batch statistics are means over the $m$ examples" in text
    assert "Derivatives for one example, given the batch statistics" in text
    assert "reaches the cost through the batch statistics" in text
    # mu's definition over the examples, and dZ derived over the batch
    assert r"\mu &= \frac{1}{m} \sum_{i=1}^{m} z^{(i)}" in text
    assert r"\mathrm{d}Z &=" in text


@pytest.mark.slow
def test_every_line_checks(bn_layer):
    start = time.perf_counter()
    proof = symgrad.prove(bn_layer().derive())  # raises ProofError on a line that does not hold
    assert proof.title and time.perf_counter() - start < 120
