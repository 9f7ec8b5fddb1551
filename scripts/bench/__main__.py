"""`python -m scripts.bench`: run every benchmark and print the table."""

from scripts.bench.harness import main

raise SystemExit(main())
