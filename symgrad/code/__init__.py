"""The code reader: a derivation becomes a standalone NumPy training module.

Takes a :class:`~symgrad.calculus.derivation.Derivation`; gives the module's text
(:mod:`symgrad.code.render`), and :mod:`symgrad.code.verify` runs it against references.
"""
