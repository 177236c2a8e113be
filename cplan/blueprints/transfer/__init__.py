"""Roster files: the import template, bulk import (dry run, then commit) and station group lists."""
