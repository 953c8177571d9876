"""Org charts (``[org] generator = "chart"``): the people and ties files, every validation
message (file, line, column, what is wrong), the weight mapping, and both engines on a
chart org."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sim import org as orgs
from sim.engines.batched import simulate_batched
from sim.engines.memory import expected_people
from sim.engines.reference import simulate_reference
from sim.org import OrgDataError, build_org
from sim.org_chart import load_chart, tie_strengths
from sim.scenario import OrgSpec, ScenarioError, load_scenario
from tests.conftest import make_plans

ROOT = Path(__file__).resolve().parents[1]
ACME = ROOT / "scenarios" / "acme"

PEOPLE = """employee_id,manager_id,department,team,title,location,dotted_manager_id
E1,,Exec,,CEO,NY,
E2,E1,Sales,Sales A,VP Sales,NY,
E3,E2,Sales,Sales A,Rep,NY,
E4,E2,Sales,Sales A,Rep,London,E5
E5,E1,Eng,,VP Eng,NY,
E6,E5,Eng,,Engineer,Berlin,
E7,E5,Eng,,Engineer,Berlin,
"""
TIES = """source,target,weight,kind
E3,E6,10,advice
E4,E7,100,friendship
E6,E3,50,advice
E1,E2,5,cowork
E6,E7,20,
"""


def write(folder: Path, name: str, text: str | bytes, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
    return path


def chart_error(tmp_path: Path, people: str | bytes, ties: str | bytes | None = None) -> str:
    """The OrgDataError message for these files (one line, naming the file)."""
    chart = write(tmp_path, "people.csv", people)
    tie_file = None if ties is None else write(tmp_path, "ties.csv", ties)
    with pytest.raises(OrgDataError) as info:
        load_chart(chart, tie_file)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(tie_file if ties is not None and "ties" in message else chart))
    return message


def assert_names(message: str, *fragments: str) -> None:
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from {message!r}"


def signature(org) -> dict:
    """Everything a loaded org is: ties with kinds and strengths, arrays, names."""
    return {
        "edges": sorted(
            (min(a, b), max(a, b), d["kind"], d.get("strength", 1.0))
            for a, b, d in org.graph.edges(data=True)
        ),
        "arrays": [getattr(org, f).tolist() for f in ("department", "team", "manager", "level")],
        "names": (org.department_names, org.employee_ids, org.titles, org.locations),
        "teams": org.team_names,
    }


# --- the people file ---------------------------------------------------------------------


def test_people_file_gives_hierarchy_named_teams_and_dotted_lines(tmp_path):
    org = load_chart(write(tmp_path, "people.csv", PEOPLE))
    assert org.n == 7
    assert org.employee_ids == ("E1", "E2", "E3", "E4", "E5", "E6", "E7")
    assert org.department_names == ("Eng", "Exec", "Sales")  # sorted
    assert org.department.tolist() == [1, 2, 2, 2, 0, 0, 0]
    assert org.manager.tolist() == [-1, 0, 1, 1, 0, 4, 4]
    assert org.level.tolist() == [0, 1, 2, 2, 1, 2, 2]
    # Sales A: E2 (level 1) leads it; E5 has no team name: its manager E1's team (E1 leads
    # its own); E6 and E7 join the team E5 leads.
    assert org.team.tolist() == [0, 1, 1, 1, 0, 4, 4]
    assert org.team_names == {1: "Sales A"}
    assert org.team_name(4) == "team of E5"
    kinds = {(min(a, b), max(a, b)): k for a, b, k in org.graph.edges(data="kind")}
    assert kinds[(3, 4)] == "dotted"
    assert kinds[(0, 1)] == kinds[(1, 2)] == "manager"
    assert kinds[(2, 3)] == kinds[(1, 2)] == "manager" or kinds[(2, 3)] == "peer"
    assert kinds[(2, 3)] == kinds[(5, 6)] == "peer"
    assert (1, 4) not in kinds  # E2 left E1's team for Sales A: no longer E5's teammate
    assert org.titles[0] == "CEO" and org.locations[3] == "London"


def test_team_leader_is_the_most_senior_member_not_the_first_listed(tmp_path):
    people = (
        "employee_id,manager_id,department,team\n"
        "R1,M,Ops,Blue\nR2,M,Ops,Blue\nM,Boss,Ops,Blue\nBoss,,Ops,\nX,M,Ops,\n"
    )
    org = load_chart(write(tmp_path, "people.csv", people))
    m = org.index_of("M")
    assert org.team.tolist() == [m, m, m, org.index_of("Boss"), m]  # X: M's team, Blue
    assert org.team_names == {m: "Blue"}
    assert org.members(teams=["Blue"]).sum() == 4


def test_equal_seniority_leader_is_the_first_in_the_file(tmp_path):
    people = "employee_id,department,team\nP3,Law,Tax\nP1,Law,Tax\nP2,Law,Audit\n"
    org = load_chart(write(tmp_path, "people.csv", people))
    assert org.team_names == {0: "Tax", 2: "Audit"}


def test_flat_partnership_without_manager_column(tmp_path):
    people = "employee_id,department,team\nA,Law,Tax\nB,Law,Tax\nC,Law,Tax\nD,Law,Audit\nE,Law,\n"
    org = load_chart(write(tmp_path, "people.csv", people))
    assert org.manager.tolist() == [-1] * 5
    assert org.level.tolist() == [0] * 5
    assert org.team.tolist() == [0, 0, 0, 3, 4]  # E: no team, no manager: its own
    assert sorted(org.graph.edges(data="kind")) == [
        (0, 1, "peer"),
        (0, 2, "peer"),
        (1, 2, "peer"),
    ]


def test_without_team_column_teams_are_the_hierarchy_generators(tmp_path):
    """A chart written from hierarchy() (no informal ties) loads back as the same org."""
    made = orgs.hierarchy(90, span=4, departments=3, informal_ties=0.0, seed=3)
    rows = ["employee_id,manager_id,department"]
    for i in range(made.n):
        boss = "" if made.manager[i] < 0 else f"P{made.manager[i]}"
        rows.append(f"P{i},{boss},{made.department_names[made.department[i]]}")
    org = load_chart(write(tmp_path, "people.csv", "\n".join(rows) + "\n"))
    edges = {(min(a, b), max(a, b), k) for a, b, k in made.graph.edges(data="kind")}
    assert {(min(a, b), max(a, b), k) for a, b, k in org.graph.edges(data="kind")} == edges
    for field in ("department", "team", "manager", "level"):
        assert np.array_equal(getattr(org, field), getattr(made, field)), field
    assert org.department_names == made.department_names


def test_manager_listed_after_its_reports_and_spaces_around_cells(tmp_path):
    people = " Employee_ID ; Manager_Id ;DEPARTMENT\n a ; b ; X \n b ;; X \n"
    org = load_chart(write(tmp_path, "people.csv", people))
    assert org.employee_ids == ("a", "b")
    assert org.manager.tolist() == [1, -1]
    assert org.department_names == ("X",)


@pytest.mark.parametrize("variant", ["bom", "semicolon", "tab", "crlf", "blank-lines"])
def test_file_variants_load_identically_to_a_comma_file(tmp_path, variant):
    base = load_chart(write(tmp_path, "people.csv", PEOPLE), write(tmp_path, "ties.csv", TIES))
    folder = tmp_path / variant
    folder.mkdir()
    people, ties = PEOPLE, TIES
    if variant in ("semicolon", "tab"):
        delimiter = ";" if variant == "semicolon" else "\t"
        people, ties = people.replace(",", delimiter), ties.replace(",", delimiter)
    elif variant == "crlf":
        people, ties = people.replace("\n", "\r\n"), ties.replace("\n", "\r\n")
    elif variant == "blank-lines":
        people, ties = people.replace("\nE5", "\n\nE5"), "\n" + ties + "\n\n"
    encoding = "utf-8-sig" if variant == "bom" else "utf-8"
    other = load_chart(
        write(folder, "people.csv", people, encoding), write(folder, "ties.csv", ties, encoding)
    )
    assert signature(other) == signature(base)


def test_quoted_cells_may_hold_the_delimiter(tmp_path):
    people = 'employee_id,department,title\nA,"Sales, EMEA","VP, Sales"\n'
    org = load_chart(write(tmp_path, "people.csv", people))
    assert org.department_names == ("Sales, EMEA",) and org.titles == ("VP, Sales",)


# --- the ties file -----------------------------------------------------------------------


def test_ties_kinds_duplicates_and_structural_overlap(tmp_path):
    org = load_chart(write(tmp_path, "people.csv", PEOPLE), write(tmp_path, "ties.csv", TIES))
    # after de-duplication, weights: E3-E6 50 (reverse row kept, larger), E4-E7 100,
    # E1-E2 5, E6-E7 20: ranks 3, 4, 1, 2 of 4
    expected = {
        (2, 5): ("advice", 0.25 + 1.5 * 2.5 / 4),
        (3, 6): ("friendship", 0.25 + 1.5 * 3.5 / 4),
        (0, 1): ("manager", 1.0),  # structural: keeps its kind, strength max(1, 0.4375)
        (5, 6): ("peer", max(1.0, 0.25 + 1.5 * 1.5 / 4)),  # empty kind row; peer stays peer
    }
    for (a, b), (kind, strength) in expected.items():
        edge = org.graph.edges[a, b]
        assert (edge["kind"], edge["strength"]) == (kind, pytest.approx(strength)), (a, b)


def test_structural_tie_is_reinforced_by_a_strong_ties_row(tmp_path):
    ties = "source,target,weight\nE1,E2,1\nE6,E7,9\n"  # E6-E7 teammates, rank 2 of 2
    org = load_chart(write(tmp_path, "people.csv", PEOPLE), write(tmp_path, "ties.csv", ties))
    assert org.graph.edges[5, 6] == {"kind": "peer", "strength": 0.25 + 1.5 * 0.75}
    assert org.graph.edges[0, 1] == {"kind": "manager", "strength": 1.0}


def test_ties_without_weight_or_kind_are_informal_with_strength_one(tmp_path):
    ties = "target,source\nE3,E7\nE6,E4\n"
    org = load_chart(write(tmp_path, "people.csv", PEOPLE), write(tmp_path, "ties.csv", ties))
    assert org.graph.edges[2, 6] == {"kind": "informal", "strength": 1.0}
    assert org.graph.edges[3, 5] == {"kind": "informal", "strength": 1.0}


def test_unweighted_structural_ties_carry_no_strength(tmp_path):
    org = load_chart(write(tmp_path, "people.csv", PEOPLE))
    assert all("strength" not in d for _, _, d in org.graph.edges(data=True))


# --- the weight mapping ------------------------------------------------------------------

HEAVY = np.array([3.0, 1.0, 250.0, 12.0, 12.0, 7.0, 40.0, 2.0, 12.0, 5000.0])


def test_strengths_are_monotone_in_the_weights_with_mean_one():
    strengths = tie_strengths(HEAVY)
    order = np.argsort(HEAVY, kind="stable")
    assert np.all(np.diff(strengths[order]) >= 0)
    assert strengths.mean() == pytest.approx(1.0)
    assert 0.25 < strengths.min() and strengths.max() < 1.75
    assert len(set(strengths[HEAVY == 12.0])) == 1  # equal weights share a strength


@pytest.mark.parametrize(
    "transform",
    [lambda w: w * 60, lambda w: w / 7, np.log1p, np.sqrt, lambda w: w**3],
    ids=["minutes", "per-week", "log", "sqrt", "cube"],
)
def test_strengths_are_scale_free(transform):
    """Any increasing transformation of the weights gives identical strengths."""
    assert tie_strengths(transform(HEAVY)).tolist() == tie_strengths(HEAVY).tolist()


def test_an_outlier_does_not_squash_the_other_ties():
    """Rank-based: a 1000x outlier changes no other tie's strength.  A mapping by value
    (weight / mean, or a min-max scale) fails this: the other ties would collapse."""
    tame, wild = HEAVY.copy(), HEAVY.copy()
    wild[np.argmax(wild)] *= 1000
    assert tie_strengths(wild).tolist() == tie_strengths(tame).tolist()


def test_equal_weights_or_one_tie_give_strength_one():
    assert tie_strengths(np.full(5, 42.0)).tolist() == [1.0] * 5
    assert tie_strengths(np.array([0.3])).tolist() == [1.0]


# --- validation: one message each, naming file, line and column --------------------------

HEAD = "employee_id,manager_id,department,dotted_manager_id\n"


@pytest.mark.parametrize(
    "people, fragments",
    [
        (
            HEAD + "A,,X,\nB,A,X,\nA,B,X,\n",
            ["line 4, column employee_id", "duplicate employee id 'A'", "first on line 2"],
        ),
        (
            HEAD + "A,,X,\nB,Q9,X,\n",
            ["line 3, column manager_id", "unknown manager 'Q9'", "no row has that employee_id"],
        ),
        (
            HEAD + "A,,X,\nB,C,X,\nC,D,X,\nD,B,X,\n",
            ["column manager_id", "the management chain loops: B -> C -> D -> B", "line 3"],
        ),
        (
            HEAD + "A,,X,\nB,B,X,\n",
            ["line 3, column manager_id", "'B' is its own manager", "leave it empty"],
        ),
        (
            HEAD + "A,,X,\nB,A,X,Z\n",
            ["line 3, column dotted_manager_id", "unknown dotted-line manager 'Z'"],
        ),
        (HEAD + "A,,X,A\n", ["line 2, column dotted_manager_id", "its own dotted-line manager"]),
        (HEAD + "A,,X,\n,A,X,\n", ["line 3, column employee_id", "empty"]),
        (HEAD + "A,,X,\nB,A,,\n", ["line 3, column department", "needs a department"]),
        (HEAD + "A,,X,\nB,A,X\n", ["line 3", "3 fields but the header has 4", "comma"]),
        (HEAD + "A,,X,\nB,A,X,,,\n", ["line 3", "6 fields but the header has 4"]),
        ("", ["the file is empty", "employee_id, department"]),
        (" \n\n", ["the file is empty"]),
        (HEAD, ["only a header line, no rows", "one row per employee"]),
        (
            "id,boss,dept\n1,,X\n",
            ["line 1", "missing column(s) employee_id, department", "found columns: id, boss"],
        ),
        ("employee_id,Department,department\nA,X,X\n", ["column 'department' appears twice"]),
        (
            "employee_id|department\nA|X\n",
            ["missing column(s) employee_id, department", "found columns: employee_id|department"],
        ),
    ],
    ids=[
        "duplicate-id",
        "unknown-manager",
        "cycle",
        "own-manager",
        "unknown-dotted",
        "own-dotted",
        "empty-id",
        "empty-department",
        "too-few-fields",
        "too-many-fields",
        "empty-file",
        "blank-file",
        "header-only",
        "missing-column",
        "duplicate-column",
        "unknown-delimiter",
    ],
)
def test_bad_people_file(tmp_path, people, fragments):
    message = chart_error(tmp_path, people)
    assert_names(message, "people.csv", *fragments)


def test_cycle_through_the_top_of_a_long_chain_is_named_once(tmp_path):
    message = chart_error(tmp_path, HEAD + "A,B,X,\nB,A,X,\nC,A,X,\n")
    assert_names(message, "A -> B -> A", "line 2")


@pytest.mark.parametrize(
    "ties, fragments",
    [
        ("source,target\nE1,E1\n", ["line 2, column target", "from 'E1' to itself"]),
        ("source,target\nE1,E2\nE9,E2\n", ["line 3, column source", "unknown employee id 'E9'"]),
        ("source,target\nE1,NOPE\n", ["line 2, column target", "unknown employee id 'NOPE'"]),
        ("source,target\nE1,\n", ["line 2, column target", "empty"]),
        ("source,target,weight\nE1,E2,0\n", ["line 2, column weight", "0 is not > 0"]),
        ("source,target,weight\nE1,E2,3\nE1,E3,-3\n", ["line 3, column weight", "-3 is not > 0"]),
        ("source,target,weight\nE1,E2,ten\n", ["line 2, column weight", "'ten' is not a number"]),
        ("source,target,weight\nE1,E2,\n", ["line 2, column weight", "empty", "number > 0"]),
        ("source,target,weight\nE1,E2,inf\n", ["line 2, column weight", "not a finite number"]),
        ("source,target,weight\nE1,E2,nan\n", ["line 2, column weight", "not a finite number"]),
        ('source,target,weight\nE1,E2,"1,5"\n', ["'1,5' is not a number", "decimal point"]),
        ("from,to\nE1,E2\n", ["missing column(s) source, target", "found columns: from, to"]),
        ("source,target,weight,kind\n", ["only a header line", "one row per tie"]),
        ("", ["the file is empty", "source, target"]),
    ],
    ids=[
        "self-tie",
        "unknown-source",
        "unknown-target",
        "empty-target",
        "zero-weight",
        "negative-weight",
        "text-weight",
        "empty-weight",
        "infinite-weight",
        "nan-weight",
        "decimal-comma",
        "missing-column",
        "header-only",
        "empty-file",
    ],
)
def test_bad_ties_file(tmp_path, ties, fragments):
    message = chart_error(tmp_path, PEOPLE, ties)
    assert_names(message, "ties.csv", *fragments)


@pytest.mark.parametrize(
    "data, fragments",
    [
        ("employee_id,department\nA,Zürich\n".encode("latin-1"), ["line 2", "not UTF-8"]),
        ("employee_id,department\nA,Zürich\n".encode("utf-16"), ["UTF-16", "not UTF-8"]),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ["binary file", "NUL bytes"]),
        (b"PK\x03\x04\x14\x00\x06\x00", ["Excel workbook", "CSV UTF-8"]),
    ],
    ids=["latin-1", "utf-16", "binary", "xlsx"],
)
def test_bad_encoding_or_binary(tmp_path, data, fragments):
    message = chart_error(tmp_path, data)
    assert_names(message, "people.csv", *fragments)
    if "UTF-8" in fragments[-1] and "Excel" not in fragments[0]:
        assert_names(message, "re-save it as UTF-8", "iconv")


def test_missing_chart_file(tmp_path):
    with pytest.raises(OrgDataError, match="nowhere.csv: file not found"):
        load_chart(tmp_path / "nowhere.csv")
    with pytest.raises(OrgDataError, match="is a folder"):
        load_chart(tmp_path)


# --- scenarios using a chart ---------------------------------------------------------------


def chart_scenario(tmp_path: Path, org_lines: str, plans: str = "") -> Path:
    write(tmp_path, "people.csv", PEOPLE)
    write(tmp_path, "ties.csv", TIES)
    head = 'name = "c"\nweeks = 3\nseeding = { count = 2 }\n[org]\ngenerator = "chart"\n'
    return write(tmp_path, "s.toml", head + org_lines + plans)


def test_relative_chart_and_ties_resolve_against_the_scenario_folder(tmp_path, monkeypatch):
    path = chart_scenario(tmp_path, 'chart = "people.csv"\nties = "ties.csv"\n')
    monkeypatch.chdir(ROOT)
    spec = load_scenario(path).plans[0].config.org
    assert spec.chart == str(tmp_path / "people.csv") and spec.ties == str(tmp_path / "ties.csv")
    assert build_org(spec, 0).n == 7


@pytest.mark.parametrize("key", ["chart", "ties"])
def test_scenario_naming_a_missing_chart_file(tmp_path, key):
    other = "ties.csv" if key == "chart" else "people.csv"
    lines = f'{key} = "gone.csv"\n{"ties" if key == "chart" else "chart"} = "{other}"\n'
    path = chart_scenario(tmp_path, lines)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert_names(str(info.value), str(path), f"org.{key}: file", "gone.csv", "not found")


def test_chart_generator_needs_a_chart(tmp_path):
    with pytest.raises(ScenarioError, match="needs chart"):
        load_scenario(chart_scenario(tmp_path, ""))


def test_unknown_tie_kind_in_weights_lists_the_org_kinds(tmp_path):
    path = chart_scenario(
        tmp_path,
        'chart = "people.csv"\nties = "ties.csv"\n[org.tie_weights]\nadvise = 2\n',
    )
    from sim.engines.runner import prepare

    with pytest.raises(ScenarioError) as info:
        prepare(load_scenario(path))
    assert_names(
        str(info.value),
        "org.tie_weights.advise: no tie in the org is of kind 'advise'",
        "kinds in this org: advice, dotted, friendship, manager, peer",
    )


def test_memory_estimate_counts_the_chart_rows(tmp_path):
    path = chart_scenario(tmp_path, 'chart = "people.csv"\n')
    assert expected_people(load_scenario(path).plans[0].config.org) == 8  # 7 rows + header


# --- the shipped example -------------------------------------------------------------------


def test_acme_files_load():
    org = build_org(
        OrgSpec(generator="chart", chart=str(ACME / "people.csv"), ties=str(ACME / "ties.csv")),
        0,
    )
    assert org.n == 3000
    sizes = dict(zip(org.department_names, np.bincount(org.department).tolist(), strict=True))
    assert len(sizes) == 7 and sizes["Engineering"] == 900 and sizes["People"] == 150
    spans = np.bincount(org.manager[org.manager >= 0])
    assert spans[spans > 0].min() >= 3 and spans.max() <= 12
    assert org.titles[org.head] == "CEO"
    kinds = {k for _, _, k in org.graph.edges(data="kind")}
    assert kinds == {"manager", "peer", "dotted", "cowork", "advice", "friendship"}
    dotted = sum(k == "dotted" for _, _, k in org.graph.edges(data="kind"))
    assert 0.02 * org.n <= dotted <= 0.04 * org.n
    assert any(name.startswith("Sales EMEA ") for name in org.team_names.values())


def test_acme_scenario_checks(tmp_path):
    from sim.engines.runner import prepare

    prepared = prepare(load_scenario(ACME / "acme.toml"))
    assert [p.plan.name for p in prepared] == [
        "bottom-up",
        "top-down",
        "pilot-then-staged",
        "hybrid",
    ]
    assert prepared[0].org.n == 3000


# --- both engines on a chart org ----------------------------------------------------------


def small_chart(folder: Path) -> tuple[Path, Path]:
    """A 120-person chart from hierarchy(): named teams for some, dotted lines, and
    weighted ties of three kinds."""
    made = orgs.hierarchy(120, span=5, departments=3, informal_ties=0.0, seed=11)
    rng = np.random.default_rng(5)
    rows = ["employee_id,manager_id,department,team,dotted_manager_id"]
    for i in range(made.n):
        boss = "" if made.manager[i] < 0 else f"X{made.manager[i]:03d}"
        team = f"Squad {made.team[i]}" if made.team[i] % 3 == 0 and made.level[i] > 1 else ""
        dotted = f"X{(i * 7) % made.n:03d}" if i % 17 == 5 else ""
        dept = ["Eng", "Sales", "Ops"][made.department[i]]
        rows.append(f"X{i:03d},{boss},{dept},{team},{dotted}")
    ties = ["source,target,weight,kind"]
    for _ in range(250):
        a, b = rng.choice(made.n, size=2, replace=False)
        kind = ["advice", "friendship", ""][int(rng.integers(3))]
        ties.append(f"X{a:03d},X{b:03d},{rng.lognormal(2, 1.3):.2f},{kind}")
    return (
        write(folder, "people.csv", "\n".join(rows) + "\n"),
        write(folder, "ties.csv", "\n".join(ties) + "\n"),
    )


@pytest.mark.parametrize("plan", ["freemium-brokers", "dept-mandate"])
def test_engines_agree_on_a_chart_org(tmp_path, plan):
    chart, ties = small_chart(tmp_path)
    base = {
        "weeks": 30,
        "replicates": 2,
        "seed": 9,
        "org": {
            "generator": "chart",
            "chart": str(chart),
            "ties": str(ties),
            "tie_weights": {
                "manager": 1.5,
                "dotted": 0.5,
                "informal": 0.75,
                "advice": 1.25,
                "friendship": 2.0,
            },
        },
        "discovery": {"external_rate": 0.02, "word_of_mouth": 0.5},
        "adoption": {"rule": "threshold", "threshold": 0.15, "p": 0.01},
        "freemium": {"free_seats": 2, "decision_rate": 0.3},
        "abandonment": {"rate": 0.05},
    }
    plans = [
        {"name": "freemium-brokers", "seeding": {"strategy": "brokers", "count": 6}},
        {
            "name": "dept-mandate",
            "seeding": {"strategy": "none", "count": 0},
            "mandate": {"enabled": True, "week": 3, "scope": ["Sales"], "compliance": 0.4},
        },
    ]
    (prepared,) = [p for p in make_plans(base, plans) if p.plan.name == plan]
    assert len(prepared.org.team_names) > 0 and not math.isnan(prepared.org.n)
    ref, ref_dept = simulate_reference(prepared.config, prepared.org, [0, 1])
    bat, bat_dept = simulate_batched(prepared.config, prepared.org, [0, 1])
    assert ref.columns == bat.columns
    for column in ref.columns:
        assert ref[column].to_list() == bat[column].to_list(), column
    assert ref_dept.equals(bat_dept)
    assert ref["active"].max() > 0  # the run did something


def test_the_documented_example_loads(tmp_path):
    """docs/scenarios.md's example files are valid and give what the text says."""
    from sim.scenario.chart_docs import CHART_SECTION

    blocks = CHART_SECTION.split("```\n")
    people = next(b for b in blocks if b.startswith("employee_id,"))
    ties = next(b for b in blocks if b.startswith("source,target"))
    org = load_chart(write(tmp_path, "people.csv", people), write(tmp_path, "ties.csv", ties))
    assert org.n == 9 and org.department_names == ("Engineering", "Operations", "Sales")
    assert sorted(org.team_names.values()) == ["Engineering Platform 1", "Sales EMEA 1"]
    kinds = {k for _, _, k in org.graph.edges(data="kind")}
    assert {"dotted", "cowork", "advice", "friendship"} <= kinds


def test_editing_the_chart_changes_the_scenario_hash(tmp_path):
    """The scenario hash (which a resumed sweep must match) covers the chart's bytes: an
    edited people.csv is a different run, never a resumable one."""
    write(tmp_path, "people.csv", "employee_id,manager_id,department\nA,,X\nB,A,X\nC,A,Y\n")
    scenario = write(
        tmp_path,
        "s.toml",
        'name = "s"\n[org]\ngenerator = "chart"\nchart = "people.csv"\n'
        '[seeding]\nstrategy = "random"\ncount = 1\n',
    )
    before = load_scenario(scenario).digest()
    assert load_scenario(scenario).digest() == before  # stable
    write(tmp_path, "people.csv", "employee_id,manager_id,department\nA,,X\nB,A,X\nC,B,Y\n")
    assert load_scenario(scenario).digest() != before


def test_an_unclosed_quote_is_refused_not_swallowing_the_rest(tmp_path):
    """A stray double quote in the last column used to fold every later row into one
    cell; now it is one message naming the line."""
    message = chart_error(
        tmp_path, 'employee_id,manager_id,department\nA,,X\nB,A,"Y\nC,A,X\nD,A,X\n'
    )
    assert_names(message, "people.csv", "line 3", "never closed")


def test_utf16_gets_the_right_conversion_hint(tmp_path):
    text = "employee_id,manager_id,department\nA,,X\n"
    message = chart_error(tmp_path, text.encode("utf-16"))
    assert_names(message, "UTF-16", "iconv -f UTF-16")


def test_excel_header_names_and_separator_line_are_understood(tmp_path):
    """'Employee ID' is employee_id, 'Manager-ID' manager_id; Excel's 'sep=;' first line
    names the separator."""
    path = write(tmp_path, "people.csv", "sep=;\nEmployee ID;Manager-ID;Department\nA;;X\nB;A;Y\n")
    org = load_chart(path)
    assert org.employee_ids == ("A", "B") and org.department_names == ("X", "Y")
    assert int(org.manager[1]) == 0


def test_two_results_folders_are_the_same_org_by_file_content(tmp_path):
    """compare A B judges 'same org' by the chart's content: a copy of people.csv in
    another folder is the same org; an edited one is not (even at the same path)."""
    import shutil

    from sim import api
    from sim.errors import AdoptsimError

    people = "employee_id,manager_id,department\n" + "".join(
        f"E{i},{'' if i == 0 else 'E0'},{'AB'[i % 2]}\n" for i in range(30)
    )
    toml = (
        'name = "{name}"\nweeks = 4\nreplicates = 2\n[org]\ngenerator = "chart"\n'
        'chart = "people.csv"\n[seeding]\nstrategy = "random"\ncount = 3\n'
    )
    first, second = tmp_path / "first", tmp_path / "second"
    for folder, name in ((first, "one"), (second, "two")):
        folder.mkdir()
        write(folder, "people.csv", people)
        write(folder, "s.toml", toml.format(name=name))
    results = tmp_path / "results"
    one = api.run(first / "s.toml").save(results)
    two = api.run(second / "s.toml").save(results)
    compared = api.compare_folders(one, two)  # copied file: the same org
    assert compared.plans == ["base"]
    write(second, "people.csv", people.replace("E29,E0,B", "E29,E0,A"))
    shutil.rmtree(two)
    two = api.run(second / "s.toml").save(results)
    with pytest.raises(AdoptsimError) as info:
        api.compare_folders(one, two)
    assert "not of the same org" in str(info.value) and "chart" in str(info.value)
