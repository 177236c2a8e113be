"""Files in and out: the official geography imports, roster and place-name imports, roster
exports, and the hardened reading of uploaded spreadsheets they share.

Each pipeline reads or writes a whole file and calls the services in ``cplan.services`` for the
rules (who may, what is valid, what is audited); like the services, it flushes and never commits.
"""
