"""Fuzzing the command line with mutated shipped specs and claims (hypothesis).

Every input, however broken, ends in exit 0, or exit 2 with exactly one line on stderr (``check``
may also exit 1: some claim was not proven), never a traceback, within a time limit and under a
memory limit. The inputs run in one child process (``fuzz_driver.py``), which sets the limits.
The examples are derandomized so that CI is repeatable; SYMGRAD_FUZZ_EXAMPLES=200 fuzzes longer.
"""

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("fuzz_driver.py")
SPECS = {p.name: p.read_text(encoding="utf-8")
         for p in sorted((ROOT / "derivations").glob("*.toml"))}
CLAIMS = ["dz = a - y", "dw = x*(a - y)", "db = a - y", "dZ = A - Y", "dw = X @ dZ.T / m",
          "db = sum(dZ) / m", "da = -y/a + (1 - y)/(1 - a)"]
# Pieces an attacker or a typo brings: quotes and comments, traversal, odd digits and
# characters, terminal escapes, names the derivation or SymPy use, bad math, deep calls.
TOKENS = ['"""', "'''", "\n", "#", "(", ")", "**", "[", "]", "=", ",", "../", "..", "/", "\\",
          "²", "١", "\x1b[31m", "\r", "\u202e", "\x00", "0", "-1", "9" * 40, "1e309", "nan",
          "m", "dz", "dZ", "E", "I", "S", "pi", "beta", "np", "params", "learning_rate",
          "log(0)", "sqrt(-1)", "0**-1", "tanh(tanh(tanh(z)))", "__import__('os')", "x.y",
          "lambda: 0", "@", "sum(", "vector(", "matrix(2, ", "scalar", "binary", "onehot(",
          "a" * 300, "((((((((((", "z" * 5]
SECONDS = 30


def to_toml(data: dict) -> str:
    """A TOML text for ``data`` (tables, strings, numbers, lists), every key quoted."""
    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return repr(v)

    lines, tables = [], []
    for k, v in data.items():
        (tables if isinstance(v, dict) else lines).append((k, v))
    out = [f"{json.dumps(k)} = {value(v)}" for k, v in lines]

    def table(prefix, d):
        plain = [(k, v) for k, v in d.items() if not isinstance(v, dict)]
        out.append("\n[" + ".".join(json.dumps(p) for p in prefix) + "]")
        out.extend(f"{json.dumps(k)} = {value(v)}" for k, v in plain)
        for k, v in d.items():
            if isinstance(v, dict):
                table(prefix + [k], v)

    for k, v in tables:
        table([k], v)
    return "\n".join(out) + "\n"


def leaves(data, path=()):
    for k, v in data.items():
        if isinstance(v, dict):
            yield from leaves(v, path + (k,))
        else:
            yield path + (k,)


@st.composite
def mutated(draw, text: str) -> str:
    """``text`` with one to three edits: inside a TOML value or key (the text stays valid TOML
    and reaches the model), or on the raw text."""
    for _ in range(draw(st.integers(1, 3))):
        token = draw(st.sampled_from(TOKENS))
        kind = draw(st.sampled_from(["value", "value", "key", "raw", "line"]))
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            kind = "raw"
        if kind in ("value", "key"):
            path = draw(st.sampled_from(list(leaves(data))))
            *tables, key = path
            table = data
            for t in tables:
                table = table[t]
            if kind == "key":
                table[token + key[1:]] = table.pop(key)
            else:
                old = str(table[key])
                at = draw(st.integers(0, len(old)))
                cut = draw(st.integers(at, len(old)))
                table[key] = old[:at] + token + old[cut:]
            text = to_toml(data)
        elif kind == "line":
            lines = text.splitlines()
            i = draw(st.integers(0, len(lines) - 1))
            lines.insert(i, lines[i]) if draw(st.booleans()) else lines.pop(i)
            text = "\n".join(lines)
        else:
            at = draw(st.integers(0, len(text)))
            text = text[:at] + token + text[at:]
    return text


@st.composite
def cases(draw):
    name = draw(st.sampled_from(sorted(SPECS)))
    spec = draw(mutated(SPECS[name]))
    claim = draw(st.sampled_from(CLAIMS))
    if draw(st.booleans()):
        at = draw(st.integers(0, len(claim)))
        claim = claim[:at] + draw(st.sampled_from(TOKENS)) + claim[at:]
    command = draw(st.sampled_from(["derive", "check", "codegen", "prove"]))
    argv = {"derive": ["derive", "spec.toml"],
            "check": ["check", "spec.toml", "--claim", claim],
            "codegen": ["codegen", "spec.toml", "-o", "out.py"],
            "prove": ["prove", "spec.toml", "-o", "out.md"]}[command]
    return {"files": {"spec.toml": spec}, "argv": argv}


def run_all(batch):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(DRIVER)], input=json.dumps(batch), text=True,
                          capture_output=True, env=env, timeout=SECONDS * len(batch) + 60)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.mark.slow
@settings(max_examples=int(os.environ.get("SYMGRAD_FUZZ_EXAMPLES", 4)), deadline=None,
          derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(st.lists(cases(), min_size=8, max_size=8))
def test_any_input_ends_in_one_line_or_a_result(batch):
    for case, result in zip(batch, run_all(batch), strict=True):
        what = f"{case['argv']}\n--- spec.toml ---\n{case['files']['spec.toml']}"
        assert result["crash"] is None, f"{what}\n{result['crash']}"
        assert not any("Traceback" in line for line in result["stderr"]), what
        allowed = {0, 1, 2} if case["argv"][0] == "check" else {0, 2}
        assert result["code"] in allowed, f"{what}\nexit {result['code']}: {result['stderr']}"
        if result["code"] == 2:
            assert len(result["stderr"]) == 1, f"{what}\n{result['stderr']}"
        if result["code"] == 1:
            assert result["stderr"] == [], f"{what}\n{result['stderr']}"
        assert result["seconds"] < SECONDS, what


def test_the_driver_reports_exit_codes_lines_and_crashes():
    """The checks above can fail: the driver reports a one-line error, and what escapes main."""
    result = run_all([{"files": {}, "argv": ["derive", "missing.toml"]},
                      {"files": {}, "argv": 5}])  # not a list: argparse raises inside main
    assert result[0]["code"] == 2 and len(result[0]["stderr"]) == 1 and not result[0]["crash"]
    assert result[1]["code"] is None and "Traceback" in result[1]["crash"]
