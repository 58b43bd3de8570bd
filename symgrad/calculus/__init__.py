"""The calculus: the reverse sweep with SymPy, simplified into the graph's own variables.

Takes a :class:`~symgrad.model.graph.Model`; gives a
:class:`~symgrad.calculus.derivation.Derivation`
(every step recorded), which the three readers (code, proof, claims) read and never re-derive.
"""
