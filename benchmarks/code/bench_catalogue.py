"""Derive and codegen time of every catalogue model, against the 5 s target.

Run: python benchmarks/code/bench_catalogue.py [--repeat 3] [SPEC ...]

For every spec in derivations/*.toml and tests/catalogue/*.toml (or the SPECs given), in one
process: the time of ``symgrad.derive(symgrad.load(path))`` and of ``symgrad.codegen`` of that
derivation, each the best of --repeat runs. Every run starts cold: SymPy's cache and symgrad's
own per-process caches (the stable-form rules' one-time SymPy check, about 0.9 s; the Jinja
environment and its compiled templates) are cleared first, so each run does the work a fresh
``symgrad`` command does (the import and Python's start-up aside).
A model that derive or codegen refuses (a model with no examples has no training code) is
listed with its one-line error. The last column is total / 5 s: below 1 meets the target.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import sympy  # noqa: E402
from sympy.core.cache import clear_cache  # noqa: E402

import symgrad  # noqa: E402
from symgrad.calculus import stable_forms  # noqa: E402
from symgrad.model import naming  # noqa: E402
from symgrad.model.errors import SpecError  # noqa: E402
from symgrad.printing import templates  # noqa: E402

TARGET = 5.0  # seconds, derive + codegen of one model


def specs() -> list[Path]:
    return sorted(ROOT.glob("derivations/*.toml")) + sorted(ROOT.glob("tests/catalogue/*.toml"))


def cold() -> None:
    """Forget what an earlier run left cached in this process."""
    clear_cache()
    for cached in (stable_forms.check_rule, templates.environment, naming._sympy_names):
        cached.cache_clear()


def best_of(fn, repeat):
    """(the fastest time, the last result) of ``repeat`` runs, each from cold caches."""
    best, result = float("inf"), None
    for _ in range(repeat):
        cold()
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def measure(path: Path, repeat: int):
    """(derive s, codegen s or None, error or None) for one spec."""
    derive_s = codegen_s = None
    try:
        derive_s, derivation = best_of(lambda: symgrad.derive(symgrad.load(path)), repeat)
        codegen_s, _ = best_of(lambda: symgrad.codegen(derivation), repeat)
        return derive_s, codegen_s, None
    except SpecError as err:
        return derive_s, codegen_s, str(err).splitlines()[0]
    except Exception as err:  # noqa: BLE001 -- a benchmark lists every model, whatever happens
        return derive_s, codegen_s, f"internal error: {type(err).__name__}: {err}".splitlines()[0]


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _seconds(t) -> str:
    return f"{t:9.3f}" if t is not None else f"{'-':>9}"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3, help="best of N runs (default: 3)")
    p.add_argument("spec", nargs="*", type=Path,
                   help="spec files (default: derivations/*.toml and tests/catalogue/*.toml)")
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    paths = args.spec or specs()
    print(f"derive + codegen of {len(paths)} model(s), best of {args.repeat}, caches cleared "
          f"before each run; target {TARGET:g} s a model")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, SymPy {sympy.__version__}\n")
    width = max([len("model")] + [len(p.stem) for p in paths])
    print(f"{'model':<{width}} {'derive s':>9} {'codegen s':>9} {'total s':>9} {'/ 5 s':>6}")
    under = measured = 0
    for path in paths:
        derive_s, codegen_s, error = measure(path, args.repeat)
        total = derive_s + codegen_s if error is None else None
        ratio = f"{total / TARGET:6.2f}" if total is not None else f"{'-':>6}"
        line = (f"{path.stem:<{width}} {_seconds(derive_s)} {_seconds(codegen_s)} "
                f"{_seconds(total)} {ratio}")
        if error is not None:
            line += "  " + error.replace(str(path), _shown(path))
        print(line, flush=True)
        if total is not None:
            measured += 1
            under += total < TARGET
    refused = len(paths) - measured
    print(f"\n{under} of {measured} model(s) under the {TARGET:g} s target"
          + (f"; {refused} refused by derive or codegen" if refused else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
