"""The generated modules on a GPU: CuPy arrays (NumPy's dispatch), compared with NumPy.

Run on a machine with a GPU: python benchmarks/code/gpu_check.py [--m 20000] [--steps 50]

For logistic regression (n_x = 12288, m examples), softmax regression and the shallow network,
in float32 and float64: train() on NumPy arrays and on the same data as CuPy arrays, unchanged
code; checks that the parameters stay CuPy arrays, that the costs agree with NumPy's (relative
1e-4 in float32, 1e-9 in float64), and prints the step times and their ratio. PyTorch is not
dispatched to by NumPy's functions: where it is importable, a hand-written PyTorch step of the
same logistic regression on the GPU is timed beside them, for scale. Exits 1 where a check
fails, 0 where every one passes; without CuPy it says so and exits 0.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

MODELS = ("logistic_regression", "softmax_regression", "shallow_network")
TOLERANCE = {np.float32: 1e-4, np.float64: 1e-9}


def generated_module(name):
    from symgrad.code.render import render_spec
    from symgrad.code.verify import load_module

    path = Path(tempfile.mkdtemp(prefix="symgrad-gpu-")) / f"{name}.py"
    path.write_text(render_spec(ROOT / "derivations" / f"{name}.toml"))
    return load_module(path)


def dataset(name, n_x, m, rng):
    X = rng.standard_normal((n_x, m)) / np.sqrt(n_x)
    if name == "softmax_regression":
        return X, np.eye(10)[:, rng.integers(0, 10, m)]
    return X, (rng.random((1, m)) < 0.5).astype(np.float64)


def timed(mod, X, Y, dtype, steps, synchronize):
    """(params, costs, seconds a step) of mod.train on X, Y."""
    synchronize()
    start = time.perf_counter()
    params, costs = mod.train(X, Y, num_iterations=steps, learning_rate=0.05, dtype=dtype)
    synchronize()
    return params, costs, (time.perf_counter() - start) / steps


def torch_step_time(X, Y, steps):
    import torch

    X, Y = torch.as_tensor(X, device="cuda"), torch.as_tensor(Y, device="cuda")
    w = torch.zeros((X.shape[0], 1), dtype=X.dtype, device="cuda")
    b = torch.zeros((), dtype=X.dtype, device="cuda")
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        A = torch.sigmoid(w.T @ X + b)
        dZ = A - Y
        w -= 0.005 * (X @ dZ.T) / X.shape[1]
        b -= 0.005 * dZ.sum() / X.shape[1]
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--m", type=int, default=20000)
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args(argv)
    try:
        import cupy as cp
    except ImportError:
        print("CuPy is not importable: nothing to check on a GPU")
        return 0
    sync = cp.cuda.Device().synchronize
    rng = np.random.default_rng(0)
    failures = 0
    for name in MODELS:
        mod = generated_module(name)
        n_x = 12288 if name == "logistic_regression" else 64
        X, Y = dataset(name, n_x, args.m, rng)
        for dtype in (np.float32, np.float64):
            Xd, Yd = X.astype(dtype), Y.astype(dtype)
            Xg, Yg = cp.asarray(Xd), cp.asarray(Yd)
            timed(mod, Xg[:, :100], Yg[:, :100], dtype, 2, sync)  # CuPy compiles its kernels
            _, cpu_costs, cpu = timed(mod, Xd, Yd, dtype, args.steps, lambda: None)
            params, gpu_costs, gpu = timed(mod, Xg, Yg, dtype, args.steps, sync)
            on_gpu = all(isinstance(v, cp.ndarray) for v in params.values() if np.ndim(v))
            agree = np.allclose(gpu_costs, cpu_costs, rtol=TOLERANCE[dtype], atol=0)
            failures += not (on_gpu and agree)
            print(f"{name:20s} {np.dtype(dtype).name}: NumPy {1000 * cpu:8.3f} ms, CuPy "
                  f"{1000 * gpu:8.3f} ms a step ({cpu / gpu:6.1f}x); parameters on the GPU: "
                  f"{on_gpu}; costs agree: {agree}")
            if name == "logistic_regression":
                try:
                    torch_time = torch_step_time(Xd, Yd, args.steps)
                except ImportError:
                    continue
                print(f"{'':20s} {np.dtype(dtype).name}: hand-written PyTorch "
                      f"{1000 * torch_time:8.3f} ms a step (generated / PyTorch "
                      f"{gpu / torch_time:.2f})")
    print("every check passed" if not failures else f"{failures} check(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
