"""Adherence over time: the observed timeline (SQLite), the pure figures, the lossless export."""
