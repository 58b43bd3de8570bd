"""The claims reader: a hand derivation is proven, refuted or not proven.

Takes a :class:`~symgrad.calculus.derivation.Derivation` and claims (untrusted text);
gives verdicts with diagnoses and counterexamples (:mod:`symgrad.claims.checker`).
"""
