"""Issue 14's measure over every wrong claim in the claims tests (course lines in NumPy, math
notation, planted and real slips, conventions, functions): none is proven, at least 90% get a
diagnosis, and each answers well within the 10 s limit. The tests beside this one check which
slip each diagnosis names; this one counts, over all of them at once."""

import importlib
import time
from functools import cache
from pathlib import Path

import symgrad
from symgrad.claims.checker import REFUTED, Checker

ROOT = Path(__file__).resolve().parents[2]
MODULES = ("test_check", "test_numpy_notation", "test_math_notation", "test_diagnoses",
           "test_conventions", "test_functions")


@cache
def checker(spec) -> Checker:
    path = ROOT / "derivations" / f"{spec}.toml"
    if not path.exists():
        path = ROOT / "tests" / "catalogue" / f"{spec}.toml"
    return Checker(symgrad.load(path), convention="course")


def wrong_claims():
    for name in MODULES:
        module = importlib.import_module(f"tests.claims.{name}")
        for spec, claim, *_ in getattr(module, "WRONG_CLAIMS", None) or module.WRONG:
            yield spec, claim


def test_wrong_claims_are_refuted_and_nine_in_ten_diagnosed():
    claims = list(wrong_claims())
    assert len(claims) >= 200
    undiagnosed, not_refuted, slowest = [], [], 0.0
    for spec, claim in claims:
        start = time.perf_counter()
        verdict = checker(spec).check(claim)
        slowest = max(slowest, time.perf_counter() - start)
        if verdict.status != REFUTED:
            not_refuted.append((spec, claim, verdict.status))
        elif not verdict.diagnosis:
            undiagnosed.append((spec, claim))
    assert not not_refuted
    assert 1 - len(undiagnosed) / len(claims) >= 0.9, undiagnosed
    assert slowest < 10
