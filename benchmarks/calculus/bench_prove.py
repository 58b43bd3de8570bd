"""Proof cost against derivation cost: `symgrad prove` should cost a small multiple of `derive`.

Run: python benchmarks/calculus/bench_prove.py [--wall] [--against DIR] [SPEC.toml ...]

For each shipped spec (or the specs given), in a fresh Python process (so that no cache carries
over from one model to the next, nor from one repetition to the next): the time to derive, to
lay the derivation out as a proof (build), to check every line (check) and to render the LaTeX.
Prints the median of 3 processes and the ratio prove / derive, prove being derive + build +
check + render: what `symgrad prove` costs against `symgrad derive` once SymPy is imported;
"num." counts the lines checked numerically, not symbolically.

Times are CPU seconds of the process (``time.process_time``), steadier than wall time on a
shared machine; ``--wall`` measures wall time instead. ``--against DIR`` measures another
checkout of symgrad too (say the commit before a change: ``git archive``), in the same run,
process by process in turn, and prints its prove time and the ratio of the two.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

ONE = """
import json, sys, time
clock = time.perf_counter if sys.argv[2] == "wall" else time.process_time
from symgrad.calculus.derivation import derive
from symgrad.model.spec import load
from symgrad.proof import document
from symgrad.proof.build import build
from symgrad.proof.line_check import check
model = load(sys.argv[1])
t0 = clock()
derivation = derive(model)
t1 = clock()
proof = build(derivation)
t2 = clock()
counts = check(proof)
t3 = clock()
document.render(proof, "latex")
t4 = clock()
print(json.dumps({"derive": t1 - t0, "build": t2 - t1, "check": t3 - t2, "render": t4 - t3,
                  "lines": counts["symbolic"] + counts["numeric"], "numeric": counts["numeric"]}))
"""


def once(root: Path, spec: Path, clock: str) -> dict:
    """One fresh process in ``root`` (its symgrad imported): the phases' times."""
    out = subprocess.run([sys.executable, "-c", ONE, str(spec.resolve()), clock], check=True,
                         capture_output=True, text=True, cwd=root)
    times = json.loads(out.stdout.strip().splitlines()[-1])
    times["prove"] = times["derive"] + times["build"] + times["check"] + times["render"]
    return times


def median(runs: list[dict]) -> dict:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("specs", nargs="*", type=Path)
    parser.add_argument("--wall", action="store_true", help="wall time, not CPU time")
    parser.add_argument("--against", type=Path, help="another checkout, measured in turn")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    specs = args.specs or sorted((ROOT / "derivations").glob("*.toml"))
    clock = "wall" if args.wall else "cpu"
    print(f"{clock} seconds, median of {args.repeat} fresh processes; "
          "ratio = prove / derive (prove = derive + build + check + render)")
    head = (f"{'spec':<24} {'lines':>5} {'num.':>4} {'derive':>7} {'build':>6} {'check':>6} "
            f"{'render':>6} {'prove':>6} {'ratio':>6}")
    if args.against:
        head += f" | {'before':>6} {'ratio':>6} {'faster':>6}"
    print(head)
    ratios, before_ratios = [], []
    for spec in specs:
        runs, before = [], []
        for _ in range(args.repeat):
            runs.append(once(ROOT, spec, clock))
            if args.against:
                before.append(once(args.against, spec, clock))
        t = median(runs)
        ratios.append(t["prove"] / t["derive"])
        line = (f"{spec.stem:<24} {int(t['lines']):>5} {int(t['numeric']):>4} "
                f"{t['derive']:>7.2f} {t['build']:>6.2f} {t['check']:>6.2f} {t['render']:>6.2f} "
                f"{t['prove']:>6.2f} {ratios[-1]:>6.1f}")
        if args.against:
            b = median(before)
            before_ratios.append(b["prove"] / b["derive"])
            faster = b["prove"] / t["prove"]
            line += f" | {b['prove']:>6.2f} {before_ratios[-1]:>6.1f} {faster:>5.1f}x"
            if (b["lines"], b["numeric"]) != (t["lines"], t["numeric"]):
                line += f" (before: {int(b['lines'])} lines, {int(b['numeric'])} numeric)"
        print(line, flush=True)
    print(f"prove / derive: median {statistics.median(ratios):.1f}, largest {max(ratios):.1f}")
    if args.against:
        print(f"before ({args.against}): median {statistics.median(before_ratios):.1f}, "
              f"largest {max(before_ratios):.1f}")


if __name__ == "__main__":
    main()
