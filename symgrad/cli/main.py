"""The ``symgrad`` command line. Bad input: one line on stderr, exit code 2, no traceback."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys

from .._version import __version__
from ..model.errors import SpecError
from . import catalogue, check, codegen, derive, prove, verify
from .common import resolve_spec

EPILOG = """examples:
  symgrad list                                   (the models shipped with symgrad)
  symgrad derive logistic_regression             (a shipped model, by name)
  symgrad derive derivations/logistic_regression.toml
  symgrad derive my_model.toml --format json
"""

SUBCOMMANDS = (derive, codegen, verify, prove, check, catalogue)  # each module: register(), run()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="symgrad", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
        description="Derive, prove and generate code for the gradients of a computation graph.")
    p.add_argument("--version", action="version", version=f"symgrad {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in SUBCOMMANDS:
        command.register(sub)
    return p


class Terminated(KeyboardInterrupt):
    """SIGTERM (or SIGHUP), raised like SIGINT's KeyboardInterrupt so that every ``finally``
    runs: no temporary file or folder is left behind."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _terminate(signum, frame):
    raise Terminated(signum)


@contextlib.contextmanager
def _terminate_raises():
    """While the command runs, SIGTERM and SIGHUP raise :class:`Terminated`."""
    names = [n for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)]
    previous = {}
    try:
        for name in names:
            number = getattr(signal, name)
            previous[number] = signal.signal(number, _terminate)
    except ValueError:  # not the main thread: signals stay as they are
        pass
    try:
        yield
    finally:
        for number, handler in previous.items():
            if handler is not None:  # None: a handler not set from Python; nothing to restore
                signal.signal(number, handler)


def main(argv=None) -> int:
    p = parser()
    args = p.parse_args(argv)
    with _terminate_raises():
        try:
            if getattr(args, "spec", None) is not None:  # a file, or a shipped model's name
                args.spec = resolve_spec(args.spec)
            return args.run(args)
        except SpecError as err:
            print(f"symgrad: error: {err}", file=sys.stderr)
            return 2
        except RecursionError:  # input within every limit, yet too deep for SymPy: one line
            err = SpecError("the model's expressions are nested too deeply for SymPy; expected "
                            "a graph with fewer nodes nested in one another",
                            file=getattr(args, "spec", None))
            print(f"symgrad: error: {err}", file=sys.stderr)
            return 2
        except BrokenPipeError:  # the reader closed stdout early (symgrad derive ... | head)
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        except KeyboardInterrupt as err:
            signum = getattr(err, "signum", signal.SIGINT)
            print("symgrad: interrupted" if signum == signal.SIGINT else "symgrad: terminated",
                  file=sys.stderr)
            return 128 + signum


if __name__ == "__main__":
    sys.exit(main())
