"""`python -m bench` lists the benchmarks; `python -m bench NAME [args]` runs bench/NAME.py.

Benchmarks print figures; they are never part of the test suite and never pass or fail on time.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    names = sorted(p.stem for p in HERE.glob("*.py") if not p.stem.startswith("_"))
    if len(sys.argv) < 2 or sys.argv[1] not in names:
        print("usage: python -m bench NAME   (one of: " + ", ".join(names) + ")")
        return 0 if len(sys.argv) < 2 else 2
    sys.argv = [str(HERE / f"{sys.argv[1]}.py"), *sys.argv[2:]]
    runpy.run_path(sys.argv[0], run_name="__main__")
    return 0


raise SystemExit(main())
