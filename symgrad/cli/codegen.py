"""``symgrad codegen SPEC -o FILE``: write the standalone NumPy training module for a spec."""

from __future__ import annotations

import argparse
import sys

from .common import add_spec_argument, outputs

EXAMPLES = """examples:
  symgrad codegen derivations/logistic_regression.toml -o logreg.py
  python logreg.py train --data train.csv --iterations 2000 --learning-rate 0.005
  python logreg.py predict --params params.npz --data test.csv
  symgrad codegen softmax_regression        (a shipped model by name, to standard output)
  symgrad codegen derivations/deep_network.toml -o deep.py     (any depth: W1 .. WL)
  python deep.py train --data train.npz --layers 20,7,5        (layer sizes n1, n2, n3)
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "codegen", help="generate a standalone NumPy module that trains the model",
        description="Generate one Python file that trains the model by gradient descent with\n"
                    "NumPy alone: forward, compute_cost, backward (the derived gradients),\n"
                    "propagate, update_parameters, train, predict, and a command line.\n"
                    "No file is written before the module has passed a self-check: it\n"
                    "compiles, runs on a small random batch and agrees with finite\n"
                    "differences. Check it further with 'symgrad verify'.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_spec_argument(p)
    p.add_argument("-o", "--output", metavar="FILE",
                   help="the Python file to write (default: standard output); written whole "
                        "or not at all")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..code.render import render_spec

    if args.output in (None, "-"):
        sys.stdout.write(render_spec(args.spec))
        return 0
    with outputs(args) as files:
        path = files.add(args.output)  # a bad -o is refused before the work
        files.write(path, render_spec(args.spec))
    print(f"wrote {path}; run 'python {path} --help'", file=sys.stderr)
    return 0
