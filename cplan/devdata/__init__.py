"""Data for development, demos and benchmarks: the Baghpat demo and the state-scale generator.

Not business rules: these modules drive the services in ``cplan.services`` (and write rows in
bulk where a state-scale data set needs it); nothing in the app imports them at run time except
the CLI commands ``flask cplan demo`` and ``flask cplan generate``.
"""
