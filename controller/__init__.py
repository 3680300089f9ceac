"""presencectl: a declarative reconciliation daemon for agent presence in Genesys Cloud."""

__version__ = "0.1.0"
