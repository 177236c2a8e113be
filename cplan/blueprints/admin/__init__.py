"""Administration of people: posts with their CUG numbers, officers, and who holds which post."""
