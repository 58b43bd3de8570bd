"""tests/claims: the homework files under homework/ are data, read statically by the checker;
pytest never collects (and so never imports) them, doctests included."""

collect_ignore_glob = ["homework/*"]
