"""Training speed of the generated shallow and deep networks, against the alternatives.

Run: python benchmarks/code/bench_networks.py [--repeat 5] [--quick]

For each case below, random data (float64), the same initial parameters for everyone and the
same number of gradient steps; the best of --repeat runs is kept, the contenders taking turns:

* generated  -- `symgrad codegen` of derivations/shallow_network.toml or deep_network.toml,
  its train() (which also records the cost every 100 steps) with technique="plain", the
  course's loop over X (bench_fast.py times the default, which trains the cat-image network
  on the Gram matrix);
* reference  -- the course-style hand-written NumPy of reference_networks.py (shallow_step,
  deep_step: one forward, the cost, one backward and the update per call);
* torch      -- PyTorch eager on the CPU: the same network, autograd through
  binary_cross_entropy_with_logits, the update under no_grad.

The cases: the course's planar-data network (n_x = 2, n_h = 4, m = 400), a wider one
(n_x = 20, n_h = 100, m = 2000), the course's four-layer cat classifier
(layer_dims = [12288, 20, 7, 5, 1], m = 209) and a smaller deep one ([20, 64, 32, 16, 1],
m = 1000). The costs that the contenders record are compared at the end (they follow the
same steps, so they agree to rounding).
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
sys.path.insert(0, str(ROOT / "benchmarks" / "code"))

LEARNING_RATE = 0.0075
# name, spec, layer sizes [n_x, hidden..., 1], m, gradient steps
CASES = (
    ("shallow, planar", "shallow_network", [2, 4, 1], 400, 5000),
    ("shallow, wide", "shallow_network", [20, 100, 1], 2000, 500),
    ("deep, cat images", "deep_network", [12288, 20, 7, 5, 1], 209, 300),
    ("deep, small", "deep_network", [20, 64, 32, 16, 1], 1000, 1000),
)


def generated_module(spec):
    from symgrad.code.render import render_spec
    from symgrad.code.verify import load_module

    path = Path(tempfile.mkdtemp(prefix="symgrad-bench-")) / f"{spec}.py"
    path.write_text(render_spec(ROOT / "derivations" / f"{spec}.toml"))
    return load_module(path)


def data(dims, m, rng):
    X = rng.random((dims[0], m))  # pixel-like values in [0, 1]
    w = rng.normal(size=(1, dims[0]))
    Y = ((w @ (X - 0.5)) ** 2 > np.median((w @ (X - 0.5)) ** 2)).astype(float)  # not a line
    return X, Y


def initial(mod, spec, dims):
    if spec == "deep_network":
        return mod.initialize_parameters(dims, "he", seed=1)
    return mod.initialize_parameters({"n_x": dims[0], "n_h": dims[1]}, "random", seed=1)


def contenders(spec, dims, X, Y, iterations):
    import reference_networks as ref

    mod = generated_module(spec)
    start = initial(mod, spec, dims)
    step = ref.deep_step if spec == "deep_network" else ref.shallow_step

    def reference():
        params, costs = dict(start), []
        for i in range(iterations):
            params, cost = step(params, X, Y, LEARNING_RATE)
            if i % 100 == 0:
                costs.append(float(cost))
        return costs

    out = {
        "generated": lambda: mod.train(X, Y, num_iterations=iterations,
                                       learning_rate=LEARNING_RATE, params=dict(start),
                                       technique="plain")[1],
        "reference": reference,
    }
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        print("torch not installed: skipped", file=sys.stderr)
        return out
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    depth = len(start) // 2
    hidden = torch.tanh if spec == "shallow_network" else torch.relu

    def torch_train():
        params = [torch.tensor(start[f"{p}{l}"], requires_grad=True)
                  for l in range(1, depth + 1) for p in "Wb"]
        costs = []
        for i in range(iterations):
            A = Xt
            for l in range(depth):
                Z = params[2 * l] @ A + params[2 * l + 1]
                A = hidden(Z) if l < depth - 1 else Z
            cost = F.binary_cross_entropy_with_logits(A, Yt)
            cost.backward()
            with torch.no_grad():
                for p in params:
                    p -= LEARNING_RATE * p.grad
                    p.grad = None
            if i % 100 == 0:
                costs.append(cost.item())
        return costs

    out[f"torch {torch.__version__.split('+')[0]}"] = torch_train
    return out


def best_of(runs, repeat):
    """The best time of each contender, the contenders interleaved so that a burst of load
    from elsewhere on the machine does not fall on one of them alone, and their order turned
    each round: torch's threads spin for a while after it returns, slowing whoever comes next."""
    times = {name: float("inf") for name in runs}
    results = {}
    names = list(runs)
    for r in range(repeat):
        for name in names[r % len(names):] + names[:r % len(names)]:
            start = time.perf_counter()
            results[name] = runs[name]()
            times[name] = min(times[name], time.perf_counter() - start)
    return times, results


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=6)
    p.add_argument("--quick", action="store_true", help="a tenth of the steps, for a try")
    args = p.parse_args(argv)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, NumPy {np.__version__}; float64, learning rate "
          f"{LEARNING_RATE}, best of {args.repeat}")
    print(f"\n{'':<14} {'seconds':>8} {'ms/step':>8} {'vs reference':>13}")
    gaps = []
    for title, spec, dims, m, iterations in CASES:
        iterations = max(100, iterations // 10) if args.quick else iterations
        X, Y = data(dims, m, np.random.default_rng(0))
        runs = contenders(spec, dims, X, Y, iterations)
        times, costs = best_of(runs, args.repeat)
        print(f"{title}: layer sizes {dims}, m = {m}, {iterations} gradient steps")
        for name, t in times.items():
            print(f"  {name:<12} {t:8.3f} {1000 * t / iterations:8.3f} "
                  f"{t / times['reference']:12.2f}x")
        gaps += [max(abs(a - b) for a, b in zip(costs["generated"], other, strict=True))
                 for name, other in costs.items() if name != "generated"]
    print(f"\nlargest difference of the recorded costs, generated against the others: "
          f"{max(gaps):.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
