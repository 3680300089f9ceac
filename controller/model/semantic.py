"""Checks across documents: unique names, one ControllerConfig, one policy per agent, known agents."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from controller.core.domain import Agent
from controller.model.build import Built
from controller.model.errors import Diagnostic
from controller.model.schema import did_you_mean
from controller.model.types import PresenceMapping, PresencePolicy, SourceLocation
from controller.model.yamlsafe import PathT

_SELECTOR_FIELDS = (
    ("userIds", "user id"),
    ("emails", "e-mail"),
    ("groups", "group"),
    ("managementUnits", "management unit"),
)


def check_set(built: Sequence[Built], agents: Sequence[Agent] | None) -> list[Diagnostic]:
    policies = [b for b in built if isinstance(b.obj, PresencePolicy)]
    diagnostics = _duplicate_names(built) + _configs(built) + _mapped_twice(built)
    literal, pairs = _literal_selection(policies)
    diagnostics += literal
    if agents is not None:
        diagnostics += _agents(policies, agents, pairs)
    return diagnostics


def _duplicate_names(built: Sequence[Built]) -> list[Diagnostic]:
    first: dict[tuple[str, str], SourceLocation] = {}
    out = []
    for b in built:
        where = b.doc.at(("metadata", "name"))
        seen = first.setdefault((b.kind, b.name), where)
        if seen is not where:
            out.append(
                Diagnostic(
                    where,
                    f"duplicate {b.kind} name '{b.name}' (first defined at {seen})",
                    "names must be unique per kind; rename one",
                    b.name,
                )
            )
    return out


def _configs(built: Sequence[Built]) -> list[Diagnostic]:
    configs = [b for b in built if b.kind == "ControllerConfig"]
    first = configs[0].doc.at(("kind",)) if configs else None
    return [
        Diagnostic(
            b.doc.at(("kind",)),
            f"more than one ControllerConfig (first at {first})",
            "keep one ControllerConfig and merge the settings into it",
            b.name,
        )
        for b in configs[1:]
    ]


def _mapped_twice(built: Sequence[Built]) -> list[Diagnostic]:
    """One external state mapped by two PresenceMappings would make the result depend on file order."""
    first: dict[str, tuple[str, SourceLocation]] = {}
    out = []
    for b in built:
        if not isinstance(b.obj, PresenceMapping):
            continue
        for state in b.obj.states:
            where = b.doc.key_at(("spec", "states", state))
            seen = first.setdefault(state, (b.name, where))
            if seen[0] != b.name:
                out.append(
                    Diagnostic(
                        where,
                        f"state '{state}' is already mapped by PresenceMapping '{seen[0]}' at {seen[1]}",
                        "map each external state once",
                        state,
                    )
                )
    return out


def _entries(policy: Built) -> list[tuple[str, str, str, PathT]]:
    """(field, label, comparable value, path) of each selector entry as written."""
    selector = policy.doc.value["spec"]["agents"]
    return [
        (name, label, value.casefold() if name == "emails" else value, ("spec", "agents", name, i))
        for name, label in _SELECTOR_FIELDS
        for i, value in enumerate(selector.get(name, ()))
    ]


def _literal_selection(policies: Sequence[Built]) -> tuple[list[Diagnostic], set[tuple[str, str]]]:
    """The same id/e-mail/group/MU written in two policies; and which policy pairs that concerns."""
    owner: dict[tuple[str, str], tuple[str, SourceLocation]] = {}
    out: list[Diagnostic] = []
    pairs: set[tuple[str, str]] = set()
    for policy in policies:
        for name, label, value, path in _entries(policy):
            where = policy.doc.at(path)
            first = owner.setdefault((name, value), (policy.name, where))
            if first[0] != policy.name:
                pairs.add((first[0], policy.name))
                out.append(
                    Diagnostic(
                        where,
                        f"{label} '{value}' is already selected by policy '{first[0]}' at {first[1]}",
                        "an agent may be managed by one policy only; remove it from one of them",
                        value,
                    )
                )
    return out, pairs


def _agents(
    policies: Sequence[Built], agents: Sequence[Agent], reported: set[tuple[str, str]]
) -> list[Diagnostic]:
    by_id = {a.id: a for a in agents}
    by_email = {a.email.casefold(): a for a in agents}
    members: dict[tuple[str, str], set[str]] = defaultdict(set)
    for a in agents:
        for group in a.groups:
            members[("groups", group)].add(a.id)
        if a.management_unit_id is not None:
            members[("managementUnits", a.management_unit_id)].add(a.id)
    # A directory without group or MU data (e.g. users listed without expand) cannot judge those ids.
    knows = {
        "groups": any(a.groups for a in agents),
        "managementUnits": any(a.management_unit_id for a in agents),
    }
    out: list[Diagnostic] = []
    owners: dict[str, str] = {}
    shared: dict[tuple[str, str], list[str]] = defaultdict(list)
    for policy in policies:
        selected: set[str] = set()
        complete = True  # False when the directory cannot tell every selected agent
        for name, label, value, path in _entries(policy):
            complete = complete and knows.get(name, True)
            where = policy.doc.at(path)
            if name == "userIds":
                found = {value} if value in by_id else set()
            elif name == "emails":
                found = {by_email[value].id} if value in by_email else set()
            else:
                found = members.get((name, value), set())
            if not found and knows.get(name, True):
                out.append(_unknown(where, name, label, value, by_email))
            selected |= found
        assert isinstance(policy.obj, PresencePolicy)
        for i, override in enumerate(policy.obj.overrides):
            where = policy.doc.at(("spec", "overrides", i, "agent"))
            agent = by_id.get(override.agent) or by_email.get(override.agent.casefold())
            if agent is None:
                field = "userIds" if override.agent in by_id or "@" not in override.agent else "emails"
                out.append(_unknown(where, field, "override agent", override.agent, by_email))
            elif complete and agent.id not in selected:
                out.append(
                    Diagnostic(
                        where,
                        f"override for {override.agent!r}, an agent this policy does not select",
                        "add the agent to spec.agents, or move the override to the policy that selects them",
                        override.agent,
                    )
                )
        for agent_id in sorted(selected):
            first = owners.setdefault(agent_id, policy.name)
            if first != policy.name:
                shared[(first, policy.name)].append(agent_id)
    where_of = {p.name: p.doc.at(("spec", "agents")) for p in policies}
    for (first, second), ids in shared.items():
        if (first, second) in reported:
            continue
        example = min(by_id[i].email for i in ids)
        out.append(
            Diagnostic(
                where_of[second],
                f"policies '{first}' and '{second}' both select {len(ids)} agent(s), e.g. {example}",
                "an agent may be managed by one policy only; narrow one of the selectors",
                len(ids),
            )
        )
    return out


def _unknown(
    where: SourceLocation, field: str, label: str, value: str, by_email: dict[str, Agent]
) -> Diagnostic:
    if field == "emails":
        guess = did_you_mean(value, by_email, cutoff=0.9) if len(by_email) <= 20000 else None
        hint = f"did you mean '{guess}'?" if guess else "no agent of the org has this e-mail"
        return Diagnostic(where, f"unknown {label} '{value}'", hint, value)
    if field in ("groups", "managementUnits"):
        return Diagnostic(where, f"no agent is in {label} '{value}'", f"check the {label} id", value)
    return Diagnostic(where, f"unknown {label} '{value}'", "no agent of the org has this user id", value)
