"""The version, in a module of its own so that every stage can read it."""

__version__ = "0.1.0"
