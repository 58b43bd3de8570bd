"""Claims about a model with batch statistics: batch forms are checked as usual; a per-example
claim about what the statistics read gets the reason it has no per-example form."""

from __future__ import annotations

import pytest

from symgrad.claims.checker import Checker
from symgrad.model.errors import SpecError


def test_batch_claims(bn_layer):
    c = Checker(bn_layer())
    three_terms = ("gamma1/(m*sqrt(v + eps))*(m*dZt - sum(dZt, axis=1) "
                   "- Zh*sum(dZt*Zh, axis=1))")
    assert c.check("dZ", three_terms).status == "proven"
    assert c.check("dZ", "gamma1*dZt/sqrt(v + eps)").status == "refuted"
    assert c.check("dv", "-sum(Zh*dZh, axis=1)/(2*(v + eps))").status == "proven"
    assert c.check("dgamma1", "sum(Zh*dZt, axis=1)/m").status == "proven"


def test_per_example_claims(bn_layer):
    c = Checker(bn_layer())
    assert c.check("dzh", "gamma1*g").status == "proven"  # after the statistics: it exists
    for name in ("dz", "dW"):
        with pytest.raises(SpecError, match=f"'{name}' has no per-example form: .* couple the "
                                            "examples"):
            c.check(name, "gamma1*g")
