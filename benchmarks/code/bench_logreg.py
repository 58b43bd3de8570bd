"""Training speed and memory of the generated logistic regression, against the alternatives.

Run: python benchmarks/code/bench_logreg.py [--iterations 1000] [--repeat 5]

Logistic regression at the shape of the course's cat images (n_x = 12288, m = 209), random
data, float64, zero initial parameters, learning rate 0.005; each contender runs the same
number of gradient steps, and the best of --repeat runs is kept (the contenders take turns):

* generated  -- `symgrad codegen derivations/logistic_regression.toml`, its train() with
  technique="plain", the course's loop over X (bench_fast.py times the default, which trains
  on the Gram matrix at this shape);
* reference  -- the course-style hand-written NumPy in reference_logreg.py;
* torch      -- PyTorch eager on the CPU: autograd through binary_cross_entropy_with_logits;
* autograd   -- HIPS autograd's grad of the same cost, written with autograd.numpy;
* matmul bound -- only the two matrix products each step needs (w.T @ X and X @ dZ.T).

Then the peak memory (tracemalloc) that one training run allocates, generated against
reference (X and Y are allocated before tracing starts). Missing torch or autograd are skipped.
"""

from __future__ import annotations

import argparse
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

N_X, M, LEARNING_RATE = 12288, 209, 0.005


def generated_module():
    from symgrad.code.render import render_spec
    from symgrad.code.verify import load_module

    folder = Path(tempfile.mkdtemp(prefix="symgrad-bench-"))
    path = folder / "logreg.py"
    path.write_text(render_spec(ROOT / "derivations" / "logistic_regression.toml"))
    return load_module(path)


def contenders(X, Y, iterations):
    import reference_logreg as ref

    mod = generated_module()
    out = {
        "generated": lambda: mod.train(X, Y, num_iterations=iterations,
                                       learning_rate=LEARNING_RATE, technique="plain")[1],
        "reference": lambda: ref.optimize(*ref.initialize_with_zeros(N_X), X, Y, iterations,
                                          LEARNING_RATE)[1],
    }
    try:
        import torch
        import torch.nn.functional as F

        Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)

        def torch_train():
            w = torch.zeros((N_X, 1), dtype=torch.float64, requires_grad=True)
            b = torch.zeros((), dtype=torch.float64, requires_grad=True)
            costs = []
            for i in range(iterations):
                cost = F.binary_cross_entropy_with_logits(w.T @ Xt + b, Yt)
                cost.backward()
                with torch.no_grad():
                    w -= LEARNING_RATE * w.grad
                    b -= LEARNING_RATE * b.grad
                w.grad = None
                b.grad = None
                if i % 100 == 0:
                    costs.append(cost.item())
            return costs

        out[f"torch {torch.__version__}"] = torch_train
    except ImportError:
        print("torch not installed: skipped", file=sys.stderr)
    try:
        import autograd
        import autograd.numpy as anp

        def cost(params):
            Z = params["w"].T @ X + params["b"]
            return anp.sum(Y * anp.logaddexp(0.0, -Z) + (1 - Y) * anp.logaddexp(0.0, Z)) / M

        value_and_grad = autograd.value_and_grad(cost)

        def autograd_train():
            params = {"w": np.zeros((N_X, 1)), "b": 0.0}
            costs = []
            for i in range(iterations):
                value, grads = value_and_grad(params)
                params = {k: params[k] - LEARNING_RATE * grads[k] for k in params}
                if i % 100 == 0:
                    costs.append(float(value))
            return costs

        out["autograd"] = autograd_train
    except ImportError:
        print("autograd not installed: skipped", file=sys.stderr)

    w = np.zeros((N_X, 1))
    dZ = np.random.default_rng(1).normal(size=(1, M))

    def bound():
        for _ in range(iterations):
            w.T @ X
            X @ dZ.T

    out["matmul bound"] = bound
    return out


def best_of(runs, repeat):
    """The best time of each contender, the contenders interleaved so that a burst of load
    from elsewhere on the machine does not fall on one of them alone."""
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
    p.add_argument("--iterations", type=int, default=1000)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args(argv)
    rng = np.random.default_rng(0)
    X = rng.random((N_X, M))  # pixel values scaled to [0, 1], as the course does
    Y = rng.integers(0, 2, size=(1, M)).astype(float)
    runs = contenders(X, Y, args.iterations)
    print(f"logistic regression, n_x = {N_X}, m = {M}, {args.iterations} gradient steps, "
          f"float64, best of {args.repeat}")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, NumPy {np.__version__}")
    times, costs = best_of(runs, args.repeat)
    ref, bound = times["reference"], times["matmul bound"]
    print(f"\n{'':<18} {'seconds':>8} {'ms/step':>8} {'vs reference':>13} {'vs bound':>9}")
    for name, t in times.items():
        print(f"{name:<18} {t:8.3f} {1000 * t / args.iterations:8.3f} {t / ref:12.2f}x "
              f"{t / bound:8.2f}x")
    first = costs["generated"]
    for name in ("reference", *[n for n in costs if n.startswith(("torch", "autograd"))]):
        if costs[name] is not None:
            gap = max(abs(a - b) for a, b in zip(first, costs[name], strict=True))
            print(f"largest difference of the recorded costs, generated vs {name}: {gap:.1e}")
    mem = {name: peak_memory(runs[name]) for name in ("generated", "reference")}
    print(f"\npeak memory of a training run (tracemalloc, X and Y excluded): generated "
          f"{mem['generated'] / 1e6:.3f} MB, reference {mem['reference'] / 1e6:.3f} MB "
          f"({mem['generated'] / mem['reference']:.2f}x); X itself is {X.nbytes / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
