"""Roster coverage per district, station and place, and numbers shared by several contacts."""
