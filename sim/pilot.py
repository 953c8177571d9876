"""Who a pilot is: the part of the org whose counts were observed (``adoptsim fit --scope``).

A pilot is placed inside the org: the whole org is simulated, and only the pilot's
engaged users are compared with the observed ones.  It is named by departments, teams
(as the org names them: an org chart's ``team`` column, or "team of <leader's id>") and/or
employee ids (a list, or a file of them); the pilot is everyone any of them names.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.errors import AdoptsimError
from sim.org import Org

ID_HEADERS = ("employee_id", "employee id", "employee", "id")  # an id file's header, if any


@dataclass(frozen=True)
class Scope:
    """The pilot: the union of these departments, teams and employees (all empty: the org)."""

    departments: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    employees: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.departments or self.teams or self.employees)

    def describe(self) -> str:
        """In words, e.g. "department Sales, team Platform and 12 employees"."""
        parts = [f"department {d}" for d in self.departments]
        parts += [f"team {t}" for t in self.teams]
        if self.employees:
            parts.append(f"{len(self.employees)} employee(s)")
        return ", ".join(parts) if parts else "the whole org"

    def record(self) -> dict[str, list[str]]:
        """For the manifest."""
        return {
            "departments": list(self.departments),
            "teams": list(self.teams),
            "employees": list(self.employees),
        }

    def mask(self, org: Org) -> np.ndarray:
        """Boolean mask of the pilot's members (everyone when the scope is empty)."""
        if not self:
            return np.ones(org.n, dtype=bool)
        mask = np.zeros(org.n, dtype=bool)
        if self.departments:
            mask |= org.members(departments=self.departments)
        if self.teams:
            mask |= org.members(teams=self.teams)
        if self.employees:
            mask |= org.members(employees=self.employees)
        return mask


def resolve(org: Org, names: list[str] | None, employees: list[str] | None) -> Scope:
    """A :class:`Scope` from ``--scope`` names and ``--employees`` ids, checked against the
    org.  A name is a department or a team (``department:NAME`` / ``team:NAME`` when it is
    both); every unknown name or id is one message naming them and what the org has."""
    departments: list[str] = []
    teams: list[str] = []
    unknown: list[str] = []
    for raw in names or []:
        kind, _, name = (
            raw.partition(":") if raw.startswith(("department:", "team:")) else ("", "", raw)
        )
        is_department = not org.unknown_names("departments", [name])
        is_team = not org.unknown_names("teams", [name])
        if kind == "department" or (not kind and is_department and not is_team):
            (departments if is_department else unknown).append(name)
        elif kind == "team" or (not kind and is_team and not is_department):
            (teams if is_team else unknown).append(name)
        elif is_department and is_team:
            raise AdoptsimError(
                f"--scope {name!r}: this org has a department and a team of that name; "
                f"write department:{name} or team:{name}"
            )
        else:
            unknown.append(name)
    if unknown:
        raise AdoptsimError(
            f"--scope: unknown department or team name(s) {unknown}; departments: "
            f"{org.known_names('departments')}; teams: {org.known_names('teams')}"
        )
    ids = list(dict.fromkeys(employees or []))
    missing = org.unknown_names("employees", ids)
    if missing:
        shown = missing[:10]
        more = f" ({len(missing)} in all)" if len(missing) > len(shown) else ""
        raise AdoptsimError(
            f"--employees: unknown employee id(s) {shown}{more}; ids in this org: "
            f"{org.known_names('employees')}"
        )
    scope = Scope(tuple(dict.fromkeys(departments)), tuple(dict.fromkeys(teams)), tuple(ids))
    if scope and not scope.mask(org).any():
        raise AdoptsimError(f"--scope: {scope.describe()} has nobody in this org")
    return scope


def employee_list(value: str) -> list[str]:
    """``--employees``: a file of employee ids (one per line, or a CSV whose column
    ``employee_id``/``id`` holds them, else its first column), or ids separated by commas."""
    path = Path(value)
    if not path.is_file():
        if value.lower().endswith((".csv", ".txt")):
            raise AdoptsimError(f"--employees {value}: file not found")
        ids = [part.strip() for part in value.split(",") if part.strip()]
        if not ids:
            raise AdoptsimError("--employees: give employee ids (a,b,c) or a file of them")
        return ids
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise AdoptsimError(f"{path}: not UTF-8 text; save it as CSV UTF-8") from None
    rows = [r for r in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in r)]
    if not rows:
        raise AdoptsimError(f"{path}: no employee ids in it")
    header = [cell.strip().lower() for cell in rows[0]]
    column = next((header.index(h) for h in ID_HEADERS if h in header), None)
    body = rows[1:] if column is not None else rows
    column = column or 0
    ids = []
    for line, row in enumerate(body, start=2 if body is not rows else 1):
        if column >= len(row) or not row[column].strip():
            raise AdoptsimError(f"{path}: line {line}: no employee id in column {column + 1}")
        ids.append(row[column].strip())
    if not ids:
        raise AdoptsimError(f"{path}: no employee ids in it")
    return ids
