"""Search across the post's scope: places and contacts by name, number or LGD code."""
