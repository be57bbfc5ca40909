"""Benchmarks: each module runs with ``python -m bench.<name>`` and prints a table.

Figures measured by the developers are recorded in docs/benchmarks.md with the device named.
"""
