"""Browsing the jurisdiction spine: districts, circles, police stations, villages and wards."""
