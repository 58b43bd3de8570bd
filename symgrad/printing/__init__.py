"""Printing: expressions and results become text, and text becomes files.

Takes SymPy expressions of the model's ops; gives NumPy, LaTeX and plain-text strings.
Also holds the one Jinja environment, the installed templates and atomic file writing.
"""
