"""`symgrad --version` and `--help` answer without importing SymPy (issue 16, start-up): the
package and the command line import the stages only when a command needs them."""

import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import sys
from symgrad.cli.main import main
try:
    main({argv!r})
except SystemExit:
    pass
print("sympy imported" if "sympy" in sys.modules else "no sympy")
"""


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["check", "--help"],
                                  ["prove", "--help"]])
def test_version_and_help_need_no_sympy(argv):
    out = subprocess.run([sys.executable, "-c", PROBE.format(argv=argv)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == "no sympy"


def test_the_api_is_there_when_used():
    spec = Path(__file__).parents[2] / "derivations" / "logistic_regression.toml"
    code = ("import symgrad, sys; assert 'sympy' not in sys.modules; "
            f"m = symgrad.load({str(spec)!r}); "
            "print(m.derive().per_example['dz'], symgrad.check(m, 'dz', 'a - y').status)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "a - y proven"
