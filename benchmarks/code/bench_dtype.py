"""float32 against float64: the generated logistic regression's gradient step.

Run: python benchmarks/code/bench_dtype.py [--m 20000] [--steps 20] [--repeat 3]

Logistic regression at n_x = 12288 (the course's 64 x 64 x 3 images) and m examples of random
data. One step is forward, backward and the update (train() with num_iterations = steps,
timed and divided by steps); the data are converted to the dtype before timing, as train()
would do once. The best of --repeat runs is kept, the two dtypes taking turns. Prints each
step time and the ratio float32 / float64 (the issue asks for <= 0.6).

At m = 20000, X takes 1.97 GB in float64 (0.98 GB in float32): pass a smaller --m on a
machine with little memory, and say so beside the numbers.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

N_X = 12288


def generated_module():
    from symgrad.code.render import render_spec
    from symgrad.code.verify import load_module

    folder = Path(tempfile.mkdtemp(prefix="symgrad-bench-"))
    path = folder / "logreg.py"
    path.write_text(render_spec(ROOT / "derivations" / "logistic_regression.toml"))
    return load_module(path)


def step_time(mod, X, Y, dtype, steps):
    """Seconds a step, from train() over `steps` steps (the cost recorded once, at step 0)."""
    start = time.perf_counter()
    params, _ = mod.train(X, Y, num_iterations=steps, learning_rate=0.005, dtype=dtype)
    elapsed = time.perf_counter() - start
    assert params["w"].dtype == dtype
    return elapsed / steps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--m", type=int, default=20000)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    mod = generated_module()
    rng = np.random.default_rng(0)
    X64 = rng.standard_normal((N_X, args.m)) / np.sqrt(N_X)
    Y64 = (rng.random((1, args.m)) < 0.5).astype(np.float64)
    data = {np.float64: (X64, Y64), np.float32: (X64.astype(np.float32), Y64.astype(np.float32))}
    best = {dtype: float("inf") for dtype in data}
    for _ in range(args.repeat):
        for dtype, (X, Y) in data.items():
            best[dtype] = min(best[dtype], step_time(mod, X, Y, dtype, args.steps))
    print(f"logistic regression, n_x = {N_X}, m = {args.m}, {args.steps} steps, best of "
          f"{args.repeat}; {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"NumPy {np.__version__}")
    for dtype, seconds in best.items():
        print(f"  {np.dtype(dtype).name}: {1000 * seconds:8.2f} ms a step")
    print(f"  float32 / float64: {best[np.float32] / best[np.float64]:.2f}")


if __name__ == "__main__":
    main()
