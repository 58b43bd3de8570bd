"""The generated module's faster techniques against course-style hand-written NumPy.

Run: python benchmarks/code/bench_fast.py [--repeat 3] [--threads 1] [--quick]

Each case trains from the same start for the same number of full-batch gradient steps, on
random data (float64, pixel-like values in [0, 1)), and the contenders take turns; the best
of --repeat runs is kept. Contenders:

* generated       -- train() of the module that `symgrad codegen` writes, technique="auto"
  (it chooses; the case says what it chose and why, from train()'s history);
* generated plain -- the same train(), technique="plain" (the course's loop over X);
* hand-written    -- reference_logreg.optimize / reference_networks.deep_step, the way the
  deep-learning course writes them.

Printed: seconds, the ratio generated / hand-written, and the largest difference of the
trained parameters, relative (max |a - b| over max |b|, the worst parameter), generated
against hand-written. Then the peak memory (tracemalloc) of one training run, generated
against generated plain, beside G's own size (m^2 entries): the data are allocated before
tracing starts.

The cases: logistic regression at the course's cat-image shape (n_x = 12288, m = 209, zero
start, learning rate 0.005, 1,000 steps; target <= 0.1x) and the course's four-layer network
(layer_dims = [12288, 20, 7, 5, 1], m = 209, xavier start, seed 1, learning rate 0.0075, 1,000
steps; target <= 0.2x), and logistic regression at n_x = 1000, m = 100,000 (--large-steps
steps; the targets, <= 0.9x in float64 and <= 0.5x in float32, were for a blocked pass that
is not built: this measures train()'s plain loop, float32 data training in float32, against
the hand-written code on float64 data, and on float32 data, which its float64 w upcasts).
BLAS runs with --threads threads (threadpoolctl), one by default:
the issue's numbers are one-thread numbers.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks" / "code"))

N_X, M = 12288, 209


def generated_module(spec):
    from symgrad.code.render import render_spec
    from symgrad.code.verify import load_module

    folder = Path(tempfile.mkdtemp(prefix="symgrad-bench-"))
    path = folder / f"{spec}.py"
    path.write_text(render_spec(ROOT / "derivations" / f"{spec}.toml"))
    return load_module(path)


def relative_difference(params, reference):
    """The largest |a - b| over max |b|, over the parameters."""
    worst = 0.0
    for name, value in reference.items():
        value = np.asarray(value, dtype=np.float64)
        gap = np.max(np.abs(np.asarray(params[name], dtype=np.float64) - value))
        worst = max(worst, float(gap / max(np.max(np.abs(value)), 1e-300)))
    return worst


def logreg_case(iterations, rng):
    import reference_logreg as ref

    mod = generated_module("logistic_regression")
    X = rng.random((N_X, M))
    Y = rng.integers(0, 2, size=(1, M)).astype(float)
    rate = 0.005
    history = {}

    def generated(technique):
        return lambda: mod.train(X, Y, num_iterations=iterations, learning_rate=rate,
                                 technique=technique, history=history)[0]

    def hand_written():
        w, b = ref.initialize_with_zeros(N_X)
        return ref.optimize(w, b, X, Y, iterations, rate)[0]

    title = f"logistic regression, n_x = {N_X}, m = {M}, {iterations} steps (target <= 0.1x)"
    return title, {"generated": generated("auto"), "generated plain": generated("plain"),
                   "hand-written": hand_written}, history


def deep_case(iterations, rng):
    import reference_networks as ref

    mod = generated_module("deep_network")
    dims = [N_X, 20, 7, 5, 1]
    X = rng.random((N_X, M))
    Y = rng.integers(0, 2, size=(1, M)).astype(float)
    start = mod.initialize_parameters(dims, "xavier", seed=1)
    rate = 0.0075
    history = {}

    def generated(technique):
        return lambda: mod.train(X, Y, num_iterations=iterations, learning_rate=rate,
                                 params=start, technique=technique, history=history)[0]

    def hand_written():
        params = dict(start)
        for _ in range(iterations):
            params, _ = ref.deep_step(params, X, Y, rate)
        return params

    title = (f"deep network {dims}, m = {M}, {iterations} steps (target <= 0.2x)")
    return title, {"generated": generated("auto"), "generated plain": generated("plain"),
                   "hand-written": hand_written}, history


def large_case(iterations, rng):
    """Logistic regression at n_x = 1000, m = 100,000: X (800 MB in float64) is far larger than
    the caches; m > n_x, so the Gram matrix does not apply. float32 data train in float32."""
    import reference_logreg as ref

    mod = generated_module("logistic_regression")
    n_x, m, rate = 1000, 100_000, 0.005
    X = rng.random((n_x, m))
    Y = rng.integers(0, 2, size=(1, m)).astype(float)
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    history = {}

    def generated(X, Y):
        return lambda: mod.train(X, Y, num_iterations=iterations, learning_rate=rate,
                                 history=history)[0]

    def hand_written(X, Y):
        return lambda: ref.optimize(*ref.initialize_with_zeros(n_x), X, Y, iterations,
                                    rate)[0]

    title = (f"logistic regression, n_x = {n_x}, m = {m}, {iterations} steps (targets <= 0.9x "
             "float64, <= 0.5x float32)")
    return title, {"generated": generated(X, Y), "generated float32": generated(X32, Y32),
                   "hand-written f32 data": hand_written(X32, Y32),
                   "hand-written": hand_written(X, Y)}, history


def best_of(runs, repeat):
    times = {name: float("inf") for name in runs}
    results = {}
    for _ in range(repeat):
        for name, fn in runs.items():
            start = time.perf_counter()
            results[name] = fn()
            times[name] = min(times[name], time.perf_counter() - start)
    return times, results


def peak_memory(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    p.add_argument("--quick", action="store_true", help="100 steps, one run: a smoke test")
    p.add_argument("--large-steps", type=int, default=20,
                   help="steps of the 1000 x 100,000 case (default 20)")
    args = p.parse_args(argv)
    from threadpoolctl import threadpool_limits

    iterations, repeat = (100, 1) if args.quick else (1000, args.repeat)
    print(f"{datetime.date.today()}, machine: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, "
          f"NumPy {np.__version__}; BLAS threads: {args.threads}; float64, best of {repeat}")
    with threadpool_limits(limits=args.threads):
        for case, steps in ((logreg_case, iterations), (deep_case, iterations),
                            (large_case, 2 if args.quick else args.large_steps)):
            title, runs, history = case(steps, np.random.default_rng(0))
            times, params = best_of(runs, repeat)
            ref = times["hand-written"]
            print(f"\n{title}")
            runs["generated"]()  # its history: what it chose
            print(f"  generated chose technique {history['technique']!r}: "
                  f"{history['technique_reason']}")
            for name, t in times.items():
                gap = relative_difference(params[name], params["hand-written"])
                print(f"  {name:<22} {t:8.3f} s {t / ref:8.3f}x hand-written, parameters "
                      f"differ by {gap:.1e} (relative)")
            if "generated plain" not in runs:
                continue
            mem = {name: peak_memory(runs[name]) for name in ("generated", "generated plain")}
            print(f"  peak memory (tracemalloc): generated {mem['generated'] / 1e6:.2f} MB, "
                  f"plain {mem['generated plain'] / 1e6:.2f} MB, G {8 * M * M / 1e6:.2f} MB; "
                  f"generated - plain - G = "
                  f"{(mem['generated'] - mem['generated plain'] - 8 * M * M) / 1e6:+.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
