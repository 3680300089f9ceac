"""Workforce management: units and membership, activity codes, schedule search, real-time and
historical adherence, and the result downloads."""
