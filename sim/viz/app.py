"""The browser page: ``solara run sim.viz.app`` (``adoptsim viz`` sets it up).

Mesa's SolaraViz pattern (a model, a controller that steps it, components that draw it)
as a Solara page of its own, because SolaraViz's fixed parts are what made the page hard
to read: a "Page 0" tab, a draggable grid of fixed-height panels that clipped growing
pictures, sliders without values, a parameter panel that kept the launched plan's values
and a Render Interval that stepped past the last week.

* Sidebar: run controls (Reset, Play/Pause, Step, weeks per step and pause with their
  values) and the plan's parameters.  The controls always show what is running: choosing
  a plan or moving a control restarts the run at week 0 with it, controls not moved show
  the selected plan's values, moved ones are marked and can be reset to the plan's.
  Bad input (a seed that is not a whole number, an employee id that does not exist, a
  value the plan cannot take) gets a message; nothing else changes.
* Main area: a monitor row, the network (as large as the window allows, drawn at the
  size shown; click a node to inspect it) with its HTML legend and the inspector beside
  it, then four plots (states, seats, cost, departments) in a grid that wraps.

Each browser session gets its own model; the org, its layout and the network painters
are shared.
"""

from __future__ import annotations

import base64
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import solara
import solara.lab
from reacton import ipyvuetify as v

from sim.scenario import ScenarioError
from sim.viz.controls import CONTROLS, Control, shown
from sim.viz.draw import LivePlots, network_size, painter_for
from sim.viz.layout import layout_for
from sim.viz.model import ViewSpec, VizModel, current_spec, parse_seed
from sim.viz.panels import (
    employee_facts,
    facts_html,
    history_html,
    jump_targets,
    legend_html,
    monitors_html,
)

PAUSE_MS = 40  # default pause between steps while playing (a frame takes longer anyway)
MAX_WEEKS_PER_STEP = 26
CAPTION_PX = 40  # room under the network for the run's one-line summary
CSS = """
.v-navigation-drawer { min-width: 320px !important; max-width: 320px !important;
  width: 320px !important; }
.adoptsim-main { min-width: 0; }
.monitors { display: flex; flex-wrap: wrap; gap: 8px; }
.monitor { border: 1px solid #ddd; border-radius: 6px; padding: 4px 10px; background: #fafafa;
  min-width: 0; }
.monitor-label { font-size: 11px; color: #555; text-transform: uppercase; letter-spacing: .03em; }
.monitor-value { font-size: 17px; font-weight: 600; white-space: nowrap; }
.top-row { display: flex; gap: 12px; align-items: flex-start; width: 100%; }
.panel-network { flex: 1 1 0; min-width: 0; }
.panel-inspector { flex: 0 0 330px; min-width: 0; font-size: 13px; overflow-wrap: anywhere; }
.network-legend { display: flex; flex-wrap: wrap; gap: 2px 14px; font-size: 13px;
  margin-bottom: 4px; }
.legend-item { white-space: nowrap; }
.legend-note { color: #666; }
.run-summary { font-size: 12px; color: #444; overflow-wrap: anywhere; }
.plots { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr));
  gap: 12px; width: 100%; }
.facts { font-size: 13px; border-collapse: collapse; width: 100%; }
.facts td { padding: 1px 8px 1px 0; vertical-align: top; }
.fact-label { color: #555; width: 45%; }
.state-history { display: flex; flex-wrap: wrap; gap: 2px; }
.history-chip { padding: 1px 6px; border-radius: 3px; font-size: 12px; }
.inspector-title { font-size: 16px; font-weight: 600; }
.hint { font-size: 12px; color: #555; }
.run-status { font-size: 15px; font-weight: 600; margin-bottom: 6px; }
.run-status.finished { color: #D55E00; }
.control { margin: 2px 0 6px 0; padding-left: 6px; border-left: 3px solid transparent; }
.control.overridden { border-left-color: #E69F00; }
.control-head { display: flex; justify-content: space-between; gap: 8px; font-size: 14px; }
.control-value { font-weight: 600; white-space: nowrap; }
.control-plan { font-size: 12px; color: #555; display: flex; align-items: center; gap: 6px; }
"""


@solara.component_vue("picture.vue")
def Picture(
    src: str = "",
    kind: str = "",
    alt: str = "",
    hint: str = "",
    clickable: bool = False,
    event_size: Any = None,
    event_click: Any = None,
) -> None:
    """An image drawn by the server at the size the page shows it (``picture.vue``)."""


def data_url(image: bytes, fmt: str) -> str:
    return f"data:image/{fmt};base64,{base64.b64encode(image).decode('ascii')}"


@dataclass(eq=False)
class Session:
    """One browser session's run: the model, what the page shows of it, and the play loop."""

    spec: ViewSpec
    model: solara.Reactive[VizModel]
    frame: solara.Reactive[int] = field(default_factory=lambda: solara.reactive(0))
    playing: solara.Reactive[bool] = field(default_factory=lambda: solara.reactive(False))
    weeks_per_step: solara.Reactive[int] = field(default_factory=lambda: solara.reactive(1))
    pause_ms: solara.Reactive[int] = field(default_factory=lambda: solara.reactive(PAUSE_MS))
    selected: solara.Reactive[int] = field(default_factory=lambda: solara.reactive(0))
    message: solara.Reactive[str] = field(default_factory=lambda: solara.reactive(""))
    seed_error: solara.Reactive[str] = field(default_factory=lambda: solara.reactive(""))
    network_box: solara.Reactive[tuple[int, int] | None] = field(
        default_factory=lambda: solara.reactive(None)
    )
    plot_width: solara.Reactive[int | None] = field(default_factory=lambda: solara.reactive(None))
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def start(cls, spec: ViewSpec) -> Session:
        return cls(spec, solara.reactive(VizModel(spec=spec)))

    def redraw(self) -> None:
        self.frame.set(self.frame.value + 1)

    def restart(self, plan: str | None = None, overrides: dict[str, Any] | None = None) -> None:
        """Run ``plan`` (the running one by default) with ``overrides`` (the running ones by
        default) from week 0; a refusal leaves the run as it was, with a message."""
        current = self.model.value
        plan = plan or current.plan_name
        overrides = dict(current.overrides if overrides is None else overrides)
        self.playing.set(False)
        seed = overrides.pop("seed", None)
        try:
            with self.lock:
                model = VizModel(spec=self.spec, plan=plan, seed=seed, **overrides)
        except ScenarioError as error:
            self.message.set(str(error))
            return
        self.message.set("")
        self.model.set(model)
        self.redraw()

    def set_control(self, name: str, value: Any) -> None:
        """Override one control; back at the plan's value, it follows the plan again."""
        model = self.model.value
        overrides = dict(model.overrides)
        if value == self.spec.values(model.plan_name)[name]:
            overrides.pop(name, None)
        else:
            overrides[name] = value
        self.restart(overrides=overrides)

    def reset_control(self, name: str) -> None:
        if name == "seed":
            self.seed_error.set("")
        overrides = dict(self.model.value.overrides)
        overrides.pop(name, None)
        self.restart(overrides=overrides)

    def set_seed(self, text: str | None) -> None:
        model = self.model.value
        parsed = parse_seed(text, -1)
        if parsed < 0 or str(text).strip() != str(parsed):
            self.seed_error.set(
                f"{text!r} is not a whole number from 0 to 2^63-1: "
                f"still running seed {model.config.seed}"
            )
            return
        self.seed_error.set("")
        self.set_control("seed", parsed)

    def advance(self) -> None:
        """Step ``weeks_per_step`` weeks, never past the last week."""
        model = self.model.value
        with self.lock:
            for _ in range(max(1, int(self.weeks_per_step.value))):
                if model.finished:
                    break
                model.step()
        if model.finished:
            self.playing.set(False)
        self.redraw()

    def play(self) -> None:
        """The play loop (a Solara task): step, redraw, pause, until paused or finished."""
        while self.playing.value and not self.model.value.finished:
            time.sleep(self.pause_ms.value / 1000)
            if not self.playing.value:
                return
            self.advance()
        if self.model.value.finished:
            self.playing.set(False)


@solara.component
def Page() -> None:
    """One page per browser session, with its own model."""
    spec = current_spec()
    session = solara.use_memo(lambda: Session.start(spec), [])
    solara.Title(f"adoptsim · {spec.scenario.name}")
    solara.Style(CSS)
    model = session.model.value
    solara.lab.use_task(  # noqa: SH101
        session.play, dependencies=[session.playing.value, model], prefer_threaded=True
    )
    with solara.Sidebar():
        RunPanel(session)
        ParameterPanel(session)
    with solara.Column(gap="10px", classes=["adoptsim-main"]):
        MainView(session)


@solara.component
def RunPanel(session: Session) -> None:
    """Reset, Play/Pause, Step; weeks per step and the pause, with their values."""
    session.frame.value  # noqa: B018  (redraw after every step)
    model = session.model.value
    playing = session.playing.value
    with solara.Card("Run", classes=["panel-run"]):
        if model.finished:
            status = f"Finished at week {model.week} (the scenario's last week)"
        else:
            status = f"Week {model.week} of {model.config.weeks}"
        css = "run-status finished" if model.finished else "run-status"
        solara.HTML(tag="div", unsafe_innerHTML=f"<div class='{css}'>{status}</div>")
        with solara.Row(gap="8px"):
            solara.Button(
                "Reset", on_click=lambda: session.restart(), color="primary", outlined=True
            )
            solara.Button(
                "Pause" if playing else "Play",
                on_click=lambda: session.playing.set(not playing),
                disabled=model.finished,
                color="primary",
            )
            solara.Button(
                "Step",
                on_click=session.advance,
                disabled=playing or model.finished,
                color="primary",
            )
        weeks = session.weeks_per_step.value
        LabelledSlider(
            name="weeks_per_step",
            label="Weeks per step",
            value=weeks,
            text=lambda n: f"{int(n)} week" + ("" if int(n) == 1 else "s"),
            low=1,
            high=MAX_WEEKS_PER_STEP,
            step=1,
            on_commit=lambda n: session.weeks_per_step.set(int(n)),
        )
        LabelledSlider(
            name="pause_ms",
            label="Pause between steps (playing)",
            value=session.pause_ms.value,
            text=lambda n: f"{int(n)} ms",
            low=0,
            high=1000,
            step=20,
            on_commit=lambda n: session.pause_ms.set(int(n)),
        )


@solara.component
def LabelledSlider(
    name: str,
    label: str,
    value: float,
    text,
    low: float,
    high: float,
    step: float,
    on_commit,
    overridden: bool = False,
    plan_text: str = "",
    on_reset=None,
) -> None:
    """A slider with its label and value (with unit) on a line above it; the value is
    applied when the slider is released (or moved with the keyboard)."""
    dragging, set_dragging = solara.use_state(None)
    current = value if dragging is None else dragging
    classes = ["control", f"control-{name}"] + (["overridden"] if overridden else [])
    with solara.Column(gap="0px", classes=classes):
        solara.HTML(
            tag="div",
            unsafe_innerHTML=(
                f"<div class='control-head'><span class='control-label'>{label}</span>"
                f"<span class='control-value'>{text(current)}</span></div>"
            ),
        )
        slider = v.Slider(
            v_model=current,
            on_v_model=set_dragging,
            min=low,
            max=high,
            step=step,
            hide_details=True,
            dense=True,
            class_=f"control-slider slider-{name}",
        )

        def commit(*args) -> None:
            set_dragging(None)
            on_commit(args[-1])

        v.use_event(slider, "change", commit)
        if overridden:
            PlanValue(plan_text, on_reset)


@solara.component
def PlanValue(plan_text: str, on_reset) -> None:
    """The mark of an overridden control: the plan's value and a button back to it."""
    with solara.Row(gap="6px", classes=["control-plan"]):
        solara.Text(f"changed · plan: {plan_text}")
        solara.Button("reset", on_click=on_reset, text=True, small=True, classes=["reset-control"])


@solara.component
def ParameterPanel(session: Session) -> None:
    """The plan, the seed and every control the schema declares, showing what runs."""
    session.frame.value  # noqa: B018
    model = session.model.value
    spec = session.spec
    plan_values = spec.values(model.plan_name)
    widgets = spec.widgets(model.plan_name)
    running = model.running_values()
    with solara.Card("Plan and parameters", classes=["panel-parameters"]):
        solara.Select(
            "Plan",
            values=spec.plan_names,
            value=model.plan_name,
            on_value=lambda plan: session.restart(plan=plan),
        )
        seed_overridden = "seed" in model.overrides
        with solara.Column(
            gap="0px",
            classes=["control", "control-seed"] + (["overridden"] if seed_overridden else []),
        ):
            solara.InputText(
                "Seed (whole number)",
                value=str(running["seed"]),
                on_value=session.set_seed,
                continuous_update=False,
                error=session.seed_error.value or False,
            )
            if seed_overridden:
                PlanValue(str(plan_values["seed"]), lambda: session.reset_control("seed"))
        for c in CONTROLS:
            ControlWidget(c, widgets[c.name], running[c.name], plan_values[c.name], session)
        if model.overrides:
            solara.Button(
                "Reset all to the plan's values",
                on_click=lambda: session.restart(overrides={}),
                outlined=True,
                classes=["reset-all"],
            )
        for note in model.notes:
            solara.Warning(note, classes=["control-message"], dense=True)
        if session.message.value:
            solara.Error(session.message.value, classes=["control-message"], dense=True)


@solara.component
def ControlWidget(
    c: Control, spec: dict[str, Any], value: Any, plan_value: Any, session: Session
) -> None:
    """One declared control at its running value; marked when it overrides the plan."""
    overridden = c.name in session.model.value.overrides
    plan_text = shown(c, plan_value)

    def reset() -> None:
        session.reset_control(c.name)

    if spec["type"] in ("SliderInt", "SliderFloat"):
        cast = float if spec["type"] == "SliderFloat" else int
        LabelledSlider(
            name=c.name,
            label=c.label,
            value=value,
            text=lambda x: shown(c, x),
            low=spec["min"],
            high=spec["max"],
            step=spec["step"],
            on_commit=lambda x: session.set_control(c.name, cast(round(float(x), 6))),
            overridden=overridden,
            plan_text=plan_text,
            on_reset=reset,
        )
        return
    classes = ["control", f"control-{c.name}"] + (["overridden"] if overridden else [])
    with solara.Column(gap="0px", classes=classes):
        if spec["type"] == "Checkbox":
            solara.Checkbox(
                label=f"{c.label}: {shown(c, value)}",
                value=bool(value),
                on_value=lambda x: session.set_control(c.name, bool(x)),
            )
        else:
            solara.Select(
                c.label,
                values=spec["values"],
                value=value,
                on_value=lambda x: session.set_control(c.name, x),
            )
        if overridden:
            PlanValue(plan_text, reset)


@solara.component
def MainView(session: Session) -> None:
    """Monitors; the network with its legend and the inspector beside it; the plots."""
    session.frame.value  # noqa: B018
    model = session.model.value
    solara.HTML(tag="div", unsafe_innerHTML=monitors_html(model.monitors()))
    with solara.Div(classes=["top-row"]):
        with solara.Div(classes=["panel-network"]):
            solara.HTML(tag="div", unsafe_innerHTML=legend_html())
            NetworkPicture(session)
            solara.Text(model.summary(), classes=["run-summary"])
        with solara.Div(classes=["panel-inspector"]):
            Inspector(session)
    with solara.Div(classes=["plots"]):
        for kind, title in (
            ("plot-states", "Adoption by state"),
            ("plot-seats", "Seats paid for vs engaged users"),
            ("plot-cost", "Cost"),
            ("plot-departments", "Active share by department"),
        ):
            PlotPicture(session, kind, title)


def live_plots(model: VizModel, width: int) -> LivePlots:
    """The model's plots at ``width`` px, built on first use."""
    cache = model.__dict__.setdefault("_live_plots", {})
    if width not in cache:
        cache.clear()
        cache[width] = LivePlots(model, width)
    return cache[width]


@solara.component
def NetworkPicture(session: Session) -> None:
    """The network at the size the page has for it; a click inspects the nearest node."""
    session.frame.value  # noqa: B018
    model = session.model.value
    box = session.network_box.value
    src, painter = "", None
    if box is not None:
        width, below = box
        size = network_size(width, below - CAPTION_PX, layout_for(model.org))
        painter = painter_for(model.org, size)
        state, _, _, paid = model.state_arrays()
        with session.lock:
            image = painter.render(
                state[:, 0], paid[:, 0][model.scope.of_agent], session.selected.value
            )
        src = data_url(image, "jpeg")

    def sized(data: dict[str, Any]) -> None:
        new = (int(data["width"]), int(data["below"]))
        if new != session.network_box.value:
            session.network_box.set(new)

    def clicked(data: dict[str, Any]) -> None:
        if painter is None:
            return
        node = painter.node_at(float(data["x"]), float(data["y"]))
        if node is not None:
            session.selected.set(node)

    Picture(
        src=src,
        kind="org-network",
        alt=f"the org's network at week {model.week}",
        hint="click a node to inspect that employee",
        clickable=True,
        event_size=sized,
        event_click=clicked,
    )


@solara.component
def PlotPicture(session: Session, kind: str, title: str) -> None:
    """One live plot at the width of its grid cell."""
    session.frame.value  # noqa: B018
    model = session.model.value
    width = session.plot_width.value
    src = ""
    if width is not None:
        plots = live_plots(model, width)
        draw = {
            "plot-states": plots.states_png,
            "plot-seats": plots.seats_png,
            "plot-cost": plots.cost_png,
            "plot-departments": plots.departments_png,
        }[kind]
        with session.lock:
            src = data_url(draw(), "png")

    def sized(data: dict[str, Any]) -> None:
        new = int(data["width"])
        if new != session.plot_width.value:
            session.plot_width.set(new)

    Picture(src=src, kind=kind, alt=title, event_size=sized)


@solara.component
def Inspector(session: Session) -> None:
    """Pick an employee (click a node, type an id or jump to one) to see attributes and
    the state history."""
    session.frame.value  # noqa: B018
    model = session.model.value
    org = model.org
    i = min(max(int(session.selected.value or 0), 0), org.n - 1)
    picks = jump_targets(model)
    current = next((label for label, j in picks.items() if j == i), None)
    error, set_error = solara.use_state("")

    def by_id(text: str | None) -> None:
        text = (text or "").strip()
        j = org.index_of(text)
        if j is None and text.isdigit() and org.employee_ids == tuple(map(str, range(org.n))):
            j = int(text) if int(text) < org.n else None
        if j is None:
            set_error(f"No employee {text!r} (ids {org.employee_ids[0]}–{org.employee_ids[-1]})")
            return
        set_error("")
        session.selected.set(j)

    e = model.employees[i]
    with solara.Column(gap="6px", classes=["inspector"]):
        solara.HTML(
            tag="div",
            unsafe_innerHTML=(
                f"<div class='inspector-title'>Employee {org.employee_ids[i]}</div>"
                "<div class='hint'>Ringed in the network. Click a node to inspect another.</div>"
            ),
        )
        with solara.Row(gap="8px"):
            solara.InputText(
                "Employee id",
                value=org.employee_ids[i],
                on_value=by_id,
                error=error or False,
                classes=["employee-id"],
            )
            solara.Select(
                "Jump to",
                values=list(picks),
                value=current,
                on_value=lambda label: label and session.selected.set(picks[label]),
                classes=["jump-to"],
            )
        solara.HTML(
            tag="div",
            unsafe_innerHTML=(
                facts_html(employee_facts(model, i))
                + "<div style='margin-top:6px'><b>State history</b> (weeks: state)</div>"
                + history_html(e.history)
            ),
        )
