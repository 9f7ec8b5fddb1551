"""The graduation-week benchmark harness: `python -m scripts.bench` prints the table (see BENCHMARKS.md)."""
