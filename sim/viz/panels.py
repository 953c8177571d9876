"""The text parts of the browser view, as plain data and HTML: the network's legend, the
monitor row, the inspector's facts and an employee's state history.

Plain functions of a model (no Solara here), so they are tested without a browser.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from sim import palette
from sim.rules import STATE_NAMES, State

STATE_MEANINGS = {
    "unaware": "has not heard of it",
    "aware": "heard of it, not using it",
    "active": "engaged user",
    "nominal": "has a licence, does not use it",
    "lapsed": "used it, stopped",
    "blocked": "wants a seat, free plan full",
}
SVG_SHAPES = {  # a 14 x 14 px mark per matplotlib marker of palette.STATE_MARKERS
    "o": '<circle cx="7" cy="7" r="5.5" fill="{c}"/>',
    "D": '<path d="M7 1 L13 7 L7 13 L1 7 Z" fill="{c}"/>',
    "s": '<rect x="2" y="2" width="10" height="10" fill="{c}"/>',
    "v": '<path d="M1 2 L13 2 L7 13 Z" fill="{c}"/>',
    "X": '<path d="M2 4.5 L4.5 2 L7 4.5 L9.5 2 L12 4.5 L9.5 7 L12 9.5 L9.5 12 L7 9.5 '
    'L4.5 12 L2 9.5 L4.5 7 Z" fill="{c}"/>',
}


def mark(shape: str, colour: str, size: int = 14) -> str:
    """An inline SVG of one network marker."""
    body = SVG_SHAPES[shape].format(c=colour)
    return (
        f'<svg width="{size}" height="{size}" viewBox="0 0 14 14" aria-hidden="true" '
        f'style="vertical-align:-2px">{body}</svg>'
    )


def legend_html() -> str:
    """The network's legend: each state's colour and shape with what it means, the paid
    workspace mark, the selected employee's ring, and the two kinds of line."""
    items = []
    for name in STATE_NAMES:
        items.append(
            f"<span class='legend-item' title='{STATE_MEANINGS[name]}'>"
            f"{mark(palette.STATE_MARKERS[name], palette.STATE_COLOURS[name])} "
            f"<b>{name}</b> <span class='legend-note'>{STATE_MEANINGS[name]}</span></span>"
        )
    paid = (
        '<svg width="14" height="14" viewBox="0 0 14 14" aria-hidden="true" '
        'style="vertical-align:-2px"><circle cx="7" cy="7" r="5.5" fill="#009E73"/>'
        '<circle cx="7" cy="7" r="2.4" fill="#FFFFFF" stroke="#000000" stroke-width="0.9"/>'
        "</svg>"
    )
    ring = (
        '<svg width="14" height="14" viewBox="0 0 14 14" aria-hidden="true" '
        'style="vertical-align:-2px"><circle cx="7" cy="7" r="5" fill="none" '
        'stroke="#000000" stroke-width="2"/></svg>'
    )

    def line(colour: str, label: str) -> str:
        return (
            "<span class='legend-item'><svg width='18' height='8' aria-hidden='true'>"
            f"<line x1='0' y1='4' x2='18' y2='4' stroke='{colour}' stroke-width='2'/>"
            f"</svg> {label}</span>"
        )

    items.append(f"<span class='legend-item'>{paid} in a paid workspace (centre dot)</span>")
    items.append(f"<span class='legend-item'>{ring} inspected employee</span>")
    items.append(line(palette.MUTED, "reports to"))
    items.append(line("#5B7DB1", "informal tie"))
    return "<div class='network-legend'>" + "".join(items) + "</div>"


def money(value: float, currency: str) -> str:
    """'USD 12,345' (whole units; 'USD 1.2M' from a million)."""
    if abs(value) >= 1e6:
        return f"{currency} {value / 1e6:,.1f}M"
    return f"{currency} {value:,.0f}"


def monitor_items(m: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) of each monitor, from :meth:`VizModel.monitors`."""
    shelf = m["shelfware_share"]
    finished = m["week"] >= m["weeks"]
    return [
        ("week", f"{m['week']} of {m['weeks']}" + (" · finished" if finished else "")),
        ("active", f"{100 * m['active_share']:.1f}%"),
        ("seats paid for", f"{m['seats']:,.0f}"),
        ("shelfware", "–" if shelf is None else f"{100 * shelf:.1f}% of seats"),
        ("cost this week", money(m["cost_week"], m["currency"])),
        ("cost to date", money(m["cost_to_date"], m["currency"])),
        ("conversions", f"{m['conversions']:,.0f} paid workspaces"),
    ]


def monitors_html(m: dict[str, Any]) -> str:
    """The monitor row."""
    cells = "".join(
        f"<div class='monitor' data-monitor='{html.escape(label)}'>"
        f"<div class='monitor-label'>{html.escape(label)}</div>"
        f"<div class='monitor-value'>{html.escape(value)}</div></div>"
        for label, value in monitor_items(m)
    )
    return f"<div class='monitors'>{cells}</div>"


def runs(history: list[int]) -> list[tuple[int, int, int]]:
    """Run-length encoding of a weekly state history: (state, first week, last week)."""
    out: list[tuple[int, int, int]] = []
    for week, value in enumerate(history):
        if out and out[-1][0] == value:
            out[-1] = (value, out[-1][1], week)
        else:
            out.append((value, week, week))
    return out


def text_on(colour: str) -> str:
    """Black or white, whichever reads better on ``colour`` (WCAG relative luminance)."""
    rgb = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#000000" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "#FFFFFF"


def history_html(history: list[int]) -> str:
    """The state history as coloured runs, e.g. '0–3 unaware | 4–9 aware | ...'."""
    chips = []
    for value, first, last in runs(history):
        name = State(value).name.lower()
        colour = palette.STATE_COLOURS[name]
        weeks = f"{first}" if first == last else f"{first}–{last}"
        chips.append(
            f"<span class='history-chip' style='background:{colour};color:{text_on(colour)}'>"
            f"{weeks} {name}</span>"
        )
    return "<div class='state-history'>" + "".join(chips) + "</div>"


def department_heads(org) -> dict[int, int]:
    """Department -> its most senior member below the top of the hierarchy (the top is
    shown as 'top of the hierarchy', never as the head of the department it sits in)."""
    heads: dict[int, int] = {}
    for i in np.lexsort((np.arange(org.n), org.level)):
        i = int(i)
        if i != org.head and org.manager[i] >= 0:
            heads.setdefault(int(org.department[i]), i)
    return heads


def jump_targets(model) -> dict[str, int]:
    """The inspector's 'Jump to' list: label -> employee."""
    org, ids = model.org, model.org.employee_ids
    picks = {f"{ids[org.head]} · top of the hierarchy": int(org.head)}
    for d, head in sorted(department_heads(org).items()):
        picks.setdefault(f"{ids[head]} · head of {org.department_names[d]}", head)
    for c in model.champions[:20]:
        picks.setdefault(f"{ids[c]} · champion", int(c))
    return picks


def employee_facts(model, i: int) -> dict[str, Any]:
    """What the inspector shows about employee ``i``, as label -> value."""
    org, e = model.org, model.employees[i]
    kinds: dict[str, int] = {}
    for _, _, kind in org.graph.edges(i, data="kind"):
        kinds[kind] = kinds.get(kind, 0) + 1
    ws = e.workspace
    share = e.weighted_users() / e.weighted_degree if e.weighted_degree > 0 else 0.0
    ids = org.employee_ids
    facts: dict[str, Any] = {
        "employee id": ids[i],
        "state": f"{State(e.state).name.lower()} ({STATE_MEANINGS[State(e.state).name.lower()]})",
        "licensed": ("yes" if e.licensed else "no")
        + (" (mandated or deal)" if e.licensed and e.pushed else ""),
        "reluctant (mandated non-user)": "yes" if e.reluctant else "no",
        "champion at week 0": "yes" if i in set(model.champions.tolist()) else "no",
        "department": org.department_names[org.department[i]],
        "team": org.team_name(org.team[i]),
    }
    if org.titles[i]:
        facts["title"] = org.titles[i]
    if org.locations[i]:
        facts["location"] = org.locations[i]
    return facts | {
        "level (0 = top)": int(org.level[i]),
        "manager": ids[org.manager[i]] if org.manager[i] >= 0 else "none (top of the hierarchy)",
        "direct reports": int(np.count_nonzero(org.manager == i)),
        "ties": ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) or "none",
        "active share of ties (weighted)": f"{share:.2f}",
        "threshold / k needed": f"{e.threshold:.3f} / {e.k_needed:.2f}",
        f"{model.config.freemium.workspace} workspace": (
            f"#{ws.index}, holder {ids[ws.holder_id]}, {len(ws.members)} members, "
            + ("paid" if ws.paid else "covered (trial)" if ws.covered else "free plan")
        ),
    }


def facts_html(facts: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td class='fact-label'>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>"
        for k, v in facts.items()
    )
    return f"<table class='facts'>{rows}</table>"
