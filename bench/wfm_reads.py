"""WFM reads and bulk writes at real scale, against the in-process emulator (prints numbers only).

1. The directory read of 10,000 agents: calls before (management-unit membership from real-time
   adherence, 100 agents a call) and now (one users listing per business unit).
2. The schedules of those agents: search calls at the default chunk of 500 agents.
3. Write calls per corrected agent for each bulk-echo shape the emulator can give: now (one bulk
   PUT per 50 agents, confirmed by read-back) and with the old matching on `userId or id`, which
   re-PATCHed every agent whose answer entry it could not match.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

from controller.audit import AuditWriter
from controller.core.planner import Action, Plan
from controller.core.timeline import Reason, ReasonKind
from controller.emulator.generate import generate_org
from controller.emulator.platform import BULK_ECHOES, PlatformOptions
from controller.emulator.server import RunningEmulator, start_emulator
from controller.engine.executor import Executor
from controller.engine.org_reader import OrgReader
from controller.engine.session import connect
from controller.genesys import (
    BULK_PRESENCE_MAX,
    GenesysClient,
    PresenceUpdate,
    RateBudget,
    bulk_entry,
    chunks,
)
from controller.metrics import Metrics
from controller.model.types import Mode, PresenceTarget

RATE = 1_000_000
WFM = "workforcemanagement"


def _client(emu: RunningEmulator) -> GenesysClient:
    return connect(
        emu.api_base, emu.login_base, emu.client_id, emu.client_secret, RATE, budget=RateBudget(RATE)
    )


def _calls(emu: RunningEmulator) -> tuple[int, int]:
    counts = emu.control.request_counts()
    api = {k: v for k, v in counts.items() if " /api/v2/" in k}
    return sum(api.values()), sum(v for k, v in api.items() if WFM in k)


def directory_reads(agents: int = 10_000) -> None:
    org = generate_org(agents=agents, seed=1, days=2)
    with start_emulator(org=org, rate_limit=RATE) as emu, _client(emu) as client:
        emu.control.clear_requests()
        began = time.perf_counter()
        users = client.users.list_users(with_groups=True)
        old_units = {
            u: r.management_unit_id for u, r in client.wfm.realtime_adherence([u.id for u in users]).items()
        }
        for bu in client.wfm.business_units():
            client.wfm.management_units(bu.id)
        before_s = time.perf_counter() - began
        before_total, before_wfm = _calls(emu)

        emu.control.clear_requests()
        reader = OrgReader(client)
        began = time.perf_counter()
        now = emu.backend.clock.now()
        directory = reader.directory(now)
        after_s = time.perf_counter() - began
        after_total, after_wfm = _calls(emu)
        same = all(
            old_units.get(a.id) == a.management_unit_id for a in directory.agents if a.management_unit_id
        )
        units = f"{len(org.business_units)} BUs, {len(org.management_units)} MUs"
        print(f"directory read of {agents:,} agents ({units}):")
        for label, wfm, total, seconds in (
            ("before (adherence)", before_wfm, before_total, before_s),
            ("now (BU users listing)", after_wfm, after_total, after_s),
        ):
            print(f"  {label:24s} {wfm:4d} WFM calls, {total:4d} calls in all, {seconds:.2f} s")
        print(f"  same management units: {same}")

        emu.control.clear_requests()
        began = time.perf_counter()
        found = reader.schedules(directory, directory.business_unit_of.keys(), now)
        seconds = time.perf_counter() - began
        counts = emu.control.request_counts()
        searches = sum(v for k, v in counts.items() if k.endswith("agentschedules/search"))
        downloads = counts.get("GET /downloads/{downloadId}", 0)
        print(
            f"schedules of {len(found.by_agent):,} agents: {searches} searches of <= {reader.schedule_chunk} "
            f"agents, {downloads} downloads, {seconds:.2f} s"
        )


def _plan(user_ids: list[str], target: PresenceTarget) -> Plan:
    reason = Reason(ReasonKind.WINDOW, "bench", "bench window")
    actions = tuple(Action(u, "bench", "", "Offline", target, "", reason, Mode.ENFORCE) for u in user_ids)
    return Plan(
        now=datetime.now(UTC),
        actions=actions,
        skipped=(),
        decisions=(),
        adherence=(),
        managed=len(actions),
        held=False,
        held_reason="",
        limit=len(actions),
        conflicts=(),
    )


def write_calls(agents: int = 500) -> None:
    print(f"write calls per corrected agent ({agents} agents to Break, chunks of {BULK_PRESENCE_MAX}):")
    for echo in BULK_ECHOES:
        org = generate_org(agents=agents, seed=1, days=1)
        org.platform = PlatformOptions(bulk_presence_echo=echo)
        with (
            start_emulator(org=org, rate_limit=RATE) as emu,
            _client(emu) as client,
            TemporaryDirectory() as tmp,
        ):
            brk = client.presence.presence_catalog().resolve("Break")
            assert brk is not None
            ids = [a.id for a in org.agents]
            # The old rule against this platform's real answer: entries whose `userId or id` is not
            # a requested user id were PATCHed again.
            unmatched = 0
            for batch in chunks(ids, BULK_PRESENCE_MAX):
                body = [bulk_entry(PresenceUpdate(u, brk.id)) for u in batch]
                answer = client.transport.request("PUT", "/api/v2/users/presences/bulk", json=body).body
                unmatched += sum(1 for e in answer if (e.get("userId") or e.get("id")) not in set(batch))
            old = (len(chunks(ids, BULK_PRESENCE_MAX)) + unmatched) / agents

            emu.control.reset()
            emu.control.clear_requests()
            executor = Executor(
                client, AuditWriter(Path(tmp) / "audit.jsonl"), Metrics(), emu.backend.clock.now
            )
            report = executor.execute(_plan(ids, PresenceTarget("Break", definition_id=brk.id)), "bench")
            executor.close()
            counts = emu.control.request_counts()
            writes = counts.get("PUT /api/v2/users/presences/bulk", 0) + counts.get(
                "PATCH /api/v2/users/{userId}/presences/purecloud", 0
            )
            reads = counts.get("GET /api/v2/users/presences/purecloud/bulk", 0)
            print(
                f"  {echo:12s} now {writes / agents:.2f} ({writes} write calls, {reads} read-back calls, "
                f"{len(report.ok)} confirmed); matching on id: {old:.2f}"
            )


if __name__ == "__main__":
    directory_reads()
    write_calls()
