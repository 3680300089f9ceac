"""The demo org's catalog and agents, as the client would read them from the emulator."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from controller.core.domain import Agent, PresenceCatalog, PresenceDefinition
from controller.emulator.generate import generate_org
from controller.emulator.org import Org

# A fixed clock: the corpus and the example are judged at this instant.
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def catalog_of(org: Org) -> PresenceCatalog:
    return PresenceCatalog(
        tuple(
            PresenceDefinition(
                id=d.id,
                system_presence=d.system_presence,
                label=d.labels["en_US"],
                is_system=d.type == "System",
                deactivated=d.deactivated,
            )
            for d in org.presence_definitions
        )
    )


def agents_of(org: Org) -> list[Agent]:
    return [
        Agent(
            id=a.id,
            name=a.name,
            email=a.email,
            groups=frozenset(a.group_ids),
            management_unit_id=a.management_unit_id,
        )
        for a in org.agents
    ]


@pytest.fixture(scope="session")
def demo_org() -> Org:
    return generate_org(agents=50, days=0)


@pytest.fixture(scope="session")
def demo_catalog(demo_org: Org) -> PresenceCatalog:
    return catalog_of(demo_org)


@pytest.fixture(scope="session")
def demo_agents(demo_org: Org) -> list[Agent]:
    return agents_of(demo_org)
