"""Stored results for stakeholders: one tidy table (xlsx or csv) and the report's charts
as PNG and SVG files.

The table has one row per plan [x sweep point] x outcome: mean, 95% CI, how many
replicates define the outcome (k) of how many ran (R), and the paired difference to a
reference plan.  The charts are the ones the folder's report.html draws (the same list
of figures feeds both), rendered by plotly's static export (kaleido), which drives
Debian's chromium: no browser is ever downloaded.
"""

from __future__ import annotations

import asyncio
import io
import os
import threading
from pathlib import Path
from typing import Any

import polars as pl

from sim.errors import AdoptsimError
from sim.results import store
from sim.results.compare import (
    Figures,
    Results,
    comparison_figures,
    default_pair,
    find_row,
    outcome_rows,
    outcomes_figure,
    outcomes_in,
    paired_differences,
)
from sim.results.outcomes import unit
from sim.results.report import run_figures, subtitle

TABLE_FORMATS = (".xlsx", ".csv")
CHROMIUM = Path("/usr/bin/chromium")  # Debian's package `chromium` (make system-deps)
FIGURE_WIDTH = 1200  # pixels of a PNG (scale 1), and the SVG's width


def check_table_path(path: Path) -> None:
    """Refuse a --to path of another format, or one that is a folder, before any work."""
    if path.is_dir():
        raise AdoptsimError(f"--to {path}: is a folder; name a file ending in .xlsx or .csv")
    if path.suffix.lower() not in TABLE_FORMATS:
        raise AdoptsimError(
            f"--to {path}: unknown file type {path.suffix or '(none)'!r}; allowed: "
            f"{', '.join(TABLE_FORMATS)}"
        )


def check_figures_path(folder: Path) -> None:
    """Refuse a --figures path that is a file."""
    if folder.exists() and not folder.is_dir():
        raise AdoptsimError(f"--figures {folder}: is a file, expected a folder")


def summary_table(results: Results, reference: str | None) -> pl.DataFrame:
    """One row per plan, sweep point and outcome: plan, point, the swept parameters'
    values, outcome, label, unit, mean, ci_low, ci_high, k, R, and the paired difference
    plan − ``reference`` (null on the reference's own rows, or with no reference)."""
    columns = outcomes_in(results.summary)
    stats = outcome_rows(results, columns)
    diffs: dict[str, list[dict[str, Any]]] = {}
    if reference is not None:
        for plan in results.plans:
            if plan != reference:
                diffs[plan] = paired_differences(results, plan, reference, columns)
    points = {row["point"]: row for row in results.points.iter_rows(named=True)}
    rows = []
    for row in stats:
        diff = (
            find_row(diffs[row["plan"]], row["point"], row["outcome"])
            if row["plan"] in diffs
            else None
        )
        values = points.get(row["point"], {})
        rows.append(
            {
                "plan": row["plan"],
                "point": row["point"],
                **{p: values.get(p) for p in results.parameters},
                "outcome": row["outcome"],
                "label": row["label"],
                "unit": unit(row["outcome"], results.money),
                "mean": _number(row["mean"], row["n"]),
                "ci_low": _number(row["low"], row["n"]),
                "ci_high": _number(row["high"], row["n"]),
                "k": row["n"],
                "R": row["replicates"],
                "reference": reference if diff is not None else None,
                "diff_mean": _number(diff["mean"], diff["n"]) if diff else None,
                "diff_ci_low": _number(diff["low"], diff["n"]) if diff else None,
                "diff_ci_high": _number(diff["high"], diff["n"]) if diff else None,
                "diff_k": diff["n"] if diff else None,
            }
        )
    schema = {
        "plan": pl.String, "point": pl.Int64, "outcome": pl.String, "label": pl.String,
        "unit": pl.String, "mean": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
        "k": pl.Int64, "R": pl.Int64, "reference": pl.String, "diff_mean": pl.Float64,
        "diff_ci_low": pl.Float64, "diff_ci_high": pl.Float64, "diff_k": pl.Int64,
    }  # fmt: skip
    frame = pl.DataFrame(rows, infer_schema_length=None)
    return frame.with_columns(pl.col(c).cast(t) for c, t in schema.items())


def _number(value: float, defined: int) -> float | None:
    """A statistic as a table cell: empty where no replicate defines it or it is NaN (one
    value has no interval)."""
    return None if defined == 0 or value != value else float(value)


def table_bytes(frame: pl.DataFrame, path: Path) -> bytes:
    """The table as the bytes of a .csv or .xlsx file (chosen by ``path``'s suffix)."""
    if path.suffix.lower() == ".csv":
        return frame.write_csv().encode()
    buffer = io.BytesIO()
    frame.write_excel(
        buffer,
        worksheet="summary",
        header_format={"bold": True, "bg_color": "#eeeeee", "border": 1},
        column_formats={c: "0.0000" for c in frame.columns if frame.schema[c] == pl.Float64},
        column_widths=_widths(frame),
        freeze_panes=(1, 0),
        autofilter=True,
    )
    return buffer.getvalue()


def _widths(frame: pl.DataFrame) -> dict[str, int]:
    """Column widths (pixels) that fit each header and its longest text value."""
    widths = {}
    for column in frame.columns:
        longest = len(column)
        if frame.schema[column] == pl.String and frame.height:
            longest = max(longest, int(frame[column].str.len_chars().max() or 0))
        widths[column] = min(max(8 * longest + 16, 60), 360)
    return widths


def write_table(frame: pl.DataFrame, path: Path) -> None:
    """Write the table atomically (temporary file, then rename)."""
    try:
        store.write_bytes(table_bytes(frame, path), path)
    except OSError as error:
        raise AdoptsimError(f"--to {path}: could not write ({error.strerror or error})") from None


def folder_figures(results: Results) -> Figures:
    """The charts of the folder's report.html (a run's: adoption and departments; a
    sweep's: the comparison charts), then the outcomes of every plan per point."""
    points = results.points["point"].to_list()
    if results.manifest.get("kind") == "sweep":
        figures = comparison_figures(results, results.plans, default_pair(results.plans))
    else:
        trajectories = results.trajectories().collect()
        departments = pl.read_parquet(results.folder / "departments.parquet")
        name = results.manifest["scenario"]["name"]
        employees = results.manifest.get("employees") or {"all": results.employees}
        title = subtitle(results.summary, name, employees, results.manifest)
        figures = run_figures(trajectories, departments, title, results.manifest)
    return figures + [(f"outcomes-point-{p}", outcomes_figure(results, p)) for p in points]


def chromium() -> str:
    """The browser kaleido drives: Debian's chromium, never a downloaded one."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        raise AdoptsimError(
            f"--figures needs Debian's chromium at {CHROMIUM}, which is missing; install the "
            "apt package `chromium` (sudo apt-get install chromium, or make system-deps)"
        )
    return str(CHROMIUM)


async def _render(figures: Figures, browser: str, width: int) -> list[tuple[str, str, bytes]]:
    """(name, format, bytes) of every figure as PNG and SVG, in one browser session.

    kaleido >= 1 drives the browser through choreographer, which would look for a copy it
    downloaded before any browser on the system: ``path`` (and BROWSER_PATH for anything
    that looks the browser up itself) pins Debian's.  ``mathjax=False``: no CDN request.
    """
    import kaleido

    os.environ["BROWSER_PATH"] = browser
    rendered = []
    async with kaleido.Kaleido(n=1, path=browser, mathjax=False) as k:
        for name, figure in figures:
            height = int(figure.layout.height or 500)
            for fmt in ("png", "svg"):
                opts = {"format": fmt, "width": width, "height": height, "scale": 1}
                rendered.append((name, fmt, await k.calc_fig(figure, opts=opts)))
    return rendered


def _run_async(coroutine) -> Any:
    """Run a coroutine to its end, also from code that already runs an event loop (a
    notebook): then in a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coroutine)
        except BaseException as error:  # re-raised in the caller's thread
            box["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def write_figures(figures: Figures, folder: Path, width: int = FIGURE_WIDTH) -> list[Path]:
    """Write ``<name>.png`` and ``<name>.svg`` of every figure into ``folder``, atomically."""
    browser = chromium()
    try:
        rendered = _run_async(_render(figures, browser, width))
    except ImportError as error:
        raise AdoptsimError(
            f"--figures needs kaleido ({error}); install the locked dependencies: make install"
        ) from None
    except Exception as error:  # kaleido's and choreographer's own errors
        if isinstance(error, AdoptsimError):
            raise
        reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
        raise AdoptsimError(
            f"--figures: chromium ({browser}) could not draw the charts "
            f"({type(error).__name__}: {reason})"
        ) from None
    written = []
    for name, fmt, data in rendered:
        path = folder / f"{name}.{fmt}"
        try:
            store.write_bytes(data if isinstance(data, bytes) else data.encode(), path)
        except OSError as error:
            raise AdoptsimError(
                f"--figures {folder}: could not write {path.name} ({error.strerror or error})"
            ) from None
        written.append(path)
    return written
