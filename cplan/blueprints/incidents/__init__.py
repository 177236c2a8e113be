"""The incident pages: the feed, reporting, the incident with its timeline, the call sheet,
review."""
