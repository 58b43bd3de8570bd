"""The command line: one module per subcommand, and :mod:`symgrad.cli.main`.

Takes arguments and files; calls the stages below them.
Gives output on stdout, files written all or nothing, and for bad input one line and exit 2.
"""
