"""The proof reader: a derivation laid out step by step, every line checked.

Takes a :class:`~symgrad.calculus.derivation.Derivation`; gives a checked proof
(:mod:`symgrad.proof.build`), written as LaTeX, PDF or Markdown, with the graph drawn.
"""
