"""Benchmarks: `python -m bench` lists them; each prints figures and never gates anything."""
