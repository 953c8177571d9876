"""The Solara page: ``solara run sim.viz.app`` (``adoptsim viz`` sets it up).

A Mesa ``SolaraViz`` page with the controls (plan, seed, main parameters, Step / play /
Reset), the org network, three live plots and an employee inspector.  Each browser
session gets its own model; the org, its layout and the network painter are shared.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import solara
from mesa.visualization import SolaraViz

from sim.rules import State
from sim.viz.draw import NETWORK_FORMAT, STATE_COLOURS, LivePlots, painter_for
from sim.viz.model import VizModel, current_spec

PLAY_INTERVAL_MS = 40  # pause between steps while playing (a frame takes longer anyway)
selected = solara.reactive(0)  # the inspected employee (Solara keeps one value per session)


def live_plots(model: VizModel) -> LivePlots:
    """The model's plot figures, built on first use."""
    plots = model.__dict__.get("_live_plots")
    if plots is None:
        plots = model.__dict__["_live_plots"] = LivePlots(model)
    return plots


def NetworkView(model: VizModel) -> None:
    """The org network in its fixed structural layout, one colour per state."""
    state, _, _, paid = model.state_arrays()
    image = painter_for(model.org).render(
        state[:, 0], paid[:, 0][model.scope.of_agent], selected.value, model.week
    )
    with solara.Column(gap="4px"):
        solara.Image(image, format=NETWORK_FORMAT, width="100%", classes=["org-network"])
        solara.Text(model.summary(), style={"font-size": "12px", "color": "#555"})


def StatesPlot(model: VizModel) -> None:
    """Adoption curves: share of employees in each state."""
    solara.Image(live_plots(model).states_png(), width="100%", classes=["plot-states"])


def SeatsPlot(model: VizModel) -> None:
    """Seats paid for against engaged users."""
    solara.Image(live_plots(model).seats_png(), width="100%", classes=["plot-seats"])


def DepartmentsPlot(model: VizModel) -> None:
    """Active share per department."""
    solara.Image(live_plots(model).departments_png(), width="100%", classes=["plot-departments"])


def runs(history: list[int]) -> list[tuple[int, int, int]]:
    """Run-length encoding of a weekly state history: (state, first week, last week)."""
    out: list[tuple[int, int, int]] = []
    for week, value in enumerate(history):
        if out and out[-1][0] == value:
            out[-1] = (value, out[-1][1], week)
        else:
            out.append((value, week, week))
    return out


def employee_facts(model: VizModel, i: int) -> dict[str, Any]:
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
        "state": State(e.state).name.lower(),
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
        "manager": ids[org.manager[i]] if org.manager[i] >= 0 else "none (top)",
        "direct reports": int(np.count_nonzero(org.manager == i)),
        "ties": ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) or "none",
        "active share of ties (weighted)": f"{share:.2f}",
        "threshold / k needed": f"{e.threshold:.3f} / {e.k_needed:.2f}",
        f"{model.config.freemium.workspace} workspace": (
            f"#{ws.index}, holder {ids[ws.holder_id]}, {len(ws.members)} members, "
            + ("paid" if ws.paid else "covered (trial)" if ws.covered else "free plan")
        ),
    }


def history_html(history: list[int]) -> str:
    """The state history as coloured runs, e.g. 'weeks 0-3 unaware | 4-9 aware | ...'."""
    chips = []
    for value, first, last in runs(history):
        colour = STATE_COLOURS[State(value)]
        weeks = f"{first}" if first == last else f"{first}–{last}"
        chips.append(
            f'<span style="background:{colour};padding:1px 6px;margin:1px;border-radius:3px;'
            f'display:inline-block;font-size:12px">{weeks} {State(value).name.lower()}</span>'
        )
    return "<div class='state-history'>" + "".join(chips) + "</div>"


def Inspector(model: VizModel) -> None:
    """Pick an employee (id or a short list) to see attributes and state history."""
    n = model.org.n
    i = min(max(int(selected.value or 0), 0), n - 1)
    ids = model.org.employee_ids
    picks = {f"{ids[model.org.head]} · top of the hierarchy": model.org.head}
    for d, head in enumerate(model.org.department_heads()):
        if head >= 0:
            name = model.org.department_names[d]
            picks.setdefault(f"{ids[head]} · head of {name}", int(head))
    for c in model.champions[:20]:
        picks.setdefault(f"{ids[c]} · champion", int(c))
    e = model.employees[i]
    with solara.Column(gap="4px"):
        with solara.Row():
            solara.InputInt(
                f"Employee id (0–{n - 1})",
                value=i,
                on_value=lambda v: selected.set(min(max(int(v or 0), 0), n - 1)),
            )
            solara.Select(
                "Jump to",
                value=None,
                values=list(picks),
                on_value=lambda label: label and selected.set(picks[label]),
            )
        facts = employee_facts(model, i)
        rows = "".join(
            f"<tr><td style='color:#666;padding-right:12px'>{html.escape(k)}</td>"
            f"<td>{html.escape(str(v))}</td></tr>"
            for k, v in facts.items()
        )
        solara.HTML(
            tag="div",
            unsafe_innerHTML=(
                f"<b>Employee {i}</b> (ringed in the network)"
                f"<table style='font-size:13px'>{rows}</table>"
                f"<div style='margin-top:6px'><b>State history</b> (week: state)</div>"
                + history_html(e.history)
            ),
        )


@solara.component
def Page() -> None:
    """One SolaraViz page per browser session, with its own model."""
    spec = current_spec()
    model = solara.use_memo(lambda: VizModel(spec=spec), [])
    SolaraViz(
        model,
        components=[
            (NetworkView, 0),
            (StatesPlot, 0),
            (SeatsPlot, 0),
            (DepartmentsPlot, 0),
            (Inspector, 0),
        ],
        model_params=spec.model_params(),
        name=f"adoptsim · {spec.scenario.name}",
        play_interval=PLAY_INTERVAL_MS,
    )
