"""Load a desired/ directory: every file, every check, accepted as a whole or not at all.

Pipeline per file: safe YAML with positions (yamlsafe) -> JSON Schema (schema) -> typed kinds and
single-document checks (build); then checks across documents (semantic) and, with the org's
catalog, presence resolution (resolve). All diagnostics are collected before deciding, so one
run shows every problem, and nothing partial ever comes out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from controller.core.domain import Agent, PresenceCatalog
from controller.model.build import Built, build_document
from controller.model.errors import ERROR, WARNING, DesiredStateError, Diagnostic, sorted_diagnostics
from controller.model.resolve import presence_problem, resolve_presences, targets, unchecked_note
from controller.model.schema import check_document, without_unknown_fields
from controller.model.semantic import check_set
from controller.model.types import (
    ControllerConfig,
    DesiredState,
    EventSubscription,
    ExpiredOverride,
    PresenceMapping,
    PresencePolicy,
    SourceLocation,
)
from controller.model.yamlsafe import parse_yaml

SUFFIXES = (".yaml", ".yml")


def desired_files(directory: str | Path) -> list[Path]:
    """The *.yaml / *.yml files directly in `directory` (not recursive; dotfiles skipped), sorted."""
    root = Path(directory)
    if not root.is_dir():
        raise DesiredStateError(
            [
                Diagnostic(
                    SourceLocation(str(root), 0, 0), "not a readable directory", "give the desired/ directory"
                )
            ]
        )
    files = sorted(
        p for p in root.iterdir() if p.suffix in SUFFIXES and not p.name.startswith(".") and p.is_file()
    )
    if not files:
        raise DesiredStateError(
            [
                Diagnostic(
                    SourceLocation(str(root), 0, 0), "no *.yaml or *.yml files", "give the desired/ directory"
                )
            ]
        )
    return files


def _digest_entry(path: Path, data: bytes) -> bytes:
    return path.name.encode() + b"\0" + data + b"\0"


def content_digest(directory: str | Path) -> str:
    """The digest `load_desired` gives the directory's current files, without parsing them: a
    reload whose digest matches the state in force has nothing to do (and costs no API call).
    Unreadable files are left out, as the loader leaves them out; DesiredStateError as
    `desired_files` raises it."""
    digest = hashlib.sha256()
    for path in desired_files(directory):
        try:
            digest.update(_digest_entry(path, path.read_bytes()))
        except OSError:
            continue
    return digest.hexdigest()


def check_files(
    files: Sequence[Path],
    *,
    now: datetime,
    catalog: PresenceCatalog | None = None,
    agents: Sequence[Agent] | None = None,
) -> tuple[DesiredState | None, list[Diagnostic]]:
    """The state (None when any error) and every diagnostic, notes included, sorted by place."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    digest = hashlib.sha256()
    diagnostics: list[Diagnostic] = []
    built: list[Built] = []
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            diagnostics.append(
                Diagnostic(SourceLocation(str(path), 0, 0), f"cannot read file: {exc.strerror}", "")
            )
            continue
        digest.update(_digest_entry(path, data))
        documents, problems = parse_yaml(str(path), data)
        diagnostics += problems
        if problems:
            continue  # judging a half-read file would only add confusing follow-up errors
        for doc in documents:
            kind, problems = check_document(doc)
            diagnostics += problems
            if kind is None:
                continue
            # Unknown fields alone do not stop the document's other checks: every error in one pass.
            usable = without_unknown_fields(doc, kind) if problems else doc
            if usable is None:
                continue
            item, problems = build_document(usable, kind, now)
            diagnostics += problems
            if item is not None:
                built.append(item)
    built, expired = _without_expired_overrides(built, now)
    diagnostics += [expiry_warning(e, now) for e in expired]
    diagnostics += check_set(built, agents)
    state = replace(_assemble(built, digest.hexdigest()), expired=expired)
    names = _rule_names(built)
    if catalog is None:
        notes = (unchecked_note(t.name, t.location) for t in targets(state))
        diagnostics += [n for n in notes if n is not None]
        diagnostics += [n for n in (unchecked_note(*name) for name in names) if n is not None]
    else:
        diagnostics += [p for p in (presence_problem(*name, catalog) for name in names) if p is not None]
        try:
            state = resolve_presences(state, catalog)
        except DesiredStateError as exc:
            diagnostics += exc.diagnostics
    failed = any(d.severity == ERROR for d in diagnostics)
    return (None if failed else state), sorted_diagnostics(diagnostics)


def load_files(
    files: Sequence[Path],
    *,
    now: datetime,
    catalog: PresenceCatalog | None = None,
    agents: Sequence[Agent] | None = None,
) -> DesiredState:
    state, diagnostics = check_files(files, now=now, catalog=catalog, agents=agents)
    if state is None:
        raise DesiredStateError(d for d in diagnostics if d.severity == ERROR)
    return state


def load_desired(
    directory: str | Path,
    *,
    now: datetime,
    catalog: PresenceCatalog | None = None,
    agents: Sequence[Agent] | None = None,
) -> DesiredState:
    """Load and check every file of `directory`; raises DesiredStateError with all the reasons.

    `now` (aware) judges overrides; `catalog` resolves presence names to definition ids (without
    it, definition ids stay None and only system presence names are checked); `agents` turns on
    the checks against the org's agents (unknown users, one policy per agent).
    """
    return load_files(desired_files(directory), now=now, catalog=catalog, agents=agents)


def expiry_warning(expired: ExpiredOverride, now: datetime) -> Diagnostic:
    o = expired.override
    return Diagnostic(
        expired.location,
        f"override for {o.agent} in policy '{expired.policy}' expired at "
        f"{o.until.isoformat(timespec='seconds')} (now is {now.isoformat(timespec='seconds')}); "
        "it is ignored",
        "remove it from the file (validate --strict makes this an error)",
        o.until.isoformat(),
        WARNING,
    )


def _without_expired_overrides(
    built: Sequence[Built], now: datetime
) -> tuple[list[Built], tuple[ExpiredOverride, ...]]:
    """Policies without the overrides `now` has passed (an expired override is simply over, never
    an error: a file nobody touched must not turn invalid at an instant), and those overrides."""
    kept: list[Built] = []
    expired: list[ExpiredOverride] = []
    for b in built:
        if isinstance(b.obj, PresencePolicy) and any(o.until <= now for o in b.obj.overrides):
            for i, o in enumerate(b.obj.overrides):
                if o.until <= now:
                    expired.append(ExpiredOverride(b.name, o, b.doc.at(("spec", "overrides", i, "until"))))
            live = tuple(o for o in b.obj.overrides if o.until > now)
            b = replace(b, obj=replace(b.obj, overrides=live))
        kept.append(b)
    return kept, tuple(expired)


def _assemble(built: Sequence[Built], digest: str) -> DesiredState:
    configs = [b.obj for b in built if isinstance(b.obj, ControllerConfig)]
    return DesiredState(
        policies=tuple(b.obj for b in built if isinstance(b.obj, PresencePolicy)),
        mappings=tuple(b.obj for b in built if isinstance(b.obj, PresenceMapping)),
        subscriptions=tuple(b.obj for b in built if isinstance(b.obj, EventSubscription)),
        config=configs[0] if configs else ControllerConfig(),
        digest=digest,
    )


def _rule_names(built: Sequence[Built]) -> list[tuple[str, SourceLocation]]:
    """Presence names in rules lists (plain strings in the typed kinds), with where they are written."""
    found = []
    for b in built:
        if isinstance(b.obj, PresencePolicy):
            rules = b.doc.value["spec"].get("rules", {})
            for field in ("messageRequired", "allowedPresences"):
                for i, name in enumerate(rules.get(field, ())):
                    found.append((name, b.doc.at(("spec", "rules", field, i))))
    return found
