"""What `presencectl simulate` prints (pure): the hourly table, the JSON document, the SVG
chart, and the agent-by-agent comparison of two desired sets.

Hours are local hours of the chosen time zone. A boundary's calls are made within one minute
(the planner's writes and their read-back), so its share of the budget is calls / ratePerMinute;
an hour's share is its calls / (60 × ratePerMinute). The chart is written directly as SVG (a
few dozen elements; no plotting dependency to install or keep), readable without a legend:
each series is labelled where it is drawn.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from controller.core.simulate import BoundaryStep, Day


@dataclass(frozen=True, slots=True)
class Hour:
    start: datetime  # local
    boundaries: int
    changing: int
    writes: int
    bulk_calls: int
    api_calls: int
    budget_share: float  # of the hour's budget
    burst_calls: int  # the most calls of one boundary in the hour
    burst_at: datetime | None  # local
    burst_share: float  # of one minute's budget
    held: int


@dataclass(frozen=True, slots=True)
class Difference:
    """From `at` on, `agents` agents are desired in `theirs` by one set and `ours` by the other."""

    at: datetime  # local
    agents: int
    ours: str
    theirs: str


def hourly(day: Day, tz: str) -> list[Hour]:
    zone = ZoneInfo(tz)
    first = day.start.astimezone(zone).replace(minute=0, second=0, microsecond=0)
    hours: list[Hour] = []
    t = first
    while t < day.end.astimezone(zone):
        nxt = (t.astimezone(ZoneInfo("UTC")) + timedelta(hours=1)).astimezone(zone)
        steps = [s for s in day.steps if t <= s.at.astimezone(zone) < nxt]
        burst: BoundaryStep | None = max(steps, key=lambda s: s.api_calls, default=None)
        calls = sum(s.api_calls for s in steps)
        hours.append(
            Hour(
                start=t,
                boundaries=len(steps),
                changing=sum(s.changing for s in steps),
                writes=sum(s.writes for s in steps),
                bulk_calls=sum(s.bulk_calls for s in steps),
                api_calls=calls,
                budget_share=calls / (60 * day.rate_per_minute),
                burst_calls=burst.api_calls if burst else 0,
                burst_at=burst.at.astimezone(zone) if burst else None,
                burst_share=(burst.api_calls / day.rate_per_minute) if burst else 0.0,
                held=sum(s.held for s in steps),
            )
        )
        t = nxt
    return hours


def differences(ours: Day, theirs: Day, tz: str) -> list[Difference]:
    """Where the two sets' desired presences part, agent by agent, at each boundary of either:
    only differences that start at that instant are listed (an agent already listed with the
    same pair is not repeated)."""
    zone = ZoneInfo(tz)
    instants = sorted({ours.start} | {s.at for s in ours.steps} | {s.at for s in theirs.steps})
    listed: dict[str, tuple[str, str]] = {}
    out: list[Difference] = []
    for t in instants:
        a, b = ours.desired_at(t), theirs.desired_at(t)
        now: dict[str, tuple[str, str]] = {}
        for uid in sorted(a.keys() | b.keys()):
            pair = (a.get(uid, "unmanaged"), b.get(uid, "unmanaged"))
            if pair[0] != pair[1]:
                now[uid] = pair
        fresh = Counter(pair for uid, pair in now.items() if listed.get(uid) != pair)
        out.extend(Difference(t.astimezone(zone), n, o, th) for (o, th), n in sorted(fresh.items()))
        listed = now
    return out


def _hhmm(t: datetime | None) -> str:
    return f"{t:%H:%M}" if t is not None else "-"


def table(day: Day, tz: str, title: str) -> str:
    rows = hourly(day, tz)
    head = f"{'hour':<6} {'changing':>8} {'writes':>7} {'bulk':>5} {'API calls':>9} {'budget':>7}  "
    head += f"{'biggest burst':<24} {'held':>5}"
    lines = [title, head]
    for h in rows:
        burst = (
            f"{h.burst_calls} calls at {_hhmm(h.burst_at)} ({h.burst_share:.0%})" if h.burst_calls else "-"
        )
        lines.append(
            f"{h.start:%H:%M}  {h.changing:>8} {h.writes:>7} {h.bulk_calls:>5} {h.api_calls:>9} "
            f"{h.budget_share:>7.1%}  {burst:<24} {h.held:>5}"
        )
    calls = sum(h.api_calls for h in rows)
    lines.append(
        f"{'day':<6} {sum(h.changing for h in rows):>8} {sum(h.writes for h in rows):>7} "
        f"{sum(h.bulk_calls for h in rows):>5} {calls:>9} "
        f"{calls / (len(rows) * 60 * day.rate_per_minute) if rows else 0:>7.1%}  "
        f"{len(day.steps)} boundaries, {day.managed} managed agents, budget {day.rate_per_minute}/min"
    )
    return "\n".join(lines)


def difference_lines(diffs: list[Difference], ours: str, theirs: str) -> str:
    if not diffs:
        return f"{theirs} and {ours} want the same presence for every agent all day"
    return "\n".join(
        f"{d.at:%H:%M}  {d.agents:,} {'agent' if d.agents == 1 else 'agents'}: "
        f"{d.ours} ({ours}) -> {d.theirs} ({theirs})"
        for d in diffs
    )


def _step_json(step: BoundaryStep) -> dict[str, Any]:
    return {
        "at": step.at.isoformat(),
        "changing": step.changing,
        "writes": step.writes,
        "bulkCalls": step.bulk_calls,
        "singleCalls": step.single_calls,
        "readCalls": step.read_calls,
        "apiCalls": step.api_calls,
        "held": step.held,
    }


def day_json(day: Day, tz: str) -> dict[str, Any]:
    hours = []
    for h in hourly(day, tz):
        row = asdict(h)
        row["start"] = h.start.isoformat()
        row["burst_at"] = h.burst_at.isoformat() if h.burst_at else None
        hours.append(row)
    return {
        "start": day.start.isoformat(),
        "end": day.end.isoformat(),
        "timezone": tz,
        "managed": day.managed,
        "ratePerMinute": day.rate_per_minute,
        "hours": hours,
        "boundaries": [_step_json(s) for s in day.steps],
    }


# ---- SVG ----

_W, _H = 960, 400
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 72, 56, 48
_COLOURS = ("#2f6db5", "#e07b22")


def _text(x: float, y: float, body: str, **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{escape(v)}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(body)}</text>'


def svg_chart(days: list[tuple[str, Day]], tz: str, title: str) -> str:
    """Writes per hour (bars, one colour per desired set) and each hour's peak share of a minute's
    budget (line), over the day."""
    series = [(name, hourly(day, tz)) for name, day in days]
    n = max(len(rows) for _, rows in series)
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    top_writes = max([h.writes for _, rows in series for h in rows] + [1]) * (1 + 0.12 * len(series))
    top_share = max([h.burst_share for _, rows in series for h in rows] + [0.01])
    slot = plot_w / n
    bar = slot * 0.8 / len(series)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}" '
        'font-family="system-ui,sans-serif" font-size="12">',
        f'<rect width="{_W}" height="{_H}" fill="#ffffff"/>',
        _text(_LEFT, 24, title, font_size="16", font_weight="600"),
        _text(
            _LEFT,
            42,
            "bars: writes in the hour (left axis)   line: biggest burst, % of a minute's budget (right axis)",
            fill="#555",
        ),
    ]
    base = _TOP + plot_h
    for i in range(5):  # grid and both axes' ticks
        y = base - plot_h * i / 4
        out.append(f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{_LEFT + plot_w}" y2="{y:.1f}" stroke="#e3e3e3"/>')
        out.append(_text(_LEFT - 6, y + 4, f"{top_writes * i / 4:.0f}", text_anchor="end", fill="#333"))
        out.append(_text(_LEFT + plot_w + 6, y + 4, f"{top_share * 100 * i / 4:.1f} %", fill="#333"))
    labels = [
        f'<rect x="{_LEFT + 2}" y="{_TOP}" width="560" height="{8 + 16 * len(series)}" '
        'fill="#fff" opacity="0.9"/>'
    ]
    for idx, (name, rows) in enumerate(series):
        colour = _COLOURS[idx % len(_COLOURS)]
        for j, h in enumerate(rows):
            height = plot_h * h.writes / top_writes
            x = _LEFT + j * slot + slot * 0.1 + idx * bar
            out.append(
                f'<rect x="{x:.1f}" y="{base - height:.1f}" width="{bar:.1f}" height="{height:.1f}" '
                f'fill="{colour}"><title>{escape(name)} {h.start:%H:%M}: {h.writes} writes, '
                f"{h.api_calls} API calls</title></rect>"
            )
            if h.writes and len(series) == 1:
                out.append(
                    _text(x + bar / 2, base - height - 3, str(h.writes), text_anchor="middle", font_size="10")
                )
        points = " ".join(
            f"{_LEFT + (j + 0.5) * slot:.1f},{base - plot_h * h.burst_share / top_share:.1f}"
            for j, h in enumerate(rows)
        )
        out.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" '
            'stroke-width="2" stroke-dasharray="5 3"/>'
        )
        peak = max(rows, key=lambda h: h.burst_calls)
        label = (
            f"{name}: {sum(h.writes for h in rows):,} writes, {sum(h.api_calls for h in rows):,} API calls; "
            f"biggest burst {peak.burst_calls} calls at {_hhmm(peak.burst_at)}"
        )
        y = _TOP + 14 + 16 * idx
        labels.append(f'<rect x="{_LEFT + 8}" y="{y - 9}" width="10" height="10" fill="{colour}"/>')
        labels.append(_text(_LEFT + 24, y, label, fill=colour, font_weight="600"))
    out.extend(labels)
    for j in range(0, n, 2):
        out.append(_text(_LEFT + (j + 0.5) * slot, base + 16, f"{j:02d}h", text_anchor="middle", fill="#333"))
    out.append(
        _text(_LEFT + plot_w / 2, _H - 10, f"hour of the day ({tz})", text_anchor="middle", fill="#333")
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"
