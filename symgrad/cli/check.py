"""``symgrad check``: hand-derived derivatives, proven or refuted (see
:mod:`symgrad.claims.checker`;
the claim grammar is :mod:`symgrad.claims.claim`)."""

from __future__ import annotations

import argparse
import json
import sys

from ..calculus.budget import CLAIM_LIMIT
from ..model.errors import SpecError
from .common import add_spec_argument

EPILOG = """claims:
  NAME = EXPRESSION, in the spec's expression language. Per example: the graph's names (x, a, z),
  written out or not (sigmoid(z)), and other derivatives (dz). Over m examples: X, A, dZ, m,
  A @ B, A.T or transpose(A), sum(A), sum(A, axis=0), sum(A, axis=1) (NumPy's, keepdims).
  heaviside(z) is relu's derivative, which symgrad derive prints as (z > 0).
  Also sech, sign, maximum(z, 0), eye(n_y), ones(m, 1), ones_like(A), diag(a), onehot(Y):
  the softmax Jacobian is dz = (diag(a) - a @ a.T) @ da.
  A claim is read over m examples when it uses such names, per example otherwise.
  Networks: the layers' names (dW1 = dZ1 @ X.T / m). For a model with [layers], hidden layer l
  in general, every name with the index [l] or [l-1] (dW[l] = dZ[l] @ A[l-1].T / m;
  dA[l] is what flows back into layer l).
  NumPy as the course writes it: np.dot(W2.T, dZ2), A.dot(B), np.multiply, np.power(A1, 2),
  np.exp, np.sum(dZ, axis=1, keepdims=True), np.mean, X.shape[1] (m), np.int64(A > 0) and
  (Z > 0) masks, np.where(Z > 0, dA, 0), np.maximum(0, Z); AL, A0, A_prev, dA_prev, yhat.
  A sum along axis 1 without keepdims=True is NumPy's 1-D array: refuted where that changes
  the shape, and the verdict says so.
  Conventions: where symgrad's (the course's) refutes a claim over m examples, the others are
  tried and named: dZ2 = (A2 - Y)/m meaning dJ/dZ2 (cost), examples as rows (rows:
  dW = X.T @ dZ / m), a summed cost (summed: dW = dZ @ X.T); --convention declares one.
  Math notation too: X^T, A', a^2, ⊙, σ(z), σ'(z), g'(Z1), \\frac{1}{m}, W^{[l]}, (1/m) dZ A^T
  (factors side by side: the product their shapes allow); left sides dL/dz, ∂J/∂W2, dZ^{[2]},
  dZ[L] (the output layer).
  A claims file (--claims) is TOML:
    convention = "rows"      # optional: as --convention
    [claims]
    dz = "a - y"
    dw = "x * dz"
    [batch]                  # read over m examples
    dw = "X @ dZ.T / m"

examples:
  symgrad check derivations/logistic_regression.toml --claim "dz = y - a"
  symgrad check logistic_regression --claim "dz = a - y"     (a shipped model, by name)
  symgrad check derivations/logistic_regression.toml --claim "dw = X @ dZ.T / m" \\
      --claim "db = sum(dZ) / m"
  symgrad check derivations/logistic_regression.toml --claims mine.toml --format json
  symgrad check derivations/shallow_network.toml --claim "dZ1 = W2.T @ dZ2 * (1 - A1**2)"
  symgrad check derivations/deep_network.toml --claim "dZ[l] = dA[l] * heaviside(Z[l])"
  symgrad check deep_network --claim "db[l] = 1./m * np.sum(dZ[l], axis=1, keepdims=True)"

derivations (a FILE after SPEC: .md, .tex or .txt): one equality a line, in math blocks,
  align environments or plain text; NAME = expr starts a derivative, = expr continues it.
  Each line is judged right, following from the line before (error carried forward), or
  wrong; the report names the first wrong line and its slip.
    symgrad check derivations/logistic_regression.toml mine.md

exit status: 0 if every claim is proven, 1 if any is refuted or not proven, 2 for bad input.
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "check", help="check hand-derived derivatives: proven, or refuted with a counterexample",
        description="Check hand-derived derivatives against symgrad's derivation. Each claim is\n"
                    "proven (SymPy shows the two equal, and the numbers agree), refuted (a\n"
                    "counterexample with small values, and a diagnosis of the slip), or not\n"
                    "proven (SymPy cannot decide; the numbers agree at random points).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_spec_argument(p)
    p.add_argument("file", nargs="?", metavar="FILE",
                   help="a hand derivation to judge line by line (.md, .tex or .txt), or a "
                        "homework function to check line by line (a .py file, read statically, "
                        "never run, with --function NAME)")
    p.add_argument("--function", metavar="NAME",
                   help="the function of a .py FILE to check (such as propagate)")
    p.add_argument("--claim", action="append", default=[], metavar='"NAME = EXPR"',
                   help='a claimed derivative, such as "dz = a - y" (repeatable)')
    p.add_argument("--claims", metavar="FILE",
                   help="a TOML file of claims: a table [claims] (and [batch]) of "
                        'NAME = "EXPRESSION"')
    p.add_argument("--batch", action="store_true",
                   help="read the --claim claims over m examples (dw = X @ dZ.T / m)")
    p.add_argument("--convention", metavar="{course,cost,rows,summed}",
                   help="the convention of the claims over m examples, the only one tried: "
                        "course (dZ = A - Y, dW = dZ @ X.T / m), cost (dZ = dJ/dZ = (A - Y)/m), "
                        "rows (examples as rows: dW = X.T @ dZ / m), summed (J = sum(L), no "
                        "1/m), or rows+cost, rows+summed (default: course, the others tried "
                        "where it refutes a claim, and named)")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="output format (default: text)")
    p.add_argument("--time-limit", type=float, default=CLAIM_LIMIT, metavar="SECONDS",
                   help="give up on a claim after this long: not proven (default: "
                        f"{CLAIM_LIMIT:g})")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..claims.checker import PROVEN, Checker, Claim, read_claims
    from ..model.limits import MAX_CLAIMS
    from ..model.spec import load

    if getattr(args, "file", None):
        return _check_file(args, Checker(load(args.spec), time_limit=_time_limit(args),
                                         convention=args.convention))
    claims = [Claim.read(text, True if args.batch else None) for text in args.claim]
    if args.claims:
        claims += read_claims(args.claims)
    if len(claims) > MAX_CLAIMS:
        raise SpecError(f"{len(claims)} claims; expected at most {MAX_CLAIMS}")
    if not claims:
        raise SpecError('no claims; expected --claim "NAME = EXPRESSION" (such as '
                        '"dz = a - y") or --claims FILE')
    time_limit = _time_limit(args)
    model = load(args.spec)
    checker = Checker(model, time_limit=time_limit, convention=args.convention)
    prepared = [checker.prepare(claim) for claim in claims]  # all input errors before output
    verdicts = [checker.judge(*p) for p in prepared]
    proven = sum(v.status == PROVEN for v in verdicts)
    if args.format == "json":
        print(json.dumps({"spec": args.spec, "model": model.name,
                          "all_proven": proven == len(verdicts),
                          "claims": [v.to_json() for v in verdicts]}, indent=2))
    else:
        text = "\n".join(v.text() for v in verdicts)
        if len(verdicts) > 1:
            text += f"\n{proven} of {len(verdicts)} claims proven."
        print(_printable(text))
    return 0 if proven == len(verdicts) else 1


def _time_limit(args) -> float:
    if not args.time_limit > 0:  # NaN too
        raise SpecError(f"--time-limit {args.time_limit:g}: expected a positive number of "
                        "seconds")
    return args.time_limit


def _check_file(args, checker) -> int:
    """A file after SPEC, judged as its suffix says: a derivation (.md, .tex, .txt) or a
    homework function (.py), with the --time-limit and --convention of --claim."""
    from pathlib import Path

    from ..claims import homework, working

    if args.claim or args.claims:
        raise SpecError(f"{args.file}: a file is judged on its own; expected no --claim or "
                        "--claims with it")
    model, suffix = checker.model, Path(args.file).suffix.lower()
    if suffix == ".py":
        if not args.function:
            found = homework.gradient_functions(model, args.file)
            raise SpecError(f"which function? expected --function NAME, one of the functions "
                            f"that assign a gradient: {', '.join(found) or '(none)'}",
                            file=args.file)
        report = homework.check_homework(model, args.file, args.function, checker=checker)
        right = report.all_proven
    elif suffix in working.SUFFIXES:
        report = working.check_derivation(model, args.file, checker)
        right = report.all_right
    else:
        raise SpecError(f"{args.file}: cannot judge a '{suffix or args.file}' file; expected a "
                        f"derivation ({', '.join(working.SUFFIXES)}) or a homework function "
                        "(.py)")
    if args.format == "json":
        print(json.dumps({"spec": args.spec, "model": model.name, **report.to_json()},
                         indent=2))
    else:
        print(_printable(report.text()))
    return 0 if right else 1


def _printable(text: str) -> str:
    """The marks as ASCII where the terminal cannot show them."""
    try:
        text.encode(sys.stdout.encoding or "utf-8")
    except (UnicodeEncodeError, LookupError):
        text = text.translate({ord("✓"): "+", ord("✗"): "x", ord("…"): "..."})
        text = text.encode("ascii", "replace").decode("ascii")
    return text
