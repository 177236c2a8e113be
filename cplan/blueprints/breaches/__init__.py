"""The personal-data breach register."""
