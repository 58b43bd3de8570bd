"""Where a quantity's values lie: its domain, and how to draw numbers inside it.

A label's type names its domain (``real``, ``positive``, ``count``, ``binary``, ``onehot(k)``,
``probability(k)``), and so may an input's (a dropout mask is ``binary(n_h)``). A
hyperparameter declares its domain and default value in a table::

    [hyperparameters]
    delta = { default = 1.0, domain = "positive", description = "the Huber threshold" }

Everything that needs numbers for a model (``symgrad verify``, the claim checker, codegen's
self-check, the generated command line's defaults) draws them from here, so that no check ever
evaluates a model outside the values it was written for (``log`` of a negative count, a
smoothing factor of 0).

>>> import numpy as np
>>> bool(POSITIVE.draw(np.random.default_rng(0), (2, 3)).min() > 0)
True
>>> hyperparameter_domain("(0, 1]").contains(1.0), hyperparameter_domain("(0, 1]").contains(0.0)
(True, False)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import SpecError


@dataclass(frozen=True)
class Domain:
    """A set of numbers: an interval (``low``, ``high``; ``None`` for no bound) of reals or of
    whole numbers, or one of the column sets (``onehot``, ``probability``: each column of a
    vector is one-hot, or a probability vector)."""

    name: str  # as the spec writes it
    text: str  # for people: "any real number", "> 0", "a whole number >= 0"
    low: float | None = None
    high: float | None = None
    low_open: bool = True
    high_open: bool = True
    integer: bool = False
    columns: str = ""  # "onehot" or "probability": a condition on each column
    default: float = 0.0  # a hyperparameter's value where the spec gives none
    latex: str = r"\mathbb{R}"  # the set, in a proof's shapes

    @property
    def is_real_line(self) -> bool:
        return self.low is None and self.high is None and not self.integer and not self.columns

    @property
    def binary(self) -> bool:
        return self.integer and self.low == 0 and self.high == 1

    @property
    def sums_to_one(self) -> bool:
        """Each column sums to 1 (one-hot and probability vectors)."""
        return bool(self.columns)

    def contains(self, value) -> bool:
        """Whether every entry of ``value`` lies in the domain."""
        x = np.asarray(value, dtype=float)
        if not np.all(np.isfinite(x)):
            return False
        if self.integer and np.any(x != np.round(x)):
            return False
        if self.low is not None and np.any(x < self.low if not self.low_open else x <= self.low):
            return False
        if self.high is not None and np.any(x > self.high if not self.high_open
                                            else x >= self.high):
            return False
        if self.columns:
            if x.ndim < 2 or np.any(x < 0) or not np.allclose(x.sum(axis=0), 1.0):
                return False
            if self.columns == "onehot" and not np.all(np.isin(x, (0.0, 1.0))):
                return False
        return True

    def draw(self, rng, shape, scale=1.0) -> np.ndarray:
        """Random values inside the domain, of ``shape``, away from any open bound: the reals
        from N(0, scale), a positive number from [0.5, 2], a count from 0 .. 5."""
        shape = tuple(shape)
        if self.columns == "onehot":
            out = np.zeros(shape)
            out[rng.integers(0, shape[0], size=shape[1]), np.arange(shape[1])] = 1.0
            return out
        if self.columns == "probability":
            return rng.dirichlet(np.ones(shape[0]), size=shape[1]).T.reshape(shape)
        if self.integer:
            low = -3 if self.low is None else math.floor(self.low) + self.low_open
            high = 3 if self.high is None else math.ceil(self.high) - self.high_open
            if self.high is None and self.low is not None:
                high = low + 5
            return rng.integers(low, high + 1, size=shape).astype(float)
        if self.low is None and self.high is None:
            return rng.normal(0.0, scale, size=shape)
        low, high = self.low, self.high
        if high is None:
            low, high = (low + 0.5, low + 2.0) if self.low_open else (low, low + 2.0)
        elif low is None:
            low, high = (high - 2.0, high - 0.5) if self.high_open else (high - 2.0, high)
        else:  # a bounded interval: its middle 80%
            width = high - low
            low, high = low + 0.1 * width, high - 0.1 * width * self.high_open
        return rng.uniform(low, high, size=shape)

    def simple(self, values) -> list:
        """Of ``values`` (small numbers a person reads easily), those inside the domain; at
        least one value always."""
        kept = [v for v in values if self.contains(v)]
        return kept or [self.default if self.contains(self.default) else self.typical()]

    def typical(self) -> float:
        """One value inside the domain (for a scalar)."""
        return float(self.draw(np.random.default_rng(0), (1, 1)).ravel()[0])


REAL = Domain("real", "any real number")
POSITIVE = Domain("positive", "a number > 0", low=0.0, default=1.0, latex=r"\mathbb{R}_{>0}")
NONNEGATIVE = Domain("nonnegative", "a number >= 0", low=0.0, low_open=False,
                     latex=r"\mathbb{R}_{\geq 0}")
COUNT = Domain("count", "a whole number >= 0", low=0.0, low_open=False, integer=True,
               latex=r"\mathbb{N}")
BINARY = Domain("binary", "0 or 1", low=0.0, high=1.0, low_open=False, high_open=False,
                integer=True, latex=r"\lbrace 0, 1\rbrace")
ONEHOT = Domain("onehot", "a one-hot column (0s and one 1)", columns="onehot",
                latex=r"\lbrace 0, 1\rbrace")
PROBABILITY = Domain("probability", "a probability vector (entries >= 0 summing to 1)",
                     columns="probability", latex=r"[0, 1]")
UNIT = Domain("(0, 1]", "a number in (0, 1]", low=0.0, high=1.0, high_open=False, default=1.0,
              latex=r"(0, 1]")
OPEN_UNIT = Domain("(0, 1)", "a number in (0, 1)", low=0.0, high=1.0, default=0.5,
                   latex=r"(0, 1)")
CLOSED_UNIT = Domain("[0, 1]", "a number in [0, 1]", low=0.0, high=1.0, low_open=False,
                     high_open=False, latex=r"[0, 1]")
INTEGER = Domain("integer", "a whole number", integer=True, latex=r"\mathbb{Z}")
POSITIVE_INTEGER = Domain("positive integer", "a whole number >= 1", low=1.0, low_open=False,
                          integer=True, default=1.0, latex=r"\mathbb{Z}_{>0}")

# A label's or an input's type -> its domain: "real", "count", ... for a scalar, "count(n)"
# for a vector; "onehot(n)" and "probability(n)" are vectors only.
LABEL_DOMAINS = {d.name: d for d in (REAL, POSITIVE, NONNEGATIVE, COUNT, BINARY, ONEHOT,
                                     PROBABILITY)}
VECTOR_ONLY = frozenset({"onehot", "probability"})
# A hyperparameter's domain, as its table's ``domain`` names it.
HYPERPARAMETER_DOMAINS = {d.name: d for d in (REAL, POSITIVE, NONNEGATIVE, UNIT, OPEN_UNIT,
                                              CLOSED_UNIT, INTEGER, POSITIVE_INTEGER)}
HYPERPARAMETER_KEYS = ("default", "domain", "description")


def hyperparameter_domain(name) -> Domain:
    """The domain a hyperparameter's table names, or a SpecError listing them."""
    if isinstance(name, str):  # spaces are not significant: "(0,1]", "positive  integer"
        found = {"".join(d.split()): v for d, v in HYPERPARAMETER_DOMAINS.items()}.get(
            "".join(name.split()))
        if found is not None:
            return found
    shown = repr(name) if isinstance(name, str) else f"a {type(name).__name__}"
    raise SpecError(f"unknown domain {shown}; expected one of: "
                    f"{', '.join(repr(d) for d in HYPERPARAMETER_DOMAINS)}")


def hyperparameter(value) -> tuple[Domain, float, str]:
    """A hyperparameter's entry (a description, or a table of default, domain, description)
    as its domain, default value and description."""
    if isinstance(value, str):
        return REAL, REAL.default, value
    if not isinstance(value, dict):
        raise SpecError(f"expected a description or a table {{ default = ..., domain = ..., "
                        f"description = ... }}, found a {type(value).__name__}")
    for key in value:
        if key not in HYPERPARAMETER_KEYS:
            raise SpecError(f"unknown key '{key}' in a hyperparameter's table; expected "
                            f"{', '.join(HYPERPARAMETER_KEYS)}")
    domain = hyperparameter_domain(value.get("domain", "real"))
    description = value.get("description", "")
    if not isinstance(description, str):
        raise SpecError(f"description: expected a string, found a {type(description).__name__}")
    default = value.get("default", domain.default)
    if isinstance(default, bool) or not isinstance(default, (int, float)):
        raise SpecError(f"default: expected a number, found a {type(default).__name__}")
    if not domain.contains(default):
        raise SpecError(f"default {default!r} is not in its domain ({domain.text})")
    return domain, float(default), description
