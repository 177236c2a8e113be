"""Enrolment approval: the ASP's queue, corrections and removals, decided exactly once."""
