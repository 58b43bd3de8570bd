"""The generated modules on a GPU: CuPy arrays (NumPy's dispatch), compared with NumPy.

Run on a machine with a GPU: python benchmarks/code/gpu_check.py [--m 20000] [--steps 50]

For logistic regression (n_x = 12288, m examples), softmax regression and the shallow network,
in float32 and float64: train() on NumPy arrays and on the same data as CuPy arrays, unchanged
code; checks that the parameters stay CuPy arrays, that the costs agree with NumPy's (relative
1e-4 in float32, 1e-9 in float64), and prints the step times and their ratio. PyTorch is not
dispatched to by NumPy's functions: where it is importable, a hand-written PyTorch step of the
same logistic regression on the GPU is timed beside them, for scale.

Then the optimizers: momentum, RMSprop and Adam on mini-batches of 64 (the shallow network and
softmax regression, float64), CuPy against NumPy: the same costs (relative 1e-9) and the
parameters still on the GPU. Last, no copy to the host inside the training loop: train() runs
under cupyx.allow_synchronize(False), which raises at the first call that waits for the GPU to
hand a value to the host; the check passes where that first call comes after the loop (the
costs turned into floats for the caller), and prints where it came from.

Exits 1 where a check fails, 0 where every one passes; without CuPy it says so and exits 0.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
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

    def run(count):
        for _ in range(count):
            A = torch.sigmoid(w.T @ X + b)
            dZ = A - Y
            w.sub_(0.005 * (X @ dZ.T) / X.shape[1])
            b.sub_(0.005 * dZ.sum() / X.shape[1])

    run(3)  # PyTorch picks its kernels on the first calls
    torch.cuda.synchronize()
    start = time.perf_counter()
    run(steps)
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def optimizers_agree(cp, m, rng):
    """Failures of momentum, RMSprop and Adam on mini-batches: CuPy against NumPy."""
    failures = 0
    for name in ("shallow_network", "softmax_regression"):
        mod = generated_module(name)
        X, Y = dataset(name, 64, m, rng)
        for optimizer in ("momentum", "rmsprop", "adam"):
            options = dict(
                num_iterations=3,
                learning_rate=0.01,
                optimizer=optimizer,
                mini_batch_size=64,
                seed=1,
            )
            _, cpu_costs = mod.train(X, Y, **options)
            params, gpu_costs = mod.train(cp.asarray(X), cp.asarray(Y), **options)
            on_gpu = all(isinstance(v, cp.ndarray) for v in params.values() if np.ndim(v))
            agree = np.allclose(gpu_costs, cpu_costs, rtol=1e-9, atol=0)
            failures += not (on_gpu and agree)
            print(
                f"{name:20s} {optimizer:8s} mini-batches of 64: parameters on the GPU: "
                f"{on_gpu}; costs agree with NumPy's: {agree} ({gpu_costs[0]:.9f})"
            )
    return failures


def first_synchronization(cp, mod, X, Y, **options):
    """(file, line number, source line) of the first call in mod.train that waits for the
    GPU to hand a value to the host, or None where none does."""
    import linecache

    import cupyx

    try:
        with cupyx.allow_synchronize(False):
            mod.train(X, Y, **options)
    except Exception as error:  # cupyx's DeviceSynchronized, raised where the copy happens
        frames = [
            f for f in traceback.extract_tb(error.__traceback__) if f.filename == mod.__file__
        ]
        if not frames:
            raise
        frame = frames[-1]
        return frame.name, frame.lineno, linecache.getline(frame.filename, frame.lineno).strip()
    return None


def no_copies_in_the_loop(cp, m, rng):
    """Failures of the no-copy-to-the-host check, for full-batch and mini-batch training."""
    failures = 0
    for name, options in (
        ("logistic_regression", dict(num_iterations=300)),
        ("shallow_network", dict(num_iterations=300)),
        ("shallow_network", dict(num_iterations=3, optimizer="adam", mini_batch_size=64)),
    ):
        mod = generated_module(name)
        n_x = 12288 if name == "logistic_regression" else 64
        X, Y = dataset(name, n_x, m, rng)
        found = first_synchronization(cp, mod, cp.asarray(X), cp.asarray(Y), **options)
        after_loop = found is None or "for cost in costs" in found[2]
        failures += not after_loop
        where = "none" if found is None else f"{found[0]}(), line {found[1]}: {found[2]}"
        print(
            f"{name:20s} {options}: first wait for the GPU: {where}; "
            f"{'after the loop' if after_loop else 'INSIDE the loop'}"
        )
    return failures


def models_agree(cp, m, steps, rng):
    """Failures of full-batch training on CuPy against NumPy, with the step times."""
    sync = cp.cuda.Device().synchronize
    failures = 0
    for name in MODELS:
        mod = generated_module(name)
        n_x = 12288 if name == "logistic_regression" else 64
        X, Y = dataset(name, n_x, m, rng)
        step = {}
        for dtype in (np.float32, np.float64):
            Xd, Yd = X.astype(dtype), Y.astype(dtype)
            Xg, Yg = cp.asarray(Xd), cp.asarray(Yd)
            timed(mod, Xg[:, :100], Yg[:, :100], dtype, 2, sync)  # CuPy compiles its kernels
            _, cpu_costs, cpu = timed(mod, Xd, Yd, dtype, steps, lambda: None)
            params, gpu_costs, gpu = timed(mod, Xg, Yg, dtype, steps, sync)
            step[dtype] = gpu
            on_gpu = all(isinstance(v, cp.ndarray) for v in params.values() if np.ndim(v))
            agree = np.allclose(gpu_costs, cpu_costs, rtol=TOLERANCE[dtype], atol=0)
            failures += not (on_gpu and agree)
            print(
                f"{name:20s} {np.dtype(dtype).name}: NumPy {1000 * cpu:8.3f} ms, CuPy "
                f"{1000 * gpu:8.3f} ms a step ({cpu / gpu:6.1f}x); parameters on the GPU: "
                f"{on_gpu}; costs agree: {agree}"
            )
            if name == "logistic_regression":
                try:
                    torch_time = torch_step_time(Xd, Yd, steps)
                except ImportError:
                    continue
                print(
                    f"{'':20s} {np.dtype(dtype).name}: hand-written PyTorch "
                    f"{1000 * torch_time:8.3f} ms a step (generated / PyTorch "
                    f"{gpu / torch_time:.2f})"
                )
        print(
            f"{name:20s} on the GPU, float32 / float64: {step[np.float32] / step[np.float64]:.2f}"
        )
    return failures


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
    rng = np.random.default_rng(0)
    failures = 0
    checks = (
        lambda: models_agree(cp, args.m, args.steps, rng),
        lambda: optimizers_agree(cp, 2000, rng),
        lambda: no_copies_in_the_loop(cp, 2000, rng),
    )
    for check in checks:
        try:
            failures += check()
        except Exception:  # report it, and go on to the next check
            traceback.print_exc()
            failures += 1
    print("every check passed" if not failures else f"{failures} check(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
