"""``make bench``: every benchmark in turn, printing figures (SQLite, and PostgreSQL when
``CPLAN_BENCH_DATABASE_URL`` is set)."""
import runpy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

if __name__ == "__main__":
    runpy.run_module("bench.subtree", run_name="__main__")
