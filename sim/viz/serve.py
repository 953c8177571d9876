"""Start the browser view: ``solara run sim.viz.app --production`` with offline assets.

The scenario and plan reach the app through environment variables (see
:mod:`sim.viz.model`); the asset cache is filled first (a no-op once filled).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sim.children import before_exec
from sim.viz import assets
from sim.viz.model import PLAN_ENV, SCENARIO_ENV

APP_MODULE = "sim.viz.app"


def server_command(port: int, host: str = "127.0.0.1") -> list[str]:
    """The solara command line (the ``solara`` next to this Python, via ``-m solara``)."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        APP_MODULE,
        "--production",
        "--port",
        str(port),
        "--host",
        host,
        "--no-open",
    ]


def server_env(scenario: Path | str, plan: str | None, cache: Path | None = None) -> dict[str, str]:
    """The process environment: offline assets, the scenario and the plan."""
    env = dict(os.environ)
    env.update(assets.offline_env(assets.fill(cache)))
    env[SCENARIO_ENV] = str(Path(scenario).resolve())
    env.pop(PLAN_ENV, None)
    if plan:
        env[PLAN_ENV] = plan
    env.setdefault("MPLBACKEND", "Agg")
    env["SOLARA_THEME_SHOW_BANNER"] = "false"  # no "This website runs on Solara" over a plot
    env["SOLARA_THEME_TITLE"] = "adoptsim"  # the tab's title before the page sets its own
    return env


def start(
    scenario: Path | str, plan: str | None, port: int, host: str = "127.0.0.1", **popen: object
) -> subprocess.Popen:
    """Start the server in the background (the caller stops it)."""
    return subprocess.Popen(  # type: ignore[call-overload]
        server_command(port, host),
        env=server_env(scenario, plan),
        preexec_fn=before_exec,  # the server dies with its parent, even on kill -9
        **popen,
    )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(env: dict[str, str], port: int, host: str = "127.0.0.1") -> int:
    """Serve in the foreground (``env`` from :func:`server_env`) until Ctrl-C or SIGTERM
    (either stops the server too); return its exit code."""
    process = subprocess.Popen(server_command(port, host), env=env, preexec_fn=before_exec)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        return 0
