"""What an agent should be at instant t, and when that changes: the whole rule set, pure.

The two entry points are here; every call goes downhill from them, never back up:

    desired_at(policy, agent, t)      desired.py   the decision at t and its reasons
    next_boundary(...), agent_changes boundary.py  the next instants a decision changes (walks desired_at)
        ↓
    windows.py    weekly windows and dated exceptions as a level at t
    levels.py     the vocabulary: Level (a value valid over [lo, hi)), Reason, Decision, scan()
    localtime.py  wall-clock days and times in an IANA zone (DST-safe)

A policy's precedence (override > exception > schedule activity > time off > window > off
shift) is `desired._levels`; each level also says when it stops holding, which is how
`boundary` finds the next change without sampling.
"""

from controller.core.timeline.boundary import agent_changes, first_change, next_boundary, unchanged_since
from controller.core.timeline.desired import desired_at
from controller.core.timeline.levels import Decision, Level, Reason, ReasonKind, target_key
from controller.core.timeline.localtime import day_start, hhmm, local_date, localize, zone

__all__ = [
    "Decision",
    "Level",
    "Reason",
    "ReasonKind",
    "agent_changes",
    "day_start",
    "desired_at",
    "first_change",
    "hhmm",
    "local_date",
    "localize",
    "next_boundary",
    "target_key",
    "unchanged_since",
    "zone",
]
