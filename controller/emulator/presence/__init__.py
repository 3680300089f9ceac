"""Presence and routing status: each agent's live state, presence definitions, the bulk reads
and writes, and the WFM users/activity read."""
