"""`scripts/bench/run.py`: the same as `python -m scripts.bench`, runnable as a file."""

import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from scripts.bench.harness import main

    raise SystemExit(main())
