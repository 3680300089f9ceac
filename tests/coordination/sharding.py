"""The issue's sharding scenario at any org size (tests/coordination/test_sharding.py runs it in
`make test`; bench/ha_takeover.py at 30,000 agents): three real daemons in sharded mode on a real
etcd, each with its own OAuth client of one emulator org.

1. Every agent is disturbed; each is corrected by exactly its rendezvous owner (the emulator's
   request log by OAuth client, and each member's audit log).
2. Every agent is disturbed again and a member is SIGKILLed right after its first write (mid-cycle):
   the survivors drop it from their views once its lease expires, and its agents are corrected by
   their new owners: the full cycle a membership change starts finds those disturbed before it,
   and those disturbed while the new owners were still subscribing to them are read again once
   the subscription is confirmed (the periodic resync, `resync` seconds, is the safety net; the
   issue's bound is TTL + one resync). Per agent, the victim's writes all come before the
   survivors', and no agent is written by two survivors.

Meanwhile a sampler reads every member's /healthz (role and membership view) over and over: in no
sample is an agent claimed by two members, and whenever the live members' views agree, every agent
is claimed by exactly one (between a kill and the lease's expiry the victim's agents are claimed by
nobody: they are still the dead member's in everyone's view).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

from controller.coordination import rendezvous_owner
from controller.core.presence import SystemPresence
from controller.emulator.control_client import EmulatorControl
from controller.emulator.server import RunningEmulator
from tests.coordination.replicas import Replica, desired_dir, presence, writers, writes
from tests.support.waiting import wait_for

MEMBERS = 3
WRITING_ROLES = ("leader", "member")


@dataclass
class Figures:
    agents: int
    lease_seconds: int
    shares: dict[str, int] = field(default_factory=dict)
    samples: int = 0  # /healthz rounds over every member
    agreed_samples: int = 0  # rounds in which the live members' views were the same
    double_claims: int = 0  # (sample, agent) pairs claimed by two members: must stay 0
    unclaimed_when_agreed: int = 0  # (sample, agent) pairs nobody claimed though views agreed: 0
    first_pass_seconds: float = 0.0  # everyone disturbed -> everyone corrected by its owner
    victim: str = ""
    victim_agents: int = 0
    left_by_victim: int = 0  # of its agents, those the survivors corrected
    views_seconds: float = 0.0  # kill -> the first sample with every survivor's view without it
    disturbed_seconds: float = 0.0  # kill -> the last agent disturbed (the disturbance goes on)
    reconciled_seconds: float = 0.0  # the last agent disturbed -> every agent Available again

    def lines(self) -> list[str]:
        return [
            f"{self.agents} agents, {MEMBERS} members, lease {self.lease_seconds} s; shares "
            + ", ".join(f"{m} {n}" for m, n in sorted(self.shares.items())),
            f"ownership sampled {self.samples} times ({self.agreed_samples} with agreeing views): "
            f"{self.double_claims} double claims, {self.unclaimed_when_agreed} unclaimed agents",
            f"every agent disturbed -> corrected by its owner in {self.first_pass_seconds:.2f} s",
            f"{self.victim} SIGKILLed after its first write: its {self.victim_agents} agents, "
            f"{self.left_by_victim} left to the survivors; survivors' views without it "
            f"{self.views_seconds:.2f} s after the kill; the disturbance went on for "
            f"{self.disturbed_seconds:.2f} s after the kill and every agent was Available "
            f"{self.reconciled_seconds:.2f} s after it ended",
        ]


class OwnershipSampler:
    """Samples every member's role and membership view; counts claims per agent per sample."""

    def __init__(self, replicas: list[Replica], agents: list[str], figures: Figures) -> None:
        self._replicas, self._agents, self._figures = replicas, agents, figures
        self._claims: dict[tuple[str, tuple[str, ...]], frozenset[str]] = {}
        self.agreed: list[tuple[float, tuple[str, ...]]] = []  # (when, view) as agreed views change
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ownership-sampler", daemon=True)

    def claimed(self, member: str, view: tuple[str, ...]) -> frozenset[str]:
        key = (member, view)
        if key not in self._claims:
            self._claims[key] = frozenset(a for a in self._agents if rendezvous_owner(a, view) == member)
        return self._claims[key]

    def sample(self) -> None:
        views: dict[str, tuple[str, ...]] = {}
        for replica in self._replicas:
            health = replica.health()
            if health.get("role") in WRITING_ROLES:
                views[replica.name] = tuple(health.get("members", ()))
        claims = [self.claimed(member, view) for member, view in views.items()]
        total = sum(len(c) for c in claims)
        distinct = len(frozenset().union(*claims)) if claims else 0
        figures = self._figures
        figures.samples += 1
        figures.double_claims += total - distinct
        if views and len(set(views.values())) == 1 and set(next(iter(views.values()))) == set(views):
            figures.agreed_samples += 1
            view = next(iter(views.values()))
            if not self.agreed or self.agreed[-1][1] != view:
                self.agreed.append((time.monotonic(), view))
            figures.unclaimed_when_agreed += len(self._agents) - distinct

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(0.05)  # pacing, not synchronisation

    def __enter__(self) -> OwnershipSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()  # and once more at the end


def available(emu: RunningEmulator, agents: Iterable[str]) -> bool:
    return all(presence(emu, a) is SystemPresence.AVAILABLE for a in agents)


def disturb(emu: RunningEmulator, agents: list[str]) -> None:
    """Every agent walks away by hand, eight control requests at a time."""
    local = threading.local()

    def one(agent: str) -> None:
        if not hasattr(local, "control"):
            local.control = EmulatorControl(emu.control.base_url)
        local.control.set_presence(agent, "Away")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, agents))


def audited(replica: Replica, since: int) -> set[str]:
    """Agents with a confirmed write in the replica's audit log from record `since`."""
    return {r["agent"]["id"] for r in replica.audit()[since:] if r["result"]["status"] == "ok"}


def subscribed(replica: Replica, share: int) -> bool:
    """The member's notification channels watch exactly its share (the platform confirmed them)."""
    try:
        return replica.metric('presencectl_stream_topics{state="permitted"}') == share
    except (AssertionError, requests.RequestException):
        return False


def run(emu: RunningEmulator, etcd_urls: list[str], root: Path, lease: int = 2, resync: int = 10) -> Figures:
    """The scenario above; raises AssertionError at the first broken promise."""
    ids = [a.id for a in emu.org.agents]
    everyone = set(ids)
    figures = Figures(len(ids), lease)
    directory = desired_dir(root, emu, etcd_urls, "sharded", lease, resync)
    replicas = [Replica(i, emu, directory, root) for i in range(MEMBERS)]
    names = sorted(r.name for r in replicas)
    try:
        wait_for(lambda: all(r.health().get("members") == names for r in replicas), "three members")
        wait_for(lambda: all(r.ready() for r in replicas), "every member ready")
        wait_for(lambda: available(emu, ids), "the first corrections")
        assert sorted(r.role() for r in replicas) == ["leader", "member", "member"]
        owner = {a: rendezvous_owner(a, names) for a in ids}
        figures.shares = {n: sum(o == n for o in owner.values()) for n in names}
        assert min(figures.shares.values()) > len(ids) // (2 * MEMBERS)  # each member has a real share
        # A member that started alone watched everyone at first: drift during its re-subscription
        # would only be seen by the next resync, so the first pass starts once the streams settled.
        wait_for(lambda: all(subscribed(r, figures.shares[r.name]) for r in replicas), "the streams")
        with OwnershipSampler(replicas, ids, figures) as sampler:
            # (A member alone at first owned everything: only writes with all three count from here.)
            emu.control.clear_requests()
            marks = {r.name: len(r.audit()) for r in replicas}
            started = time.monotonic()
            disturb(emu, ids)
            wait_for(lambda: available(emu, ids), "every agent corrected by its owner")
            figures.first_pass_seconds = time.monotonic() - started
            assert {a: set(c) for a, c in writers(emu).items()} == {a: {o} for a, o in owner.items()}
            wait_for(
                lambda: set().union(*(audited(r, marks[r.name]) for r in replicas)) == everyone,
                "the audit records of those writes",
            )
            for replica in replicas:  # the audit logs say the same
                assert audited(replica, marks[replica.name]) == {
                    a for a, o in owner.items() if o == replica.name
                }

            victim, survivors = replicas[0], replicas[1:]
            rest = sorted(r.name for r in survivors)
            mine = {a for a, o in owner.items() if o == victim.name}
            figures.victim, figures.victim_agents = victim.name, len(mine)
            emu.control.clear_requests()
            marks = {r.name: len(r.audit()) for r in replicas}
            kill: list[float] = []  # when it was sent (monotonic)
            killer = threading.Thread(target=kill_after_first_write, args=(emu, victim, kill), daemon=True)
            killer.start()
            disturb(emu, ids)
            disturbed = time.monotonic()
            killer.join()
            wait_for(lambda: all(r.health().get("members") == rest for r in survivors), "the member to leave")
            wait_for(lambda: available(emu, ids), "every agent reconciled by the remaining members")
            figures.reconciled_seconds = time.monotonic() - disturbed
            figures.disturbed_seconds = disturbed - kill[0]
            left = [at for at, view in sampler.agreed if at >= kill[0] and view == tuple(rest)]
            figures.views_seconds = left[0] - kill[0] if left else float("nan")
        assert figures.double_claims == 0 and figures.unclaimed_when_agreed == 0, figures
        check_handover(emu, owner, victim, rest, mine, figures)
        survivors_audited = {r.name: audited(r, marks[r.name]) for r in survivors}
        assert not set.intersection(*survivors_audited.values())  # no agent audited by two survivors
        assert audited(victim, marks[victim.name]) <= mine
        return figures
    finally:
        for r in replicas:
            r.stop()


def kill_after_first_write(emu: RunningEmulator, victim: Replica, sent: list[float]) -> None:
    wait_for(lambda: victim.client_id in writes(emu), "the victim's first write")
    victim.signal(signal.SIGKILL)
    sent.append(time.monotonic())


def check_handover(
    emu: RunningEmulator,
    owner: dict[str, str | None],
    victim: Replica,
    rest: list[str],
    mine: set[str],
    figures: Figures,
) -> None:
    """Per agent, in the emulator's order: the victim's writes (if any) all come before the
    survivors', the survivors never share an agent, and each writer is the agent's rendezvous
    owner among the members alive when it wrote."""
    by_agent = writers(emu)
    for agent, clients in by_agent.items():
        later = [c for c in clients if c != victim.client_id]
        assert clients == [victim.client_id] * (len(clients) - len(later)) + later, (agent, clients)
        expected = owner[agent] if agent not in mine else rendezvous_owner(agent, rest)
        assert set(later) <= {expected}, (agent, clients)
    left = {a for a in mine if any(c != victim.client_id for c in by_agent.get(a, []))}
    figures.left_by_victim = len(left)
    assert left, "the victim wrote all its agents before the kill: it was not killed mid-cycle"
