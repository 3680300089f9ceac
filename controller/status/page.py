"""The status page as one self-contained HTML document (no external assets: it must work in
an air-gapped data center). Every value passes through html.escape; the script only submits
the filter form and reloads the page on a timer."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from urllib.parse import urlencode

from controller.status.view import AgentFilter, AgentsPage, PolicyRow, StatusView

# The page needs nothing from outside: inline style and script, no images but the empty icon.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

_FILTER_LABELS = {
    AgentFilter.ALL: "all agents",
    AgentFilter.OUT: "out of desired",
    AgentFilter.SKIPPED: "skipped",
    AgentFilter.HELD: "held",
}

_STYLE = """
*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:#1d2330;background:#f5f6f8}
header,main{padding:12px 16px}
header{background:#1d2330;color:#fff}
h1{font-size:20px;margin:0 0 8px}
h2{font-size:16px;margin:20px 0 8px}
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:6px 16px;margin:0}
.facts div{min-width:0}.facts dt{font-size:11px;text-transform:uppercase;opacity:.7}
.facts dd{margin:0;overflow-wrap:anywhere}
.banner{padding:8px 12px;border-radius:4px;margin:8px 0;background:#fde2e1;color:#7a1612}
.scroll{overflow-x:auto;background:#fff;border:1px solid #d8dbe2;border-radius:4px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eceef2;vertical-align:top;white-space:nowrap}
th{background:#eef0f4;font-weight:600;position:sticky;top:0}
td.why{white-space:normal;min-width:220px}
tr.out td{background:#fff4e5}
.tag{display:inline-block;padding:0 6px;border-radius:8px;background:#e3e7ee;font-size:12px}
.tag.out,.tag.correcting{background:#ffd9a8}.tag.held{background:#f6b8b4}.tag.in-desired{background:#c9ecd2}
small,.muted{color:#5b6473}
form.filters{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin:0 0 8px}
input[type=search]{flex:1 1 220px;min-width:0;padding:6px 8px;font-size:14px}
select,button{padding:6px 8px;font-size:14px}
nav.pager{display:flex;gap:12px;align-items:center;margin:8px 0}
code{font-size:12px}
@media (max-width:600px){header,main{padding:8px}th,td{padding:4px 6px}.facts{grid-template-columns:1fr 1fr}}
"""

_SCRIPT = """
(function(){
  var form=document.getElementById('filters');
  var search=document.getElementById('q');
  var timer=null;
  document.getElementById('filter').addEventListener('change',function(){form.submit();});
  search.addEventListener('input',function(){
    clearTimeout(timer);
    timer=setTimeout(function(){form.submit();},400);
  });
  var every=parseInt(document.body.getAttribute('data-refresh'),10);
  if(every>0){
    setInterval(function(){if(document.activeElement!==search){location.reload();}},every*1000);
  }
})();
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _fact(label: str, value: str, ident: str) -> str:
    return f'<div><dt>{_e(label)}</dt><dd id="{ident}">{value}</dd></div>'


def _when(iso: str) -> str:
    """An ISO instant as people read it: 2026-12-15 10:00:03 UTC."""
    return _e(iso.replace("T", " ").replace("+00:00", " UTC")) if iso else "-"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} %"


def _header(view: StatusView) -> str:
    h = view.header
    loaded = f"<code>{_e(h.digest[:12] or '-')}</code> <small>loaded {_when(h.loaded_at)}</small>"
    agents = "agent changes" if h.changing_at_next == 1 else "agents change"
    nxt = (
        f"{_when(h.next_boundary)} <small>({h.changing_at_next} {agents})</small>" if h.next_boundary else "-"
    )
    budget = f"{h.calls_last_minute} / {h.budget_per_minute} calls a minute ({h.budget_share * 100:.1f} %)"
    facts = [
        _fact("desired state", loaded, "digest"),
        _fact("role", _e(h.role), "role"),
        _fact("stream", "connected" if h.stream_connected else "down (polling)", "stream"),
        _fact("budget use", _e(budget), "budget"),
        _fact("next boundary", nxt, "next-boundary"),
        _fact("last cycle", _when(h.last_cycle), "last-cycle"),
        _fact("page time", _when(h.now), "now"),
    ]
    banners = ""
    if h.desired_error:
        banners += (
            '<p class="banner" id="desired-error">desired/ rejected, the last good set stays in force: '
            f"{_e(h.desired_error)}</p>"
        )
    if h.held_reason:
        banners += f'<p class="banner" id="held-reason">plans held: {_e(h.held_reason)}</p>'
    return f'<header><h1>presencectl status</h1><dl class="facts">{"".join(facts)}</dl>{banners}</header>'


def _table(ident: str, head: Sequence[str], rows: Iterable[str]) -> str:
    ths = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join(rows)
    table = f'<table id="{ident}"><thead><tr>{ths}</tr></thead><tbody>{body}</tbody></table>'
    return f'<div class="scroll">{table}</div>'


def _policy_row(p: PolicyRow) -> str:
    skipped = ", ".join(f"{_e(k)} {v}" for k, v in sorted(p.skipped.items())) or "-"
    held = f'<span title="{_e(p.held_reason)}">{p.held} (see above)</span>' if p.held else "-"
    cells = [
        f"<td>{_e(p.name)}</td><td>{_e(p.mode)}</td><td>{'yes' if p.suspended else 'no'}</td>",
        f'<td data-k="managed">{p.managed}</td><td data-k="in">{p.in_desired}</td>',
        f'<td data-k="out">{p.out_of_desired}</td><td>{p.no_opinion}</td><td>{p.unobserved}</td>',
        f'<td class="why">{skipped}</td><td class="why">{held}</td>',
        f"<td>{_percent(p.adherence_now)}</td><td>{_percent(p.adherence_today)}</td>",
    ]
    return f'<tr data-policy="{_e(p.name)}">{"".join(cells)}</tr>'


def _policies(view: StatusView) -> str:
    head = [
        "policy",
        "mode",
        "suspended",
        "managed",
        "in desired",
        "out of desired",
        "no opinion",
        "unobserved",
        "skipped",
        "held",
        "adherence now",
        "adherence today",
    ]
    return "<h2>Policies</h2>" + _table("policies", head, (_policy_row(p) for p in view.policies))


def _link(page: AgentsPage, number: int, refresh: int) -> str:
    query = {
        "filter": page.filter.value,
        "q": page.query,
        "page": number,
        "size": page.size,
        "refresh": refresh,
    }
    return "?" + urlencode(query)


def _agents(view: StatusView, page: AgentsPage, refresh: int) -> str:
    options = "".join(
        f'<option value="{f.value}"{" selected" if f is page.filter else ""}>'
        f"{_e(_FILTER_LABELS[f])} ({view.counts.get(f.value, 0)})</option>"
        for f in AgentFilter
    )
    form = (
        f'<form class="filters" id="filters" method="get" action="">'
        f'<input type="search" id="q" name="q" value="{_e(page.query)}" '
        'placeholder="search agent, policy, presence" aria-label="search">'
        f'<select id="filter" name="filter" aria-label="filter">{options}</select>'
        f'<input type="hidden" name="size" value="{page.size}">'
        f'<input type="hidden" name="refresh" value="{refresh}">'
        '<button type="submit">show</button></form>'
    )
    first = (page.page - 1) * page.size + 1 if page.rows else 0
    last = first + len(page.rows) - 1 if page.rows else 0
    summary = (
        f'<p id="agents-summary" data-matching="{page.matching}" data-total="{len(view.agents)}">'
        f"{first}–{last} of {page.matching} matching ({len(view.agents)} managed agents)</p>"
    )
    rows = []
    for r in page.rows:
        where = f"<br><small><code>{_e(r.where)}</code></small>" if r.where else ""
        latency = f" <small>{r.last_latency_ms} ms</small>" if r.last_latency_ms is not None else ""
        last_cell = (
            f"{_e(r.last_action)} <small>{_when(r.last_at)}</small><br>{_e(r.last_result)}{latency}"
            if r.last_action
            else "-"
        )
        rows.append(
            f'<tr data-agent="{_e(r.email or r.user_id)}" data-state="{_e(r.state)}"'
            f"{' class=out' if r.out_of_desired else ''}>"
            f"<td>{_e(r.email or r.user_id)}<br><small>{_e(r.name)}</small></td><td>{_e(r.policy)}</td>"
            f'<td class="why">{_e(r.desired)}<br><small>{_e(r.why)}</small>{where}</td>'
            f"<td>{_e(r.live or 'unread')}<br><small>{_e(r.routing)}</small></td>"
            f'<td><span class="tag {_e(r.state)}">{_e(r.state)}</span></td><td>{last_cell}</td></tr>'
        )
    pager = ['<nav class="pager">']
    if page.page > 1:
        pager.append(f'<a id="prev" href="{_e(_link(page, page.page - 1, refresh))}">← previous</a>')
    pager.append(f'<span id="page-of">page {page.page} of {page.pages}</span>')
    if page.page < page.pages:
        pager.append(f'<a id="next" href="{_e(_link(page, page.page + 1, refresh))}">next →</a>')
    pager.append("</nav>")
    head = ["agent", "policy", "desired (why)", "live (routing)", "state", "last action"]
    return "<h2>Agents</h2>" + form + summary + _table("agents", head, rows) + "".join(pager)


def _corrections(view: StatusView) -> str:
    rows = [
        f"<tr><td>{_when(c.time)}</td><td>{_e(c.agent)}</td><td>{_e(c.policy)}</td>"
        f"<td>{_e(c.before)} → {_e(c.after)}</td><td>{_e(c.mode)}</td><td>{_e(c.result)}</td>"
        f"<td>{'' if c.latency_ms is None else f'{c.latency_ms} ms'}</td>"
        f'<td class="why">{_e(c.reason)}</td></tr>'
        for c in view.corrections
    ]
    head = ["time", "agent", "policy", "change", "mode", "result", "latency", "why"]
    return "<h2>Recent corrections</h2>" + _table("corrections", head, rows)


def render_page(view: StatusView, page: AgentsPage, refresh: int) -> str:
    """The whole document; `refresh` seconds between reloads (0: never)."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<link rel="icon" href="data:,"><title>presencectl status</title>'
        f'<style>{_STYLE}</style></head><body data-refresh="{max(0, refresh)}">'
        f"{_header(view)}<main>{_policies(view)}{_agents(view, page, refresh)}{_corrections(view)}</main>"
        f"<script>{_SCRIPT}</script></body></html>"
    )
