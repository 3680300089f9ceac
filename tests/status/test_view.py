"""The status view model and page without a browser: filtering, search, paging, escaping."""

from __future__ import annotations

from dataclasses import replace

from controller.status.audit_tail import audit_tail
from controller.status.page import render_page
from controller.status.view import (
    AgentFilter,
    AgentRow,
    Header,
    StatusView,
    select_agents_page,
)

HEADER = Header("2026-12-15T10:00:00+00:00", "abc", "", "", "single", True, 3, 300, 0.01, "", "", 0, "")
ROW = AgentRow(
    "u", "a@x", "A", "p", "On Queue", "window", "policy.yaml:3", "Away", "OFF_QUEUE",
    "correcting", True, "", "", None, "",
)  # fmt: skip


def _view(n: int) -> StatusView:
    rows = []
    for i in range(n):
        state = ("correcting", "held", "grace", "in-desired")[i % 4]
        rows.append(
            replace(ROW, user_id=f"u{i:05}", email=f"agent{i:05}@x", state=state, out_of_desired=i % 4 != 3)
        )
    counts = {f.value: 0 for f in AgentFilter}
    return StatusView(HEADER, (), tuple(rows), (), counts)


def test_agents_are_filtered_searched_and_paged_server_side() -> None:
    view = _view(10_000)
    assert select_agents_page(view, AgentFilter.HELD).matching == 2_500
    assert select_agents_page(view, AgentFilter.SKIPPED).matching == 2_500  # grace only
    assert select_agents_page(view, AgentFilter.OUT).matching == 7_500
    page = select_agents_page(view, AgentFilter.ALL, "", page=3, size=100)
    assert page.pages == 100 and [r.email for r in page.rows][:1] == ["agent00200@x"]
    assert select_agents_page(view, AgentFilter.ALL, "AGENT09999").rows[0].user_id == "u09999"
    assert select_agents_page(view, page=10**6).page == 100  # clamped, never an empty page past the end
    assert select_agents_page(view, size=10**6).size == 500
    html = render_page(view, select_agents_page(view), refresh=0)
    assert html.count("<tr data-agent=") == 100


def test_every_value_is_escaped() -> None:
    evil = '<script>alert("x")</script>'
    view = StatusView(replace(HEADER, desired_error=evil), (), (replace(ROW, name=evil, why=evil),), (), {})
    html = render_page(view, select_agents_page(view, AgentFilter.ALL, evil), refresh=0)
    assert evil not in html and "&lt;script&gt;" in html


def test_audit_tail_reads_the_end_and_skips_a_torn_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "audit.jsonl"
    lines = [f'{{"time": "2026-12-15T10:00:{i:02}Z", "n": {i}}}' for i in range(60)]
    path.write_text("\n".join(lines) + '\n{"time": "torn')
    tail = audit_tail(path, count=5, window=400)
    assert [r["n"] for r in tail] == [55, 56, 57, 58, 59]
    assert audit_tail(tmp_path / "absent.jsonl") == ()
