"""Desired state: typed kinds (types.py), loading and validation (loader.py)."""
