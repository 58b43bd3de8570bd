"""Runs symgrad's command line on many untrusted inputs in one process, under a memory limit.

Reads a JSON list of cases from stdin, each ``{"files": {name: text}, "argv": [...]}``; writes
one JSON result per case: the exit code, stderr's lines, the seconds taken, and the traceback if
anything escaped ``main``. Used by ``test_fuzz.py``; the limits are set here, in the child, so
that the test process keeps its own.
"""

import contextlib
import io
import json
import os
import resource
import signal
import sys
import tempfile
import time
import traceback

MEMORY = 3 << 30  # bytes of address space for the whole child (SymPy and NumPy need ~1 GiB)
SECONDS = 30  # per case, a wall-clock alarm: a hang is a failure, not a wait


class TookTooLong(BaseException):
    pass


def alarm(signum, frame):
    raise TookTooLong


def run(case, main):
    with tempfile.TemporaryDirectory() as folder:
        for name, text in case["files"].items():
            with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
                f.write(text)
        out, err = io.StringIO(), io.StringIO()
        here = os.getcwd()
        os.chdir(folder)
        start = time.perf_counter()
        signal.alarm(SECONDS)
        crash = None
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(case["argv"])
        except TookTooLong:
            code, crash = None, f"took more than {SECONDS} s"
        except SystemExit as exit:  # argparse
            code = exit.code
        except BaseException:  # noqa: BLE001 - a traceback is what the test looks for
            code, crash = None, traceback.format_exc()
        finally:
            signal.alarm(0)
            os.chdir(here)
        return {"code": code, "stderr": err.getvalue().splitlines(), "crash": crash,
                "seconds": time.perf_counter() - start}


def main():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    signal.signal(signal.SIGALRM, alarm)
    from symgrad.cli.main import main as symgrad_main

    cases = json.load(sys.stdin)
    json.dump([run(case, symgrad_main) for case in cases], sys.stdout)


if __name__ == "__main__":
    main()
