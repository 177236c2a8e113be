"""Re-verification drives: opening one, its progress, and the station's "verify next" page."""
