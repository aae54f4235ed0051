"""`python -m bench.incidents.report RESULT.json [...]`: the phases of lifecycle.py results as Markdown tables."""
from __future__ import annotations

import json
import sys

from bench.incidents.lifecycle import table

KEEP = ("cpu", "pg_waits", "offered_rps", "answered_rps", "last_answer_after_last_send_s", "no_work", "backlog",
        "prep_errors", "error_samples", "checkpoints", "slow_seconds")


def main(argv: list[str] | None = None) -> int:
    for path in argv or sys.argv[1:]:
        result = json.load(open(path))
        print(f"<!-- {path}: commit {result.get('commit')}, {result.get('started')} .. {result.get('finished')}, "
              f"workers {result.get('workers')}, board {result.get('board')}, in hand at start "
              f"{result.get('in_hand_at_start')}, what-if indexes {result.get('whatif_indexes')} -->\n")
        for name, phase in result["phases"].items():
            print(table(name, phase["summary"], {k: phase[k] for k in KEEP if k in phase}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
