"""Reproducible performance measurements of the poller, compared side by side (issue 7).

Each benchmark is one command (`python -m benchmarks.<name>`) that prints a table and writes
its numbers as JSON under `benchmarks/results/`. See `benchmarks/README.md`.
"""
