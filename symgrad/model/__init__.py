"""The model: the spec language and the computation graph.

Takes a spec file (TOML) or plain dicts; reads every expression with a whitelist parser.
Gives a :class:`~symgrad.model.graph.Model`: named nodes, shapes, ops, repeated layers.
"""
