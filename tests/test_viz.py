"""The browser view: layout, model factory, pictures, panels, and the page in Chromium.

The page tests start ``adoptsim viz``'s server once for the module, open the page in
headless Debian Chromium (Playwright with ``executable_path``; ``make test`` installs it)
at 1366x768, 1440x900 and 1920x1080, block and count every request that would leave
localhost (there must be none), and fail when a panel's content is clipped or overflows,
when a click on a node does not open it in the inspector, when stepping passes the last
week, or when the controls disagree with what runs.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

from sim.org import hierarchy, krackhardt
from sim.scenario import ScenarioError, load_scenario
from sim.viz import layout as layout_module
from sim.viz.controls import control_values as controls_of
from sim.viz.draw import LivePlots, department_columns, network_size, painter_for
from sim.viz.layout import layout_for, structural_layout
from sim.viz.model import ViewSpec, VizModel
from sim.viz.panels import jump_targets, monitor_items

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SMALL = """
name = "viz-small"
weeks = 40
replicates = 1
seed = 11
[org]
generator = "hierarchy"
n = 120
departments = 3
[seeding]
strategy = "random"
count = 8
[[plans]]
name = "bottom-up"
[[plans]]
name = "top-down"
seeding = { strategy = "none", count = 0 }
mandate = { enabled = true, week = 2 }
"""


@pytest.fixture
def small_scenario(tmp_path: Path) -> Path:
    path = tmp_path / "viz-small.toml"
    path.write_text(SMALL)
    return path


def test_layout_groups_departments_and_levels():
    org = hierarchy(600, span=6, departments=4, seed=3)
    lay = structural_layout(org)
    xy = lay.xy
    top = org.level == org.level.min()
    spans = []
    for d in range(4):
        mine = (org.department == d) & ~top
        spans.append((xy[mine, 0].min(), xy[mine, 0].max()))
        left, right = lay.columns[d]
        assert left <= spans[-1][0] and spans[-1][1] <= right  # inside its own column
    for (_, right), (left, _) in zip(spans, spans[1:], strict=False):
        assert right < left  # columns do not overlap
    levels = np.unique(org.level)
    for upper, lower in zip(levels, levels[1:], strict=False):
        assert xy[org.level == upper, 1].min() > xy[org.level == lower, 1].max()


def test_layout_computed_once(monkeypatch):
    org = krackhardt()
    calls = []
    real = layout_module.structural_layout
    monkeypatch.setattr(layout_module, "structural_layout", lambda o: calls.append(o) or real(o))
    first = layout_for(org)
    for _ in range(5):
        assert layout_for(org) is first
    assert len(calls) == 1
    assert np.isfinite(first.xy).all() and len(np.unique(first.xy, axis=0)) == org.n


def test_model_factory_plans_and_overrides(small_scenario: Path):
    spec = ViewSpec.load(small_scenario, "bottom-up")
    base = VizModel(spec=spec)
    assert base.plan_name == "bottom-up" and not base.config.mandate.enabled
    # no controls passed: the selected plan as written
    plain = VizModel(spec=spec, plan="top-down")
    assert plain.config.mandate.enabled and plain.config.seeding.count == 0
    assert plain.overrides == {}
    # every control passed is applied, even one equal to the launched plan's value
    # (the old page could never apply a launched plan's value to another plan)
    other = VizModel(spec=spec, plan="top-down", **controls_of(base.config))
    assert not other.config.mandate.enabled and other.config.seeding.count == 8
    assert other.running_values() == {"seed": 11, **controls_of(base.config)}
    moved = VizModel(spec=spec, plan="top-down", mandate_week=9, free_seats=-1, seed="5")
    assert moved.config.mandate.week == 9 and moved.config.freemium.free_seats is None
    assert moved.config.seed == 5 and "mandate_week=9" in moved.summary()
    for _ in range(3):
        moved.step()
    assert all(len(e.history) == 4 for e in moved.employees)
    bad_seed = VizModel(spec=spec, seed="twelve")
    assert bad_seed.config.seed == 11 and "not a whole number" in bad_seed.summary()
    with pytest.raises(ScenarioError, match="no plan 'nope'"):
        ViewSpec.load(small_scenario, "nope")


def test_stepping_stops_at_the_last_week(small_scenario: Path):
    """However many steps are asked for (Mesa's step, as a 'weeks per step' loop calls
    it), the run ends at the scenario's last week, and Mesa's step count with it."""
    model = VizModel(spec=ViewSpec.load(small_scenario))
    for _ in range(model.config.weeks + 9):
        model.step()
    assert model.week == model.config.weeks == 40
    assert model.steps == 40 and not model.running and model.finished
    assert len(model.recorder.weeks) == 41
    assert model.monitors()["week"] == 40


def test_monitors_are_this_weeks_counts(small_scenario: Path):
    model = VizModel(spec=ViewSpec.load(small_scenario), plan="top-down")
    for _ in range(6):
        model.step()
    m, latest = model.monitors(), model.latest
    assert m["week"] == 6 and m["weeks"] == 40
    assert m["active_share"] == pytest.approx(latest["active"] / model.org.n)
    assert m["seats"] == latest["seats"] > 0  # the mandate bought licences at week 2
    assert m["shelfware_share"] == pytest.approx(latest["shelfware"] / latest["seats"])
    assert m["cost_to_date"] == pytest.approx(
        sum(float(w["cost"][0]) for w in model.recorder.weeks)
    )
    assert m["cost_week"] == latest["cost"] and m["conversions"] == latest["paid_workspaces"]
    items = dict(monitor_items(m))
    assert items["week"] == "6 of 40" and items["cost to date"].startswith("USD ")


@pytest.mark.parametrize("size", [(660, 500), (900, 700), (1240, 880)])
def test_a_click_on_a_node_finds_that_node(size):
    """Every employee, clicked at the centre of its mark, is the one found; a click on
    empty paper finds nobody."""
    org = hierarchy(2000, span=8, departments=6, seed=4)
    painter = painter_for(org, size)
    for i in range(org.n):
        assert painter.node_at(*painter.fraction_of(i)) == i
    assert painter.node_at(0.001, 0.999) is None
    assert painter.node_px >= 6.0  # 2,000 people in a 660-px column: nodes of 6+ px


def test_network_fills_the_column_and_the_window():
    org = hierarchy(2000, span=8, departments=6, seed=4)
    lay = layout_for(org)
    for width, below in ((660, 620), (720, 760), (1180, 940)):
        w, h = network_size(width, below, lay)
        assert abs(w - width) <= 4 and h <= below + 4
        assert h >= min(below, width * 0.6) - 8  # as tall as the shape or the window allow


def test_department_labels_agree_between_network_and_plot():
    """Krackhardt's D0 holds only the top of the hierarchy, drawn above the columns: it
    is in neither the network's columns nor the department plot (it used to be D1-D4
    in one and D0-D4 in the other)."""
    org = krackhardt()
    model = type("M", (), {})()
    model.org, model.recorder = org, None
    model.config = load_scenario(ROOT / "scenarios" / "krackhardt.toml").plans[0].config
    plots = LivePlots(model, 600)
    plot_labels = [line.get_label() for line in plots.department_artists]
    network_labels = [org.department_names[d] for d in department_columns(layout_for(org))]
    assert plot_labels == network_labels == ["D1", "D2", "D3", "D4"]


def test_the_top_of_the_hierarchy_is_not_a_department_head():
    org = hierarchy(600, span=6, departments=4, seed=3)
    model = type("M", (), {"org": org, "champions": np.array([], dtype=np.int64)})()
    picks = jump_targets(model)
    top = [label for label, i in picks.items() if i == org.head]
    assert top == [f"{org.head} · top of the hierarchy"]
    heads = {label.split("head of ")[1]: i for label, i in picks.items() if "head of" in label}
    assert sorted(heads) == list(org.department_names)
    for name, i in heads.items():
        assert org.department_names[org.department[i]] == name and org.manager[i] >= 0


def test_every_numeric_control_shows_a_unit():
    from sim.viz.controls import CONTROLS, UNITS, shown

    by_name = {c.name: c for c in CONTROLS}
    for c in CONTROLS:
        if c.kind in ("float", "int", "optional_int"):
            assert c.name in UNITS, f"control {c.name} has no unit"
    assert shown(by_name["peer_influence"], 0.3) == "0.30 per week"
    assert shown(by_name["mandate_week"], 26) == "week 26"
    assert shown(by_name["free_seats"], -1) == "no cap"
    assert shown(by_name["free_seats"], 5) == "5 seats"
    assert shown(by_name["champions"], 1200) == "1,200 people"
    assert shown(by_name["mandate"], True) == "on"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_server(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited ({process.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"server not up after {timeout}s:\n{log.read_text()}")


SHOWN = """sel => [...document.querySelectorAll(sel)].filter(
    e => e.offsetWidth > 0 && e.complete && e.naturalWidth > 0).length"""


def test_controls_are_derived_from_the_schema_declarations():
    """Every field declared with control(...) is a control, its widget follows its type and
    range, and control values round-trip through a plan's configuration."""
    from sim.scenario import load_scenario
    from sim.viz.controls import CONTROLS, apply_controls, control_values

    by_name = {c.name: c for c in CONTROLS}
    assert set(by_name) == {
        "peer_influence",
        "seeding",
        "champions",
        "free_seats",
        "trial_weeks",
        "mandate",
        "mandate_week",
        "mandate_scope",
        "compliance",
    }
    assert (by_name["peer_influence"].section, by_name["peer_influence"].field) == ("adoption", "q")
    assert by_name["mandate"].kind == "checkbox"
    assert by_name["seeding"].choices == ("none", "random", "hubs", "brokers", "managers", "team")
    assert by_name["free_seats"].kind == "optional_int"
    assert (by_name["compliance"].low, by_name["compliance"].high) == (0, 1)

    spec = ViewSpec.load(ROOT / "scenarios" / "default.toml")
    params = spec.widgets()
    assert params["free_seats"]["type"] == "SliderInt" and params["free_seats"]["min"] == -1
    assert params["mandate_week"]["max"] == spec.prepared[0].config.weeks
    assert params["mandate_scope"]["values"][0] == "org"
    assert params["compliance"]["step"] == 0.05
    for plan in load_scenario(ROOT / "scenarios" / "default.toml").plans:
        assert apply_controls(plan.config, control_values(plan.config)) == plan.config


def test_an_unknown_control_is_named():

    spec = ViewSpec.load(ROOT / "scenarios" / "default.toml")
    with pytest.raises(ScenarioError, match=r"unknown control\(s\) \['warp'\]"):
        VizModel(spec=spec, warp=3)


# --- the page in Chromium: one server for the module, one page per window size ---

WINDOWS = [(1366, 768), (1440, 900), (1920, 1080)]
IMG_SHOWN = """sel => { const e = document.querySelector(sel);
    return !!e && e.complete && e.naturalWidth > 0 }"""
# the pictures are redrawn at the size the page settles on (first draws can be at the width
# a cell had before the sidebar and the fonts were in place)
SETTLED = """() => [...document.querySelectorAll('img.org-network, .plots img')].every(
    i => i.complete && Math.abs(i.naturalWidth - i.getBoundingClientRect().width) <= 12)"""
# Every panel of the page, and what overflowing means for it: content wider than the box
# (clipped or scrolled sideways), a picture cropped or stretched, or anything beyond the
# window's right edge.
LAYOUT_PROBLEMS = """() => {
  const problems = [];
  const panels = ['.monitor', '.network-legend', '.panel-network', '.panel-inspector',
                  '.plots', '.panel-run', '.panel-parameters', '.control', '.facts'];
  for (const sel of panels) {
    for (const e of document.querySelectorAll(sel)) {
      const r = e.getBoundingClientRect();
      if (r.width === 0) continue;
      // 4 px: Vuetify's select keeps an invisible input that far past its edge
      if (e.scrollWidth > e.clientWidth + 4)
        problems.push(`${sel} overflows sideways: ${e.scrollWidth} > ${e.clientWidth}`);
      if (r.right > window.innerWidth + 1)
        problems.push(`${sel} ends at ${r.right} px, beyond the window (${window.innerWidth})`);
      for (const c of e.querySelectorAll('*')) {
        const b = c.getBoundingClientRect();
        if (b.width > 0 && b.height > 0 && (b.right > r.right + 1 || b.left < r.left - 1))
          problems.push(`${sel}: a ${c.tagName} (${c.className}) sticks out of it`);
      }
    }
  }
  for (const img of document.querySelectorAll('img.org-network, .plots img')) {
    const r = img.getBoundingClientRect();
    const box = img.parentElement.getBoundingClientRect();
    const shown = r.width / r.height, drawn = img.naturalWidth / img.naturalHeight;
    if (Math.abs(shown / drawn - 1) > 0.02)
      problems.push(`${img.className} stretched: shown ${shown}, drawn ${drawn}`);
    if (Math.abs(img.naturalWidth - r.width) > 12)
      problems.push(`${img.className} drawn ${img.naturalWidth} px wide, shown ${r.width}`);
    if (r.right > box.right + 1 || r.bottom > box.bottom + 1)
      problems.push(`${img.className} cut by its box`);
  }
  return problems;
}"""


@pytest.fixture(scope="module")
def page_server(tmp_path_factory):
    """(url, spec) of one ``adoptsim viz`` server on the small scenario."""
    from sim.viz import serve

    assert CHROMIUM.exists(), "Debian chromium missing: `make test` installs it (apt)"
    folder = tmp_path_factory.mktemp("viz")
    scenario = folder / "viz-small.toml"
    scenario.write_text(SMALL)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log = folder / "solara.log"
    with log.open("w") as sink:
        server = serve.start(scenario, "bottom-up", port, stdout=sink, stderr=subprocess.STDOUT)
    try:
        wait_for_server(url, server, log, timeout=90)
        yield url, ViewSpec.load(scenario, "bottom-up")
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def open_page(browser, url: str, size: tuple[int, int], external: list[str]):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})

    def router(route):
        request_url = route.request.url
        host = urlparse(request_url).hostname
        if request_url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            return route.continue_()
        external.append(request_url)
        return route.abort()

    context.route("**/*", router)
    page = context.new_page()
    page.goto(url, wait_until="domcontentloaded")
    for selector in ("img.org-network", "img.plot-states", "img.plot-departments"):
        page.wait_for_function(IMG_SHOWN, arg=selector, timeout=90_000)
    page.wait_for_function(SETTLED, timeout=30_000)
    return context, page


def status(page):
    return page.locator(".run-status")


def monitor(page, label: str):
    """A monitor's value (a locator: assert with ``expect``, which waits for updates)."""
    return page.locator(f"[data-monitor='{label}'] .monitor-value")


def set_slider(page, name: str, presses: int) -> None:
    """Move a slider by keyboard (each press one step; released at once)."""
    page.locator(f".slider-{name} [role=slider]").first.focus()
    key = "ArrowRight" if presses > 0 else "ArrowLeft"
    for _ in range(abs(presses)):
        page.keyboard.press(key)


@pytest.mark.slow
@pytest.mark.parametrize("size", WINDOWS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_page_fits_the_window_and_a_click_inspects(page_server, browser, size, tmp_path):
    from playwright.sync_api import expect

    url, spec = page_server
    external: list[str] = []
    context, page = open_page(browser, url, size, external)
    try:
        assert page.title().startswith("adoptsim")
        assert page.get_by_text("This website runs on").count() == 0  # no Solara badge
        assert page.get_by_text(re.compile("^page 0$", re.I)).count() == 0  # no stray tab
        problems = page.evaluate(LAYOUT_PROBLEMS)
        assert problems == [], "\n".join(problems)
        network = page.locator("img.org-network").bounding_box()
        inspector = page.locator(".panel-inspector").bounding_box()
        # the network first and whole above the fold, the inspector beside it
        assert network["y"] + network["height"] <= size[1] + 1
        assert inspector["x"] >= network["x"] + network["width"] - 1
        assert inspector["y"] < network["y"] + network["height"]
        # click a node: the inspector shows that employee
        drawn = page.evaluate(
            "() => { const i = document.querySelector('img.org-network');"
            " return [i.naturalWidth, i.naturalHeight] }"
        )
        painter = painter_for(spec.prepared_plan("bottom-up").org, tuple(drawn))
        for employee in (57, 101):
            fx, fy = painter.fraction_of(employee)
            page.mouse.click(
                network["x"] + fx * network["width"], network["y"] + fy * network["height"]
            )
            page.locator(".inspector-title").filter(has_text=f"Employee {employee}").wait_for(
                timeout=30_000
            )
            # the id box follows in the same render, possibly a tick later: wait for it
            expect(page.locator(".employee-id input")).to_have_value(str(employee))
        page.screenshot(path=str(tmp_path / f"viz-{size[0]}.png"))
        page.locator(".plots").scroll_into_view_if_needed()
        problems = page.evaluate(LAYOUT_PROBLEMS)
        assert problems == [], "\n".join(problems)
    finally:
        context.close()
    assert external == [], f"requests left localhost: {external}"


@pytest.mark.slow
def test_stepping_stops_at_the_last_week_in_the_page(page_server, browser):
    from playwright.sync_api import expect

    url, spec = page_server
    context, page = open_page(browser, url, WINDOWS[0], [])
    try:
        expect(status(page)).to_have_text("Week 0 of 40")
        page.locator(".slider-weeks_per_step [role=slider]").first.focus()
        page.keyboard.press("End")  # the slider's top: 26 weeks per step
        page.locator(".control-weeks_per_step .control-value").filter(has_text="26 weeks").wait_for(
            timeout=10_000
        )
        step = page.get_by_role("button", name="Step", exact=True)
        step.click()
        page.get_by_text("Week 26 of 40", exact=True).wait_for(timeout=60_000)
        step.click()  # 26 more would be week 52: the run stops at 40
        page.get_by_text(re.compile("^Finished at week 40")).wait_for(timeout=60_000)
        expect(monitor(page, "week")).to_have_text("40 of 40 · finished")
        assert step.is_disabled()
        assert page.get_by_role("button", name="Play", exact=True).is_disabled()
    finally:
        context.close()


@pytest.mark.slow
def test_controls_show_what_runs(page_server, browser):
    """Choosing a plan shows that plan's values and runs it; a moved control is marked,
    runs, and resets to the plan's value; a bad seed gets a message and changes nothing.
    What runs is checked against the same model built here, week by week."""
    from playwright.sync_api import expect

    url, spec = page_server
    context, page = open_page(browser, url, WINDOWS[1], [])

    def control_value(name: str):
        return page.locator(f".control-{name} .control-value")

    def expected_active(plan: str, weeks: int, **overrides) -> str:
        model = VizModel(spec=spec, plan=plan, **overrides)
        for _ in range(weeks):
            model.step()
        return f"{100 * model.monitors()['active_share']:.1f}%"

    try:
        expect(control_value("mandate_week")).to_have_text("week 0")
        page.locator(".panel-parameters .v-select").first.click()
        page.get_by_role("option", name="top-down").click()
        page.get_by_text(re.compile("^plan top-down;")).wait_for(timeout=30_000)
        top_down = spec.values("top-down")
        expect(control_value("mandate_week")).to_have_text(f"week {top_down['mandate_week']}")
        expect(control_value("champions")).to_have_text(f"{top_down['champions']} people")
        expect(page.get_by_text("Mandate: on")).to_have_count(1)
        expect(page.locator(".overridden")).to_have_count(0)
        step = page.get_by_role("button", name="Step", exact=True)
        for week in (1, 2, 3, 4):
            step.click()
            page.get_by_text(f"Week {week} of 40", exact=True).wait_for(timeout=30_000)
        expect(monitor(page, "active")).to_have_text(expected_active("top-down", 4))

        for value in ("0.35", "0.40"):  # each press is applied: a restart at week 0
            set_slider(page, "compliance", 1)
            page.locator(".control-compliance .control-value").filter(
                has_text=f"{value} per week"
            ).wait_for(timeout=30_000)
            page.locator(".run-summary").filter(has_text=f"compliance={float(value):g};").wait_for(
                timeout=30_000
            )
        expect(status(page)).to_have_text("Week 0 of 40")
        marked = page.locator(".control-compliance.overridden")
        expect(marked).to_have_count(1)
        expect(marked).to_contain_text("plan: 0.30 per week")
        expect(page.locator(".run-summary")).to_contain_text("compliance=0.4")
        for week in (1, 2, 3, 4, 5, 6):
            step.click()
            page.get_by_text(f"Week {week} of 40", exact=True).wait_for(timeout=30_000)
        expect(monitor(page, "active")).to_have_text(expected_active("top-down", 6, compliance=0.4))

        marked.get_by_role("button", name="reset").click()
        page.get_by_text(re.compile("^plan top-down; seed 11")).wait_for(timeout=30_000)
        expect(page.locator(".overridden")).to_have_count(0)
        expect(control_value("compliance")).to_have_text("0.30 per week")

        seed = page.locator(".control-seed input")
        seed.fill("twelve")
        seed.press("Enter")
        page.get_by_text(re.compile("not a whole number")).wait_for(timeout=30_000)
        expect(page.locator(".run-summary")).to_contain_text("seed 11")
        assert page.locator(".control-seed .error--text").count() > 0  # the field says so
        expect(status(page)).to_have_text("Week 0 of 40")
    finally:
        context.close()
