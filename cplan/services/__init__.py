"""Business rules. Services take plain arguments and the acting user, flush, never commit."""
