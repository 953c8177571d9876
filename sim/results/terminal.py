"""The terminal's tables, readable at 80 columns.

Each table is built wide first (one line per cell: ``mean [low, high]``); when that does
not fit the console, a narrow layout replaces it: the interval under its mean, amounts of
10,000 and more in thousands (``156.4k``) with a legend line, plan names shortened to
letters with a legend where a comparison has two, and a sweep's pair table turned
around (one small table per point, outcomes as rows) so no label is cut.
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from sim.results.outcomes import format_interval

SCALES = ((1e6, "M"), (1e3, "k"))
ABBREVIATED = "k = thousand, M = million"


def _scaled(row: dict[str, Any]) -> tuple[float, str] | None:
    """(divisor, suffix) for an amount row whose values reach 10,000; None otherwise."""
    if "," not in row.get("fmt", ""):
        return None
    values = [abs(row[k]) for k in ("mean", "low", "high") if row.get(k) == row.get(k)]
    top = max(values, default=0.0)
    for divisor, suffix in SCALES:
        if top >= 10 * divisor:
            return divisor, suffix
    return None


def cell(row: dict[str, Any] | None, signed: bool = False, narrow: bool = False) -> str:
    """An outcome row as text: ``mean [low, high]`` on one line; narrow, the interval on a
    second line and large amounts in thousands or millions ('156.4k')."""
    if row is None:
        return ""
    if not narrow:
        return format_interval(row, signed=signed)
    scale = _scaled(row)
    if scale is not None:
        divisor, suffix = scale
        shown = {k: row[k] / divisor for k in ("mean", "low", "high")}
        row = {**row, **shown, "fmt": "{:.1f}" + suffix}
    text = format_interval(row, signed=signed)
    if " [" in text:
        head, tail = text.split(" [", 1)
        interval, _, rest = tail.partition("]")
        text = f"{head}{rest}\n[{interval}]"
    return text


def fits(console: Console, table: Table) -> bool:
    """Whether a table's natural width fits the console (no cell would wrap)."""
    unbounded = console.options.update_width(100_000)
    return Measurement.get(console, unbounded, table).maximum <= console.width


def narrow_table(title: str) -> Table:
    """A table with light borders: every column keeps two more characters for its text."""
    return Table(
        title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, expand=False
    )


def legend(*parts: str) -> Text:
    """One dim line under a narrow table saying what its abbreviations stand for."""
    return Text("; ".join(p for p in parts if p), style="dim")


def choose(console: Console, wide: Table, narrow: list[RenderableType]) -> list[RenderableType]:
    """The wide table when it fits the console, else the narrow layout."""
    return [wide] if fits(console, wide) else narrow


def letters(plans: list[str]) -> dict[str, str]:
    """Short names for plans in a narrow comparison: A, B, C, ..."""
    return {plan: chr(ord("A") + i) for i, plan in enumerate(plans)}


def used_thousands(rows: list[dict[str, Any] | None]) -> bool:
    """Whether any of these rows is shown in thousands or millions when narrow."""
    return any(row is not None and _scaled(row) is not None for row in rows)


# -- the tables -----------------------------------------------------------------------------------
def summary_tables(
    console: Console, rows: dict[tuple[str, str], dict], plans: list[str], labels: list, title: str
) -> list[RenderableType]:
    """``adoptsim run``: outcome rows, one column per plan.  ``rows``: (plan, outcome) ->
    outcome row; ``labels``: (outcome, label) in the table's order."""

    def build(narrow: bool) -> Table:
        table = narrow_table(title) if narrow else Table(title=title, title_justify="left")
        table.add_column("outcome (mean [95% CI])")
        for plan in plans:
            table.add_column(escape(plan), justify="right")
        for column, label in labels:
            cells = [cell(rows.get((plan, column)), narrow=narrow) for plan in plans]
            table.add_row(escape(label), *cells, end_section=narrow)
        return table

    thousands = used_thousands(list(rows.values()))
    return choose(console, build(False), [build(True), legend(ABBREVIATED if thousands else "")])


def pair_tables(
    console: Console,
    title: str,
    columns: list[tuple[str, str]],
    points: list[tuple[int, str]],
    plans: list[str],
    outcome_row,
    diff_row,
) -> list[RenderableType]:
    """``compare --a/--b`` and a sweep's printout: per point, plans A and B and the paired
    difference A − B.  Wide: one row per plan and point, one column per outcome.  Narrow:
    one small table per point, an outcome per row and A, B, A − B as columns."""
    pair = len(plans) == 2

    def wide() -> Table:
        table = Table(title=title, title_justify="left")
        table.add_column("plan")
        for _, label in columns:
            table.add_column(escape(label), justify="right")
        for point, label in points:
            if label:
                table.add_row(f"[italic]point {point}: {escape(label)}[/]")
            for plan in plans:
                table.add_row(
                    escape(plan), *(cell(outcome_row(point, c, plan)) for c, _ in columns)
                )
            if pair:
                table.add_row(
                    f"[bold]{escape(plans[0])} − {escape(plans[1])}[/]",
                    *(f"[bold]{cell(diff_row(point, c), signed=True)}[/]" for c, _ in columns),
                    end_section=True,
                )
        return table

    short = letters(plans)
    heads = [short[p] for p in plans] + (["A − B"] if pair else [])
    narrow: list[RenderableType] = [Text(title, style="bold")]
    shown: list[dict | None] = []
    for point, label in points:
        table = narrow_table(f"point {point}: {label}" if label else "")
        table.add_column("outcome")
        for head in heads:
            table.add_column(head, justify="right")
        for column, text in columns:
            cells = [outcome_row(point, column, plan) for plan in plans]
            if pair:
                cells.append(diff_row(point, column))
            shown.extend(cells)
            table.add_row(
                escape(text),
                *(
                    cell(c, signed=pair and k == len(cells) - 1, narrow=True)
                    for k, c in enumerate(cells)
                ),
                end_section=True,
            )
        narrow.append(table)
    names = ", ".join(f"{short[p]} = {p}" for p in plans)
    narrow.insert(1, legend(names, ABBREVIATED if used_thousands(shown) else ""))
    return choose(console, wide(), narrow)


def ranking_tables(
    console: Console, name: str, ranked: list[dict], points: list[tuple[int, str]], verdict
) -> list[RenderableType]:
    """``compare`` without a pair: per point and outcome every plan best first, its paired
    difference to the best and the verdict.  Narrow: no rank column (the order is the
    rank), intervals under their means."""
    out: list[RenderableType] = []
    thousands = False
    for point, label in points:
        where = f" — point {point}: {label}" if label else ""
        title = f"{name}: plans ranked per outcome, best first{where}"

        def build(narrow: bool, title: str = title, point: int = point) -> Table:
            table = narrow_table(title) if narrow else Table(title=title, title_justify="left")
            heads = ["outcome", "plan", "mean [95% CI]", "plan − best (paired)", "verdict"]
            if not narrow:
                heads.insert(1, "rank")
            for head in heads:
                table.add_column(head, justify="left" if head in ("outcome", "plan") else "right")
            for entry in (e for e in ranked if e["point"] == point):
                for item in entry["plans"]:
                    first = item["rank"] == 1
                    plan = escape(item["plan"])
                    cells = [
                        f"{entry['label']} ({entry['better']} is better)" if first else "",
                        f"[bold]{plan}[/]" if first and entry["winner"] else plan,
                        cell(item, narrow=narrow),
                        cell(item["diff"], signed=True, narrow=narrow)
                        if item["diff"]
                        else ("best" if item["n"] else ""),
                        verdict(entry) if first else "",
                    ]
                    if not narrow:
                        cells.insert(1, str(item["rank"]))
                    table.add_row(*cells, end_section=item["rank"] == len(entry["plans"]))
            return table

        rows = [i for e in ranked if e["point"] == point for i in e["plans"]]
        thousands = thousands or used_thousands(rows + [i["diff"] for i in rows])
        out.extend(choose(console, build(False), [build(True)]))
    if any(isinstance(t, Table) and t.box is box.SIMPLE_HEAD for t in out) and thousands:
        out.append(legend(ABBREVIATED))
    return out


def wins_tables(
    console: Console, title: str, shares: dict, plans: list[str], describe, win_cell
) -> list[RenderableType]:
    """Sweeps: per outcome, the points each plan wins clearly (share, Wilson interval).
    Narrow: the interval under the count."""
    heads = [*plans, "no clear winner"]

    def build(narrow: bool) -> Table:
        table = narrow_table(title) if narrow else Table(title=title, title_justify="left")
        table.add_column("outcome")
        for plan in heads:
            table.add_column(escape(plan), justify="right")
        for column, cells in shares.items():
            texts = [win_cell(cells[p]) for p in heads]
            if narrow:
                texts = [t.replace(" [", ")\n[", 1)[:-1] if " [" in t else t for t in texts]
            table.add_row(describe(column).label, *texts, end_section=narrow)
        return table

    return choose(console, build(False), [build(True)])


def folder_tables(console: Console, title: str, rows: list[dict], where, note) -> list:
    """Two folders: per shared plan and outcome, A, B and B − A with its CI and which
    folder does better.  ``where(row)``: the row's plan (and point) label."""

    def build(narrow: bool) -> Table:
        table = narrow_table(title) if narrow else Table(title=title, title_justify="left")
        for head in ("plan", "outcome", "A", "B", "B − A", ""):
            table.add_column(head, justify="left" if head in ("plan", "outcome", "") else "right")
        last = None
        for row in rows:
            label = where(row)
            table.add_row(
                escape(label) if label != last else "",
                row["label"],
                cell(row["a"], narrow=narrow),
                cell(row["b"], narrow=narrow),
                cell(row["diff"], signed=True, narrow=narrow),
                note(row),
                end_section=narrow,
            )
            last = label
        return table

    thousands = used_thousands([r[k] for r in rows for k in ("a", "b", "diff")])
    return choose(console, build(False), [build(True), legend(ABBREVIATED if thousands else "")])
