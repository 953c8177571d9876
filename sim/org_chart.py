"""Your own organisation: read an HR org chart and weighted ties into an :class:`Org`.

``[org] generator = "chart"`` reads two CSV files (``chart`` and, optionally, ``ties``).
This module's one job is to read and validate them; every problem is one
:class:`~sim.org.OrgDataError` naming the file, the line (the header is line 1) and the
column, and the command line exits with code 2.

**Files.**  UTF-8 text (with or without a byte-order mark), columns separated by commas,
semicolons or tabs (whichever the header line holds most of).  Column names match
case-insensitively after stripping spaces; columns the model does not read are ignored;
cells are stripped of surrounding spaces.

**people CSV** (``chart``): one row per employee.

- ``employee_id`` (required): the id as HR gives it (any text).  Employee i of the model
  is the i-th row of the file.
- ``department`` (required): department names as given.  Departments are numbered in
  sorted (alphabetical) order of their names, so reordering the rows does not renumber them.
- ``manager_id`` (optional column): empty = top of the hierarchy (level 0); level is the
  depth in the management chain.  Without the column the org is flat (everyone level 0:
  a partnership), and teams come from ``team``.
- ``team`` (optional): a named team.  Its leader (and the budget holder of its free-plan
  workspace) is its most senior member: lowest level, then first in the file.  An
  employee with no team name belongs to the team its manager leads (the manager's named
  team if the manager leads one, else "team of <manager id>"); the top leads its own.
- ``title``, ``location`` (optional): kept for seeding and mandate filters and the view.
- ``dotted_manager_id`` (optional): a second, dotted-line manager.

**ties CSV** (``ties``, optional): ``source, target`` (employee ids), optional ``weight``
(a number > 0 on any scale: messages, meeting minutes) and ``kind`` (free text such as
advice, friendship, cowork; empty = ``informal``).  Ties are undirected; a pair listed
more than once (in either direction) keeps its largest weight and that row's kind.

**The graph.**  Reporting lines (kind ``manager``), dotted lines (``dotted``), teammates:
every pair sharing a team (``peer``), then the ties file's ties (their kind, with a
strength from :func:`tie_strengths`).  A pair gets the first of manager, dotted, peer
that links it.  A ties-file tie between a pair already linked that way keeps the
structural kind and takes strength max(1, its mapped strength): communication can
reinforce a reporting line or a teammate tie but never weakens it below a plain one.
A tie's weight in the model is ``org.tie_weights.<kind>`` x strength, rounded to 1/64.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np

from sim.org import Org, OrgDataError, _finish

PEOPLE_REQUIRED = ("employee_id", "department")
PEOPLE_OPTIONAL = ("manager_id", "team", "title", "location", "dotted_manager_id")
TIES_REQUIRED = ("source", "target")
TIES_OPTIONAL = ("weight", "kind")
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
STRUCTURAL_KINDS = ("manager", "dotted", "peer")
RESAVE_HINT = (
    "re-save it as UTF-8: in Excel 'Save As > CSV UTF-8 (Comma delimited)', in LibreOffice "
    "'Character set: Unicode (UTF-8)', or convert it: iconv -f WINDOWS-1252 -t UTF-8 "
    "old.csv > new.csv"
)


@dataclass(frozen=True)
class Table:
    """A CSV file read and checked for shape: lower-cased column names and numbered rows."""

    path: Path
    columns: tuple[str, ...]
    rows: list[tuple[int, list[str]]]  # (line number, stripped cells)

    def has(self, column: str) -> bool:
        return column in self.columns

    def values(self, column: str) -> list[str]:
        """Every row's cell in ``column`` ("" for each row when the column is absent)."""
        if column not in self.columns:
            return [""] * len(self.rows)
        k = self.columns.index(column)
        return [cells[k] for _, cells in self.rows]

    def fail(self, line: int, column: str, problem: str) -> OrgDataError:
        """The error for one cell: file, line and column first."""
        return OrgDataError(f"{self.path}: line {line}, column {column}: {problem}")


def _decode(path: Path, data: bytes) -> str:
    """The file's text: UTF-8 with or without BOM; anything else is a clear error."""
    if data.startswith(b"PK\x03\x04"):
        raise OrgDataError(
            f"{path}: a zip archive or Excel workbook (.xlsx), not a CSV text file; export "
            "the sheet as CSV: in Excel 'Save As > CSV UTF-8 (Comma delimited)'"
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise OrgDataError(
            f"{path}: the file is UTF-16 text, not UTF-8; re-save it as UTF-8: in Excel "
            "'Save As > CSV UTF-8 (Comma delimited)', or convert it: "
            "iconv -f UTF-16 -t UTF-8 old.csv > new.csv"
        )
    if b"\x00" in data:
        raise OrgDataError(f"{path}: a binary file, not a CSV text file (it holds NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        byte = data[error.start]
        raise OrgDataError(
            f"{path}: line {line}: the file is not UTF-8 (byte 0x{byte:02x}); {RESAVE_HINT}"
        ) from None


def _delimiter(header_line: str) -> str:
    """Comma, semicolon or tab: whichever the header line holds most of (comma if none)."""
    counts = {d: header_line.count(d) for d in DELIMITERS}
    return max(DELIMITERS, key=lambda d: counts[d])  # max keeps the first of equals: comma


def _columns_needed(required: tuple[str, ...], optional: tuple[str, ...]) -> str:
    return f"needs {', '.join(required)} (optional: {', '.join(optional)})"


def read_table(
    path: Path | str, required: tuple[str, ...], optional: tuple[str, ...], unit: str
) -> Table:
    """Read a CSV file: encoding, delimiter, header, and rows of the header's width.

    ``unit`` names what one row is ("employee", "tie") for the messages.
    """
    path = Path(path)
    if not path.is_file():
        problem = "is a folder, expected a CSV file" if path.is_dir() else "file not found"
        raise OrgDataError(f"{path}: {problem}")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise OrgDataError(f"{path}: cannot read it ({error.strerror})") from None
    needed = _columns_needed(required, optional)
    text = _decode(path, data)
    if not text.strip():
        raise OrgDataError(f"{path}: the file is empty; it {needed}, one row per {unit}")
    lines = text.splitlines()
    first = next(k for k, line in enumerate(lines) if line.strip())
    excel_hint = lines[first].strip().lower()
    skipped = 0
    if excel_hint.startswith("sep=") and len(excel_hint) == 5:  # Excel's "sep=;" line
        delimiter = {"\\t": "\t"}.get(excel_hint[4], excel_hint[4])
        if delimiter not in DELIMITERS:
            raise OrgDataError(
                f"{path}: line {first + 1}: {lines[first].strip()!r} names a separator "
                "other than comma, semicolon or tab"
            )
        skipped = first + 1
        text = "\n".join(lines[skipped:])
        if not text.strip():
            raise OrgDataError(f"{path}: the file is empty; it {needed}, one row per {unit}")
    else:
        delimiter = _delimiter(lines[first])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: tuple[str, ...] | None = None
    rows: list[tuple[int, list[str]]] = []
    previous_end = skipped
    try:
        for cells in reader:
            line, previous_end = previous_end + 1, skipped + reader.line_num
            if any("\n" in cell or "\r" in cell for cell in cells):
                raise OrgDataError(
                    f"{path}: line {line}: a double quote opened on this line is never "
                    'closed (the value runs on over the next lines); remove the stray " '
                    "or close it"
                )
            if not any(cell.strip() for cell in cells):
                continue  # blank line
            cells = [cell.strip() for cell in cells]
            if header is None:
                header = _header(path, line, cells, required, optional)
            elif len(cells) != len(header):
                raise OrgDataError(
                    f"{path}: line {line}: {len(cells)} fields but the header has "
                    f"{len(header)} ({DELIMITERS[delimiter]}-separated); a value holding "
                    f"a {DELIMITERS[delimiter]} must be in double quotes"
                )
            else:
                rows.append((line, cells))
    except csv.Error as error:
        raise OrgDataError(f"{path}: line {previous_end + 1}: not valid CSV ({error})") from None
    if not rows:
        raise OrgDataError(f"{path}: only a header line, no rows; add one row per {unit}")
    assert header is not None
    return Table(path, header, rows)


def _header(
    path: Path, line: int, cells: list[str], required: tuple[str, ...], optional: tuple[str, ...]
) -> tuple[str, ...]:
    """Column names, lower-cased, with spaces and hyphens as underscores ("Employee ID" is
    employee_id); every required one present, none twice."""
    names = tuple("_".join(cell.lower().replace("-", " ").split()) for cell in cells)
    missing = [c for c in required if c not in names]
    if missing:
        raise OrgDataError(
            f"{path}: line {line}: missing column(s) {', '.join(missing)}; found columns: "
            f"{', '.join(names)}; the file {_columns_needed(required, optional)}, "
            "separated by commas, semicolons or tabs"
        )
    for name in names:
        if name and names.count(name) > 1:
            raise OrgDataError(f"{path}: line {line}: column {name!r} appears twice")
    return names


@dataclass(frozen=True)
class People:
    """The people file, validated: ids, departments, and the management chain."""

    ids: tuple[str, ...]
    department: np.ndarray
    department_names: tuple[str, ...]
    manager: np.ndarray  # -1: top of the hierarchy
    dotted: np.ndarray  # -1: no dotted-line manager
    level: np.ndarray
    team_cells: tuple[str, ...]
    titles: tuple[str, ...]
    locations: tuple[str, ...]


def read_people(path: Path | str) -> People:
    """Read and validate the people file (see the module docstring for the format)."""
    table = read_table(path, PEOPLE_REQUIRED, PEOPLE_OPTIONAL, "employee")
    lines = [line for line, _ in table.rows]
    ids = _employee_ids(table)
    index = {e: i for i, e in enumerate(ids)}
    departments = table.values("department")
    for line, name in zip(lines, departments, strict=True):
        if not name:
            raise table.fail(line, "department", "empty; every employee needs a department")
    names = tuple(sorted(set(departments)))
    number = {name: k for k, name in enumerate(names)}
    manager = _references(table, "manager_id", ids, index, "manager")
    dotted = _references(table, "dotted_manager_id", ids, index, "dotted-line manager")
    return People(
        ids=ids,
        department=np.array([number[d] for d in departments], dtype=np.int64),
        department_names=names,
        manager=manager,
        dotted=dotted,
        level=_levels(table, ids, manager),
        team_cells=tuple(table.values("team")),
        titles=tuple(table.values("title")),
        locations=tuple(table.values("location")),
    )


def _employee_ids(table: Table) -> tuple[str, ...]:
    """The ``employee_id`` column: non-empty and unique."""
    first_line: dict[str, int] = {}
    for (line, _), employee in zip(table.rows, table.values("employee_id"), strict=True):
        if not employee:
            raise table.fail(line, "employee_id", "empty; every row needs an employee id")
        if employee in first_line:
            raise table.fail(
                line,
                "employee_id",
                f"duplicate employee id {employee!r} (first on line {first_line[employee]})",
            )
        first_line[employee] = line
    return tuple(first_line)


def _references(
    table: Table, column: str, ids: tuple[str, ...], index: dict[str, int], role: str
) -> np.ndarray:
    """Node ids named in ``column`` (-1 where empty or the column is absent)."""
    found = np.full(len(ids), -1, dtype=np.int64)
    for i, ((line, _), other) in enumerate(zip(table.rows, table.values(column), strict=True)):
        if not other:
            continue
        if other == ids[i]:
            advice = "; leave it empty for the top of the hierarchy" if role == "manager" else ""
            raise table.fail(line, column, f"employee {other!r} is its own {role}{advice}")
        if other not in index:
            raise table.fail(line, column, f"unknown {role} {other!r}: no row has that employee_id")
        found[i] = index[other]
    return found


def _levels(table: Table, ids: tuple[str, ...], manager: np.ndarray) -> np.ndarray:
    """Depth in the management chain (top = 0); a chain that loops is an error."""
    level = np.full(len(ids), -1, dtype=np.int64)
    for start in range(len(ids)):
        chain: list[int] = []
        position: dict[int, int] = {}
        i = start
        while i >= 0 and level[i] < 0:
            if i in position:
                loop = chain[position[i] :] + [i]
                shown = " -> ".join(ids[j] for j in loop)
                line = table.rows[loop[0]][0]
                raise table.fail(
                    line,
                    "manager_id",
                    f"the management chain loops: {shown} (-> reports to); one of them must "
                    "report outside the loop or have an empty manager_id",
                )
            position[i] = len(chain)
            chain.append(i)
            i = int(manager[i])
        depth = -1 if i < 0 else int(level[i])
        for j in reversed(chain):
            depth += 1
            level[j] = depth
    return level


def assign_teams(people: People) -> tuple[np.ndarray, dict[int, str]]:
    """Each employee's team (the node id of its leader) and the named teams' names.

    A named team is led by its most senior member (lowest level, then first in the file);
    everyone else belongs to the team its manager leads, and the top leads its own.
    """
    n = len(people.ids)
    team = np.where(people.manager >= 0, people.manager, np.arange(n))
    named: dict[str, list[int]] = {}
    for i, name in enumerate(people.team_cells):
        if name:
            named.setdefault(name, []).append(i)
    team_names: dict[int, str] = {}
    for name, members in named.items():
        leader = min(members, key=lambda i: (int(people.level[i]), i))
        team[members] = leader
        team_names[leader] = name
    return team.astype(np.int64), team_names


def structural_graph(people: People, team: np.ndarray) -> nx.Graph:
    """Reporting lines, then dotted lines, then teammates (a pair keeps its first kind)."""
    n = len(people.ids)
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    for i in np.flatnonzero(people.manager >= 0):
        graph.add_edge(int(i), int(people.manager[i]), kind="manager")
    for i in np.flatnonzero(people.dotted >= 0):
        if not graph.has_edge(int(i), int(people.dotted[i])):
            graph.add_edge(int(i), int(people.dotted[i]), kind="dotted")
    members: dict[int, list[int]] = {}
    for i in range(n):
        members.setdefault(int(team[i]), []).append(i)
    for mates in members.values():
        for position, a in enumerate(mates):
            for b in mates[position + 1 :]:
                if not graph.has_edge(a, b):
                    graph.add_edge(a, b, kind="peer")
    return graph


def tie_strengths(weights: np.ndarray) -> np.ndarray:
    """Map raw tie weights (> 0, any scale) to strengths: 0.25 + 1.5 x percentile.

    percentile = (mid-rank of the weight among all ties' weights - 0.5) / count, so the
    strengths lie in (0.25, 1.75) and average exactly 1 (the strength of a tie without a
    weight).  Why ranks: HR and communication data come on arbitrary scales (messages per
    quarter, meeting minutes, survey scores) and are heavy-tailed; ranks are unchanged by
    any increasing transformation, so messages and minutes that order the ties alike give
    the same strengths, a log scale changes nothing, and a few outliers cannot dominate
    everyone's weighted neighbourhood.  Equal weights share their mid-rank: all weights
    equal (or a single tie) gives strength 1 throughout.
    """
    weights = np.asarray(weights, dtype=np.float64)
    if weights.size == 0:
        return weights
    from scipy.stats import rankdata  # here: scipy.stats costs 0.6 s to import

    percentile = (rankdata(weights, method="average") - 0.5) / weights.size
    return 0.25 + 1.5 * percentile


@dataclass(frozen=True)
class Tie:
    a: int
    b: int
    weight: float
    kind: str


def read_ties(path: Path | str, ids: tuple[str, ...]) -> list[Tie]:
    """Read and validate the ties file; one tie per unordered pair (largest weight kept)."""
    table = read_table(path, TIES_REQUIRED, TIES_OPTIONAL, "tie")
    index = {e: i for i, e in enumerate(ids)}
    sources, targets = table.values("source"), table.values("target")
    weights, kinds = table.values("weight"), table.values("kind")
    has_weight = table.has("weight")
    ties: dict[tuple[int, int], Tie] = {}
    for row, (line, _) in enumerate(table.rows):
        ends = []
        for column, employee in (("source", sources[row]), ("target", targets[row])):
            if employee not in index:
                problem = "empty" if not employee else f"unknown employee id {employee!r}"
                raise table.fail(line, column, f"{problem}: not in the people file")
            ends.append(index[employee])
        if ends[0] == ends[1]:
            raise table.fail(line, "target", f"a tie from {sources[row]!r} to itself")
        weight = _weight(table, line, weights[row]) if has_weight else 1.0
        pair = (min(ends), max(ends))
        if pair not in ties or weight > ties[pair].weight:
            ties[pair] = Tie(pair[0], pair[1], weight, kinds[row] or "informal")
    return list(ties.values())


def _weight(table: Table, line: int, cell: str) -> float:
    """A tie weight: a finite number > 0."""
    try:
        weight = float(cell)
    except ValueError:
        shown = "empty" if not cell else f"{cell!r} is not a number"
        raise table.fail(
            line, "weight", f"{shown}; a weight is a number > 0 with a decimal point, e.g. 12.5"
        ) from None
    if not math.isfinite(weight):
        raise table.fail(line, "weight", f"{cell!r} is not a finite number")
    if weight <= 0:
        raise table.fail(line, "weight", f"{cell} is not > 0 (leave a pair out to mean no tie)")
    return weight


def add_ties(graph: nx.Graph, ties: list[Tie]) -> None:
    """Add the ties file's ties with their strengths; a structural tie keeps its kind and
    takes strength max(1, mapped strength)."""
    strengths = tie_strengths(np.array([t.weight for t in ties]))
    for tie, strength in zip(ties, strengths, strict=True):
        if graph.has_edge(tie.a, tie.b):
            edge = graph.edges[tie.a, tie.b]
            edge["strength"] = max(float(edge.get("strength", 1.0)), float(strength))
        else:
            graph.add_edge(tie.a, tie.b, kind=tie.kind, strength=float(strength))


def load_chart(chart: Path | str, ties: Path | str | None = None, seed: int = 0) -> Org:
    """The org an HR chart (and optional ties file) describes; see the module docstring."""
    people = read_people(chart)
    team, team_names = assign_teams(people)
    graph = structural_graph(people, team)
    if ties is not None:
        add_ties(graph, read_ties(ties, people.ids))
    return _finish(
        "chart",
        graph,
        people.department,
        people.department_names,
        people.manager,
        people.level,
        seed,
        team=team,
        employee_ids=people.ids,
        team_names=team_names,
        titles=people.titles,
        locations=people.locations,
    )


def count_rows(path: Path | str | None) -> int:
    """About how many rows a CSV file has (its line count), cheaply, for memory estimates;
    0 when there is no such file."""
    if path is None:
        return 0
    try:
        with open(path, "rb") as handle:
            return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
    except OSError:
        return 0
