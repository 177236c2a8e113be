"""Village rosters: respected citizens of each place, enrolling them, and protected numbers."""
