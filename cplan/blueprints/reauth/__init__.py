"""Confirm it is you: the signed-in officer's password again before a sensitive action."""
