"""Write Acme's HR org chart and communication ties: a made-up 3,000-person company.

Run from the repository root (it overwrites the two CSV files next to this script):

    .venv/bin/python scenarios/acme/generate.py [--seed 2026]

What it models: a CEO and seven departments of unequal size (Engineering 900, Sales 650,
Support 450, Operations 350, Marketing 300, Finance 200, People 150; the CEO sits in
Operations).  Below each department's VP, a subtree is split into 3-8 parts, each part
again (aiming at teams of about 8), until a manager's part is 3-12 people: so every
manager has 3 to 12 direct reports.  Team managers and their reports share a named team
("Sales EMEA 3"); directors and VPs carry no team name and sit in their manager's team.
About 3% of employees have a dotted line to a manager in another department.  Ids look
like HR's ("AC00017"); rows are in id order (so a manager may come after its reports, as
in real exports).

ties.csv: about 7 communication ties per person, weight = messages exchanged over a
quarter (lognormal: heavy-tailed), kind cowork, advice or friendship; 45% inside the own
team, 35% elsewhere in the own department, 20% across departments.

Deterministic: the same seed writes byte-identical files.  numpy only.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
DEPARTMENTS = {  # name: (people, groups its VP's subtrees are named after)
    "Engineering": (900, ["Platform", "Payments", "Mobile", "Data", "Infrastructure", "Web"]),
    "Sales": (650, ["EMEA", "North America", "APAC", "Enterprise"]),
    "Support": (450, ["Tier 1", "Tier 2", "Onboarding"]),
    "Operations": (350, ["Facilities", "Procurement", "IT", "Security"]),
    "Marketing": (300, ["Brand", "Growth", "Product Marketing"]),
    "Finance": (200, ["Accounting", "FP&A", "Payroll"]),
    "People": (150, ["Recruiting", "HR Partners", "Learning"]),
}
IC_TITLES = {
    "Engineering": [
        "Software Engineer",
        "Senior Software Engineer",
        "Staff Engineer",
        "QA Engineer",
    ],
    "Sales": ["Account Executive", "Sales Development Rep", "Solutions Consultant"],
    "Support": ["Support Agent", "Senior Support Agent", "Support Specialist"],
    "Operations": ["Operations Analyst", "IT Specialist", "Procurement Specialist"],
    "Marketing": ["Marketing Specialist", "Content Writer", "Designer"],
    "Finance": ["Accountant", "Financial Analyst"],
    "People": ["Recruiter", "HR Generalist", "People Partner"],
}
LOCATIONS = ["New York", "London", "Berlin", "Singapore", "Austin", "Remote"]
LOCATION_SHARES = [0.3, 0.2, 0.15, 0.1, 0.15, 0.1]
TIE_KINDS = ["cowork", "advice", "friendship"]
TIE_KIND_SHARES = [0.6, 0.25, 0.15]
TIES_PER_PERSON = 7
COLUMNS = [
    "employee_id",
    "manager_id",
    "department",
    "team",
    "title",
    "location",
    "dotted_manager_id",
]
DOTTED_SHARE = 0.03


class Company:
    """People as parallel lists, grown from the top (index 0 = the CEO)."""

    def __init__(self) -> None:
        self.manager: list[int] = []
        self.department: list[str] = []
        self.title: list[str] = []
        self.team: list[str] = []
        self.location: list[str] = []

    def add(self, manager: int, department: str, title: str, team: str, location: str) -> int:
        self.manager.append(manager)
        self.department.append(department)
        self.title.append(title)
        self.team.append(team)
        self.location.append(location)
        return len(self.manager) - 1


def grow(
    company: Company,
    rng: np.random.Generator,
    boss: int,
    below: int,
    department: str,
    group: str,
    counter: dict[str, int],
) -> None:
    """Give ``boss`` a subtree of ``below`` people: a team of ICs if 3..12, else 3-8 parts
    of at least 4 people (a manager and 3 reports) each grown the same way."""
    if below <= 12:
        counter[group] = counter.get(group, 0) + 1
        name = f"{department} {group} {counter[group]}"
        location = str(rng.choice(LOCATIONS, p=LOCATION_SHARES))
        company.team[boss] = name
        company.location[boss] = location
        company.title[boss] = f"{department} Manager"
        for _ in range(below):
            moved = rng.random() < 0.1
            place = str(rng.choice(LOCATIONS)) if moved else location
            company.add(boss, department, str(rng.choice(IC_TITLES[department])), name, place)
        return
    if below > 72:
        parts = int(rng.integers(4, 9))
    else:  # aim at teams of about 8
        parts = min(max(3, round(below / 9)), below // 4)
    sizes = 4 + rng.multinomial(below - 4 * parts, rng.dirichlet(np.full(parts, 4.0)))
    for size in sizes:
        child = company.add(boss, department, "Director", "", company.location[boss])
        grow(company, rng, child, int(size) - 1, department, group, counter)


def build_company(rng: np.random.Generator) -> Company:
    """The CEO, one VP per department, and each department's subtree."""
    company = Company()
    ceo = company.add(-1, "Operations", "CEO", "", "New York")
    for department, (people, groups) in DEPARTMENTS.items():
        size = people - (1 if department == "Operations" else 0)  # the CEO counts there
        vp = company.add(ceo, department, f"VP {department}", "", "New York")
        below = size - 1
        parts = len(groups)
        sizes = 4 + rng.multinomial(below - 4 * parts, rng.dirichlet(np.full(parts, 6.0)))
        counter: dict[str, int] = {}
        for group, part in zip(groups, sizes, strict=True):
            head = company.add(vp, department, "Director", "", str(rng.choice(LOCATIONS[:5])))
            grow(company, rng, head, int(part) - 1, department, group, counter)
    retitle_deep_directors(company)
    return company


def retitle_deep_directors(company: Company) -> None:
    """A director below another director (level 4 and deeper) is a Senior Manager."""
    for i, title in enumerate(company.title):
        if title == "Director" and company.title[company.manager[i]] == "Director":
            company.title[i] = "Senior Manager"


def dotted_lines(company: Company, rng: np.random.Generator) -> list[int]:
    """A dotted-line manager (another department's manager) for about 3% of employees."""
    n = len(company.manager)
    managers = np.unique([m for m in company.manager if m >= 0])
    dotted = [-1] * n
    for i in rng.choice(np.arange(1, n), size=int(DOTTED_SHARE * n), replace=False):
        others = managers[
            [
                company.department[m] != company.department[i] and m != company.manager[i]
                for m in managers
            ]
        ]
        dotted[int(i)] = int(rng.choice(others))
    return dotted


def communication_ties(
    company: Company, rng: np.random.Generator
) -> list[tuple[int, int, int, str]]:
    """About TIES_PER_PERSON ties per person: (a, b, messages per quarter, kind)."""
    n = len(company.manager)
    by_team: dict[str, list[int]] = {}
    by_department: dict[str, list[int]] = {}
    for i in range(n):
        by_team.setdefault(company.team[i] or f"of {company.manager[i]}", []).append(i)
        by_department.setdefault(company.department[i], []).append(i)
    seen: set[tuple[int, int]] = set()
    ties = []
    target = n * TIES_PER_PERSON // 2
    while len(ties) < target:
        a = int(rng.integers(n))
        where = rng.random()
        if where < 0.45:
            pool = by_team[company.team[a] or f"of {company.manager[a]}"]
        elif where < 0.8:
            pool = by_department[company.department[a]]
        else:
            pool = range(n)
        b = int(pool[int(rng.integers(len(pool)))])
        pair = (min(a, b), max(a, b))
        if a == b or pair in seen:
            continue
        seen.add(pair)
        messages = max(1, int(round(rng.lognormal(mean=3.0, sigma=1.2))))
        kind = str(rng.choice(TIE_KINDS, p=TIE_KIND_SHARES))
        ties.append((a, b, messages, kind))
    return ties


def employee_ids(n: int, rng: np.random.Generator) -> list[str]:
    """HR-looking ids: 'AC' and five digits, unique, not in org order (hires over time)."""
    numbers = rng.choice(np.arange(1, 20_000), size=n, replace=False)
    return [f"AC{k:05d}" for k in numbers]


def write(seed: int, folder: Path = HERE) -> None:
    """Write people.csv and ties.csv for ``seed`` into ``folder``."""
    rng = np.random.default_rng(seed)
    company = build_company(rng)
    dotted = dotted_lines(company, rng)
    ties = communication_ties(company, rng)
    ids = employee_ids(len(company.manager), rng)
    order = sorted(range(len(ids)), key=lambda i: ids[i])
    with open(folder / "people.csv", "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(COLUMNS)
        for i in order:
            boss = company.manager[i]
            out.writerow(
                [
                    ids[i],
                    ids[boss] if boss >= 0 else "",
                    company.department[i],
                    company.team[i],
                    company.title[i],
                    company.location[i],
                    ids[dotted[i]] if dotted[i] >= 0 else "",
                ]
            )
    with open(folder / "ties.csv", "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(["source", "target", "weight", "kind"])
        for a, b, messages, kind in sorted(ties, key=lambda t: (ids[t[0]], ids[t[1]])):
            out.writerow([ids[a], ids[b], messages, kind])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    write(parser.parse_args().seed)


if __name__ == "__main__":
    main()
