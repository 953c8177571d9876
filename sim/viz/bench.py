"""How fast the browser view can go: one model step plus one full redraw, outside the browser.

A frame is what the page does per step: ``model.step()``, the network frame (state
arrays, blitted nodes, JPEG) and the three plots (PNG).  The browser adds the websocket
transfer and image decoding on top.

    python -m sim.viz.bench [SCENARIO] [--sizes 1000,2000,5000,10000] [--steps 20]
    python -m sim.viz.bench [SCENARIO] --browser     (the page itself, playing, in Chromium)

Each size is the scenario's first plan with ``org.n`` set to it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sim.scenario import Config
from sim.viz.draw import LivePlots, painter_for
from sim.viz.model import DEFAULT_SCENARIO, ViewSpec, VizModel


def resized(spec: ViewSpec, n: int) -> ViewSpec:
    """The spec's first plan with ``n`` employees (seeding capped at n)."""
    from sim.engines.runner import PreparedPlan, prepare
    from sim.scenario import Plan, Scenario

    plan = spec.prepared[0].plan
    data = plan.config.model_dump()
    data["org"]["n"] = n
    data["seeding"]["count"] = min(data["seeding"]["count"], n)
    config = Config.model_validate(data)
    scenario = Scenario(
        name=f"{spec.scenario.name}-{n}", plans=[Plan(name=plan.name, config=config)]
    )
    prepared: list[PreparedPlan] = prepare(scenario)
    return ViewSpec(scenario, plan.name, prepared)


def measure(spec: ViewSpec, steps: int) -> dict[str, float]:
    """Seconds per step for the model, the network frame, the plots, and all together."""
    clock = time.perf_counter()
    model = VizModel(spec=spec)
    build = time.perf_counter() - clock
    clock = time.perf_counter()
    painter = painter_for(model.org, (900, 640))  # layout + static layer, once per org
    first = time.perf_counter() - clock
    plots = LivePlots(model)
    totals = {"step": 0.0, "network": 0.0, "plots": 0.0}
    for _ in range(steps):
        t0 = time.perf_counter()
        model.step()
        t1 = time.perf_counter()
        state, _, _, paid = model.state_arrays()
        painter.render(state[:, 0], paid[:, 0][model.scope.of_agent], 0)
        t2 = time.perf_counter()
        plots.states_png(), plots.seats_png(), plots.cost_png(), plots.departments_png()
        t3 = time.perf_counter()
        totals["step"] += t1 - t0
        totals["network"] += t2 - t1
        totals["plots"] += t3 - t2
    per = {k: v / steps for k, v in totals.items()}
    per["frame"] = sum(per.values())
    return {"n": model.org.n, "build": build, "layout+static": first, **per}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default=str(DEFAULT_SCENARIO))
    parser.add_argument("--sizes", default="1000,2000,5000,10000")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument(
        "--browser",
        action="store_true",
        help="instead: steps/s the page sustains playing in headless Chromium",
    )
    args = parser.parse_args()
    if args.browser:
        rate = browser_rate(Path(args.scenario))
        print(f"{args.scenario}: {rate:.1f} steps/s in the browser (play, default interval)")
        return
    spec = ViewSpec.load(Path(args.scenario))
    print(
        f"{'employees':>9} {'build s':>8} {'layout s':>8} {'step ms':>8} {'network ms':>10} "
        f"{'plots ms':>8} {'frame ms':>8} {'steps/s':>7}"
    )
    for n in (int(s) for s in args.sizes.split(",")):
        r = measure(resized(spec, n), args.steps)
        print(
            f"{r['n']:>9,} {r['build']:>8.2f} {r['layout+static']:>8.2f} "
            f"{1e3 * r['step']:>8.1f} {1e3 * r['network']:>10.1f} {1e3 * r['plots']:>8.1f} "
            f"{1e3 * r['frame']:>8.1f} {1 / r['frame']:>7.1f}"
        )


def browser_rate(scenario: Path, seconds: float = 15.0, port: int = 8791) -> float:
    """Steps per second the page sustains in headless Chromium while playing (▶)."""
    import re
    import subprocess
    import urllib.request

    from playwright.sync_api import sync_playwright

    from sim.viz import serve

    server = serve.start(scenario, None, port, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except OSError:
                time.sleep(0.3)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                headless=True,
                args=["--no-sandbox", "--disable-gpu"],
            )
            page = browser.new_page(viewport={"width": 1500, "height": 1300})
            page.goto(f"http://127.0.0.1:{port}/")
            counter = page.locator(".run-status")
            counter.get_by_text(re.compile(r"^Week \d+ of")).wait_for(timeout=120_000)
            page.wait_for_selector("img.org-network", timeout=60_000)

            def steps() -> int:
                return int(counter.inner_text().split()[1])

            page.get_by_role("button", name="Play", exact=True).click()
            page.wait_for_timeout(2000)
            start, clock = steps(), time.perf_counter()
            page.wait_for_timeout(seconds * 1000)
            rate = (steps() - start) / (time.perf_counter() - clock)
            browser.close()
            return rate
    finally:
        server.terminate()
        server.wait(timeout=15)


if __name__ == "__main__":
    main()
