"""``make bench``: every benchmark in turn, printing figures (SQLite, and PostgreSQL when
``CPLAN_BENCH_DATABASE_URL`` is set). ``python bench/run.py web`` runs only the named ones.

- ``subtree``: the scope queries at state scale (bench/subtree.py)
- ``audit``: audited appends against plain inserts from 1, 2 and 4 processes (PostgreSQL only;
  bench/audit_writes.py)
- ``web``: the main pages over HTTP under gunicorn against the bare-Flask ceiling (bench/web.py)
- ``broadcast``: enqueueing a 100,000-recipient broadcast, the SMS worker against the fake
  gateway, delivery reports (bench/broadcast.py)
- ``drives``: opening a statewide verification drive, "verify next", the state's progress
  (bench/drives.py)
"""

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BENCHMARKS = {
    "subtree": "bench.subtree",
    "audit": "bench.audit_writes",
    "web": "bench.web",
    "drives": "bench.drives",
    "broadcast": "bench.broadcast",
}


def main(names):
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(
            f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}",
            file=sys.stderr,
        )
        return 2
    names = names or list(BENCHMARKS)
    modules = {name: importlib.import_module(BENCHMARKS[name]) for name in names}
    if "web" in modules and modules["web"].wrk_missing():  # say so now, not after the others ran
        return 2
    for name, module in modules.items():
        print(f"\n### {name}")
        status = module.main()
        if status:
            return status
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
