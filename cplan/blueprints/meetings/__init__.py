"""Coordination meetings (समन्वय बैठक) of a police station with its C-Plan members."""
