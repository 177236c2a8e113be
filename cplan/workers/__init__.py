"""Background workers: processes of their own, started by a ``flask cplan`` command, never
threads of the web app."""
