"""The browser view: the structural layout, the model factory, and an end-to-end check.

The end-to-end test starts ``adoptsim viz``'s server on a free port, opens the page in
headless Debian Chromium (Playwright with ``executable_path``; ``make test`` installs it),
blocks and counts every request that would leave localhost (there must be none), checks
that the network and the plots are drawn, clicks Step and sees the step counter and a
plot change, and saves a screenshot under the test's temp dir.
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
from sim.scenario import ScenarioError
from sim.viz import layout as layout_module
from sim.viz.controls import control_values as controls_of
from sim.viz.layout import layout_for, structural_layout
from sim.viz.model import ViewSpec, VizModel

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
    # untouched controls follow the selected plan
    other = VizModel(spec=spec, plan="top-down", **controls_of(base.config))
    assert other.config.mandate.enabled and other.config.seeding.count == 0
    # a moved control overrides it
    moved = VizModel(spec=spec, plan="top-down", mandate_week=9, free_seats=-1, seed="5")
    assert moved.config.mandate.week == 9 and moved.config.freemium.free_seats is None
    assert moved.config.seed == 5 and "mandate_week=9" in moved.summary()
    for _ in range(3):
        moved.step()
    assert all(len(e.history) == 4 for e in moved.employees)
    with pytest.raises(ScenarioError, match="no plan 'nope'"):
        ViewSpec.load(small_scenario, "nope")


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


@pytest.mark.slow
def test_browser_view_end_to_end(small_scenario: Path, tmp_path: Path):
    from playwright.sync_api import sync_playwright

    from sim.viz import serve

    assert CHROMIUM.exists(), "Debian chromium missing: `make test` installs it (apt)"
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log = tmp_path / "solara.log"
    with log.open("w") as sink:
        server = serve.start(
            small_scenario, "bottom-up", port, stdout=sink, stderr=subprocess.STDOUT
        )
    external: list[str] = []
    try:
        wait_for_server(url, server, log, timeout=90)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            context = browser.new_context(viewport={"width": 1500, "height": 1300})

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
            step_text = page.get_by_text(re.compile(r"^Step: \d+$")).first
            step_text.wait_for(state="visible", timeout=90_000)
            assert step_text.inner_text() == "Step: 0"
            # the network and the three plots are drawn
            for selector in (
                "img.org-network",
                "img.plot-states",
                "img.plot-seats",
                "img.plot-departments",
            ):
                page.wait_for_function(SHOWN, arg=selector, timeout=60_000)
            page.get_by_text("State history").first.wait_for(state="visible", timeout=30_000)
            before = {
                sel: page.get_attribute(sel, "src")
                for sel in ("img.plot-states", "img.org-network")
            }
            page.get_by_role("button", name="Step", exact=True).click()
            page.get_by_text("Step: 1", exact=True).first.wait_for(state="visible", timeout=30_000)
            page.wait_for_function(
                "([sel, old]) => document.querySelector(sel).src !== old",
                arg=["img.plot-states", before["img.plot-states"]],
                timeout=30_000,
            )
            page.wait_for_function(SHOWN, arg="img.plot-states", timeout=30_000)
            assert page.get_attribute("img.org-network", "src") != before["img.org-network"]
            page.wait_for_timeout(500)
            shot = tmp_path / "viz.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert external == [], f"requests left localhost: {external}"


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
    params = spec.model_params()
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
