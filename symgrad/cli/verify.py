"""``symgrad verify SPEC``: run the generated module and compare its gradients numerically."""

from __future__ import annotations

import argparse

from .common import add_spec_argument

EXAMPLES = """examples:
  symgrad verify derivations/logistic_regression.toml
  symgrad verify shallow_network --trials 10 --seed 3   (a shipped model, by name)
  symgrad verify derivations/deep_network.toml     (one module, checked at L = 1, 2, 3, 4)

exit status: 0 when every comparison passes, 1 when one fails, 2 on bad input.
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "verify", help="check the generated code's gradients numerically",
        description="Generate the model's NumPy module into a temporary folder, import it,\n"
                    "and at random inputs of small random sizes compare its backward() with\n"
                    "the symbolic derivatives (per example and over m examples) and with\n"
                    "central finite differences of its compute_cost(), in float64.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_spec_argument(p)
    p.add_argument("--trials", type=int, default=3,
                   help="random draws of sizes and values (default: 3)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..calculus.derivation import derive
    from ..code.selfcheck import EPSILON
    from ..code.verify import depths, table, verify
    from ..model.spec import load

    derivation = derive(load(args.spec))
    rows = verify(derivation, trials=args.trials, seed=args.seed)
    title = (f"symgrad verify {derivation.model.name}: {args.trials} random draw(s), every size "
             f"in 2..5, float64, seed {args.seed}; finite differences with step {EPSILON:g}")
    layers = depths(derivation.model)
    if layers:
        title += (f"\none module for every depth, checked at L = {', '.join(map(str, layers))} "
                  "(each row: the worst of them)")
    print(table(rows, title))
    return 0 if all(row.passed for row in rows) else 1
