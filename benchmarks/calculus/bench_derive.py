"""Derivation cost: time against graph length, and the whole `symgrad derive` process.

Run: python benchmarks/calculus/bench_derive.py
Prints (1) a chain of N tanh nodes, N = 4, 8, 16, 32: derive time, time per node, and the
ratio to N = 4 (linear growth means time/node stays flat); (2) the deep network unrolled to
2 .. 32 layers, and its layer block derived once; (3) the wall time of the process
`symgrad derive derivations/logistic_regression.toml`, against a bare Python start and
`import sympy` measured in the same run.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import symgrad

ROOT = Path(__file__).resolve().parents[2]


def chain_model(n: int) -> symgrad.Model:
    graph = {"h1": "tanh(p*x)"}
    for i in range(2, n + 1):
        graph[f"h{i}"] = f"tanh(h{i - 1})"
    graph["L"] = f"(h{n} - y)**2 / 2"
    return symgrad.Model.build(f"tanh_chain_{n}", inputs={"x": "scalar", "y": "scalar"},
                               parameters={"p": "scalar"}, graph=graph, cost={"J": "mean(L)"})


def best_of(fn, repeat=3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def process_time(argv, repeat=5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    print("tanh chain: derive time against length")
    print(f"{'nodes':>6} {'seconds':>9} {'ms/node':>8} {'x N=4':>6}")
    first = None
    for n in (4, 8, 16, 32):
        model = chain_model(n)
        seconds = best_of(model.derive)
        first = first or seconds
        print(f"{n:>6} {seconds:>9.3f} {1000 * seconds / n:>8.1f} {seconds / first:>6.2f}")
    print()
    print("deep network (derivations/deep_network.toml): unrolled derive time against depth")
    deep = symgrad.load(ROOT / "derivations/deep_network.toml")
    print(f"{'layers':>6} {'seconds':>9} {'ms/layer':>9} {'x L=2':>6}")
    first = None
    for depth in (2, 4, 8, 16, 32):
        model = deep.unrolled(depth)
        seconds = best_of(model.derive, repeat=1 if depth > 8 else 3)
        first = first or seconds
        print(f"{depth:>6} {seconds:>9.3f} {1000 * seconds / depth:>9.1f} {seconds / first:>6.2f}")
    block = best_of(deep.stack.block().derive)
    print(f"the layer block, derived once for any depth: {block:.3f} s")
    print()
    print("whole process, median of 5 (seconds)")
    bare = process_time([sys.executable, "-c", "pass"])
    sympy_import = process_time([sys.executable, "-c", "import sympy"])
    derive = process_time([sys.executable, "-m", "symgrad", "derive",
                           "derivations/logistic_regression.toml"])
    print(f"  python -c pass         {bare:6.2f}")
    print(f"  python -c import sympy {sympy_import:6.2f}")
    print(f"  symgrad derive logreg  {derive:6.2f}   (target < 1.5 s; "
          f"{derive / sympy_import:.1f}x the sympy import)")


if __name__ == "__main__":
    main()
