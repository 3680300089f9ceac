"""Presence names -> presence definition ids, against the org's live catalog."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from controller.core.domain import PresenceCatalog
from controller.core.presence import SystemPresence, is_system_presence_name
from controller.model.errors import NOTE, DesiredStateError, Diagnostic
from controller.model.schema import did_you_mean
from controller.model.types import (
    DatedException,
    DesiredState,
    Override,
    PresencePolicy,
    PresenceTarget,
    ScheduleFollowing,
    SourceLocation,
    WeeklyWindow,
)

Fn = Callable[[PresenceTarget], PresenceTarget]


def presence_problem(name: str, location: SourceLocation, catalog: PresenceCatalog) -> Diagnostic | None:
    """Why `name` does not resolve in `catalog`, or None when it does."""
    if catalog.resolve(name) is not None:
        return None
    names = catalog.names()
    guess = did_you_mean(name, names)
    hint = (f"did you mean '{guess}'? " if guess else "") + f"valid presences: {', '.join(names)}"
    return Diagnostic(location, f"unknown presence {name!r}", hint, name)


def unchecked_note(name: str, location: SourceLocation) -> Diagnostic | None:
    """Offline: a name that is not a system presence cannot be checked (it may be an org label)."""
    if is_system_presence_name(name):
        return None
    guess = did_you_mean(name, [p.label for p in SystemPresence], cutoff=0.8)
    hint = f"did you mean '{guess}'? " if guess else ""
    return Diagnostic(
        location,
        f"presence {name!r} is not a system presence; not checked against the org offline",
        f"{hint}validate without --offline to check secondary presence labels",
        name,
        NOTE,
    )


def _window(w: WeeklyWindow, fn: Fn) -> WeeklyWindow:
    return replace(w, presence=fn(w.presence))


def _schedule(s: ScheduleFollowing, fn: Fn) -> ScheduleFollowing:
    return replace(
        s,
        categories={k: fn(t) for k, t in s.categories.items()},
        activity_codes={k: fn(t) for k, t in s.activity_codes.items()},
        off_shift=fn(s.off_shift) if s.off_shift else None,
        time_off=fn(s.time_off) if s.time_off else None,
    )


def _exception(e: DatedException, fn: Fn) -> DatedException:
    return replace(
        e, presence=fn(e.presence) if e.presence else None, windows=tuple(_window(w, fn) for w in e.windows)
    )


def _override(o: Override, fn: Fn) -> Override:
    return replace(o, presence=fn(o.presence))


def _policy(p: PresencePolicy, fn: Fn) -> PresencePolicy:
    return replace(
        p,
        schedule=_schedule(p.schedule, fn) if p.schedule else None,
        windows=tuple(_window(w, fn) for w in p.windows),
        exceptions=tuple(_exception(e, fn) for e in p.exceptions),
        overrides=tuple(_override(o, fn) for o in p.overrides),
    )


def map_targets(state: DesiredState, fn: Fn) -> DesiredState:
    """`state` with every PresenceTarget replaced by fn(target), in document order."""
    return replace(
        state,
        policies=tuple(_policy(p, fn) for p in state.policies),
        mappings=tuple(replace(m, states={k: fn(t) for k, t in m.states.items()}) for m in state.mappings),
    )


def targets(state: DesiredState) -> list[PresenceTarget]:
    found: list[PresenceTarget] = []

    def collect(target: PresenceTarget) -> PresenceTarget:
        found.append(target)
        return target

    map_targets(state, collect)
    return found


def resolve_presences(state: DesiredState, catalog: PresenceCatalog) -> DesiredState:
    """`state` with every PresenceTarget.definition_id set; DesiredStateError names each unknown one."""
    problems: list[Diagnostic] = []

    def resolve(target: PresenceTarget) -> PresenceTarget:
        definition = catalog.resolve(target.name)
        if definition is None:
            problem = presence_problem(target.name, target.location, catalog)
            if problem is not None:
                problems.append(problem)
            return target
        return replace(target, definition_id=definition.id)

    resolved = map_targets(state, resolve)
    if problems:
        raise DesiredStateError(problems)
    return resolved
