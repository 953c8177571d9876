"""Scenario files: every bad input gets one ScenarioError naming the file, the field and
what is allowed; good inputs (the shipped scenarios) load and build their orgs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sim.engines.runner import prepare
from sim.org import KRACKHARDT_DIR, OrgDataError
from sim.scenario import WEIGHT_QUANTUM, ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def write(folder: Path, text: str, name: str = "bad.toml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def error_of(path: Path, build: bool = False) -> str:
    """The ScenarioError message for a file (after building orgs too, if asked)."""
    with pytest.raises(ScenarioError) as info:
        scenario = load_scenario(path)
        if build:
            prepare(scenario)
    message = str(info.value)
    assert "\n" not in message, f"message spans several lines: {message!r}"
    assert message.startswith(f"{path}:"), f"message does not start with the file: {message!r}"
    return message


def assert_names(message: str, *fragments: str) -> None:
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from {message!r}"


# (id, TOML text, fragments the message must contain: field, then what is allowed / got)
BAD = [
    (
        "unknown-top-level-key",
        'name = "s"\nbogus = 1\n',
        ["bogus", "unknown field", "allowed here", "weeks", "org", "freemium"],
    ),
    (
        "unknown-key-in-table",
        "[freemium]\nfree_seatz = 3\n",
        [
            "freemium.free_seatz",
            "unknown field",
            "allowed here: decision_rate, demand_scale, enabled, free_seats, free_value, "
            "holder_boost, trial_weeks, workspace",
        ],
    ),
    (
        "negative-free-seats",
        "[freemium]\nfree_seats = -1\n",
        ["freemium.free_seats", "greater than or equal to 0", "(got -1)"],
    ),
    (
        "negative-weeks",
        "weeks = -3\n",
        ["weeks:", "greater than or equal to 1", "(got -3)", "1..1040"],
    ),
    ("negative-seed", "seed = -1\n", ["seed:", "greater than or equal to 0", "(got -1)"]),
    (
        "negative-price",
        "[tool]\nprice_per_seat_week = -2.5\n",
        ["tool.price_per_seat_week", "greater than or equal to 0", "(got -2.5)"],
    ),
    (
        "probability-above-one",
        "[adoption]\np = 1.5\nq = 0\n",
        ["adoption.p", "less than or equal to 1", "(got 1.5)", "0..1"],
    ),
    (
        "rate-above-one",
        "[abandonment]\nrate = 2\n",
        ["abandonment.rate", "less than or equal to 1", "(got 2)", "0..1"],
    ),
    (
        "compliance-above-one",
        "[mandate]\ncompliance = 1.01\n",
        ["mandate.compliance", "less than or equal to 1", "(got 1.01)"],
    ),
    (
        "nan-probability",
        "[adoption]\np = nan\n",
        ["adoption.p", "(got nan)", "0..1"],
    ),
    (
        "string-for-float",
        '[tool]\nprice_per_seat_week = "cheap"\n',
        ["tool.price_per_seat_week", "valid number", "(got 'cheap')"],
    ),
    (
        "string-for-int",
        '[org]\nn = "many"\n',
        ["org.n", "valid integer", "(got 'many')", "2..1,000,000"],
    ),
    (
        "fraction-for-int",
        "[org]\nn = 50.5\n",
        ["org.n", "valid integer", "(got 50.5)"],
    ),
    (
        "scalar-for-table",
        "freemium = 3\n",
        ["freemium:", "valid dictionary", "(got 3)"],
    ),
    (
        "bad-rule",
        '[adoption]\nrule = "magic"\n',
        ["adoption.rule", "'linear', 'threshold' or 'count'", "(got 'magic')"],
    ),
    (
        "bad-workspace",
        '[freemium]\nworkspace = "galaxy"\n',
        ["freemium.workspace", "'team', 'department' or 'org'", "(got 'galaxy')"],
    ),
    (
        "bad-generator",
        '[org]\ngenerator = "tree"\n',
        [
            "org.generator",
            "'hierarchy', 'complete', 'erdos_renyi', 'watts_strogatz', 'barabasi_albert', "
            "'krackhardt' or 'chart'",
            "(got 'tree')",
        ],
    ),
    (
        "bad-seeding-strategy",
        '[seeding]\nstrategy = "everyone"\n',
        ["seeding.strategy", "'random'", "'brokers'", "(got 'everyone')"],
    ),
    (
        "bad-krackhardt-relation",
        '[org]\ngenerator = "krackhardt"\ninformal = ["gossip"]\n',
        ["org.informal", "'advice' or 'friendship'", "(got 'gossip')"],
    ),
    (
        "rogers-multipliers-length",
        "[adoption]\nrogers_multipliers = [1, 2]\n",
        ["adoption.rogers_multipliers", "at least 5 items"],
    ),
    (
        "rogers-multiplier-range",
        "[adoption]\nrogers_multipliers = [1, 2, 3, 4, 101]\n",
        ["adoption", "rogers_multipliers must each be in 0..100"],
    ),
    (
        "tie-weight-above-max",
        "[org.tie_weights]\nmanager = 17\n",
        ["org.tie_weights.manager", "less than or equal to 16", "0..16"],
    ),
    (
        "plan-without-name",
        '[[plans]]\ndescription = "no name"\n',
        ["plans[0].name", "letters, digits", "(got None)"],
    ),
    (
        "plan-with-bad-name",
        '[[plans]]\nname = "a b"\n',
        ["plans[0].name", "letters, digits", "(got 'a b')"],
    ),
    (
        "plan-not-a-table",
        "plans = [1, 2]\n",
        ["plans[0]", "must be a table"],
    ),
    (
        "duplicate-plan-names",
        '[[plans]]\nname = "a"\n[[plans]]\nname = "b"\n[[plans]]\nname = "a"\n',
        ["plans[2].name", "duplicate plan name 'a'"],
    ),
    (
        "plan-overrides-weeks",
        '[[plans]]\nname = "a"\n[[plans]]\nname = "b"\nweeks = 3\n',
        ["plans[1] (b).weeks", "shared by all plans", "set it at the top"],
    ),
    (
        "plan-overrides-replicates",
        '[[plans]]\nname = "a"\nreplicates = 3\n',
        ["plans[0] (a).replicates", "shared by all plans"],
    ),
    (
        "plan-overrides-seed",
        '[[plans]]\nname = "a"\nseed = 3\n',
        ["plans[0] (a).seed", "shared by all plans"],
    ),
    (
        "bad-value-inside-plan",
        '[[plans]]\nname = "a"\n[[plans]]\nname = "b"\nfreemium = { free_seats = -2 }\n',
        ["plan 'b'", "freemium.free_seats", "greater than or equal to 0", "(got -2)"],
    ),
    (
        "unknown-key-inside-plan",
        '[[plans]]\nname = "a"\n[plans.freemium]\nfree_seatz = 1\n',
        ["plan 'a'", "freemium.free_seatz", "allowed here", "free_seats"],
    ),
    (
        "linear-p-plus-q-above-one",
        '[adoption]\nrule = "linear"\np = 0.6\nq = 0.6\n',
        ["adoption", "p + q <= 1"],
    ),
    (
        "discovery-rates-above-one",
        "[discovery]\nexternal_rate = 0.6\nword_of_mouth = 0.6\n",
        ["discovery", "external_rate + word_of_mouth must be <= 1"],
    ),
    (
        "watts-strogatz-odd-k",
        '[org]\ngenerator = "watts_strogatz"\nn = 50\nk = 5\n',
        ["org", "watts_strogatz needs an even k < n", "k=5"],
    ),
    (
        "watts-strogatz-k-not-below-n",
        '[org]\ngenerator = "watts_strogatz"\nn = 10\nk = 10\n',
        ["org", "even k < n", "k=10, n=10"],
    ),
    (
        "barabasi-albert-m-not-below-n",
        '[org]\ngenerator = "barabasi_albert"\nn = 5\nm = 5\n',
        ["org", "m < n", "m=5, n=5"],
    ),
    (
        "hierarchy-n-not-above-departments",
        "[org]\nn = 6\ndepartments = 6\n",
        ["org", "hierarchy needs n > departments", "n=6, departments=6"],
    ),
    (
        "seeding-count-above-n",
        "[org]\nn = 50\ndepartments = 3\n[seeding]\ncount = 51\n",
        ["seeding.count (51) exceeds org.n (50)"],
    ),
    (
        "mandate-after-last-week",
        "weeks = 10\n[mandate]\nenabled = true\nweek = 11\n",
        ["mandate.week (11) is after the last week (10)"],
    ),
    (
        "mandate-after-last-week-in-plan",
        'weeks = 10\n[[plans]]\nname = "a"\n[[plans]]\nname = "late"\n'
        "mandate = { enabled = true, week = 12 }\n",
        ["plan 'late'", "mandate.week (12) is after the last week (10)"],
    ),
    (
        "mandate-scope-not-org",
        '[mandate]\nenabled = true\nscope = "dept"\n',
        ["mandate.scope", "'org'", "(got 'dept')"],
    ),
    ("invalid-toml", "weeks = = 3\n", ["not valid TOML", "line 1"]),
    ("empty-plans", "plans = []\n", ["plans:", "non-empty array of tables ([[plans]])"]),
    ("plans-as-table", '[plans]\nname = "a"\n', ["plans:", "non-empty array of tables"]),
    ("scenario-name", 'name = "my scenario"\n', ["name:", "letters, digits", "'my scenario'"]),
    ("description-type", "description = 5\n", ["description:", "must be a string"]),
    (
        "sweep-unknown-setting",
        "[sweep]\nfreemium.free_seatz = [1, 2]\n",
        ["sweep.freemium.free_seatz", "names no scenario setting"],
    ),
    (
        "sweep-point-invalid",
        "[sweep]\nfreemium.free_seats = [3, -1]\n",
        ["sweep point 1", "freemium.free_seats=-1", "greater than or equal to 0"],
    ),
]


@pytest.mark.parametrize(("text", "fragments"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_scenario_names_file_field_and_allowed(tmp_path, text, fragments):
    message = error_of(write(tmp_path, text))
    assert_names(message, *fragments)


def test_errors_inside_one_of_several_plans_name_the_plan(tmp_path):
    path = write(
        tmp_path,
        '[[plans]]\nname = "ok"\n[[plans]]\nname = "broken"\n[plans.adoption]\nrule = "magic"\n',
    )
    message = error_of(path)
    assert_names(message, "plan 'broken'", "adoption.rule", "(got 'magic')")
    assert "'ok'" not in message


def test_many_errors_are_counted_not_listed(tmp_path):
    path = write(tmp_path, "[freemium]\nfree_seats = -1\nfree_value = 7\ntrial_weeks = -2\n")
    message = error_of(path)
    assert_names(message, "freemium.free_seats", "(and 2 more)")


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.toml"
    message = error_of(path)
    assert message == f"{path}: file not found"


def test_folder_is_not_a_scenario_file(tmp_path):
    message = error_of(tmp_path)
    assert message == f"{tmp_path}: is a directory, expected a TOML file"


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('name = "caf\u00e9"\n'.encode("latin-1"))
    message = error_of(path)
    assert_names(message, "not a text file", "UTF-8")


def test_invalid_toml_message_points_at_the_line(tmp_path):
    path = write(tmp_path, 'name = "s"\nweeks = 10\n[org\nn = 5\n')
    message = error_of(path)
    assert_names(message, "not valid TOML", "line 3")


def test_mandate_scope_unknown_department_is_caught_by_build_orgs(tmp_path):
    path = write(
        tmp_path,
        '[org]\nn = 60\ndepartments = 3\n[mandate]\nenabled = true\nscope = ["D1", "Sales"]\n',
    )
    scenario = load_scenario(path)  # the schema cannot know the department names
    message = error_of(path, build=True)
    assert_names(
        message, "plan 'base'", "mandate.scope", "['Sales']", '"org"', "['D1', 'D2', 'D3']"
    )
    assert scenario.plans[0].config.mandate.scope == ["D1", "Sales"]


def test_unknown_key_in_nested_table_is_caught_by_build_orgs(tmp_path):
    """An extra key in org.tie_weights is a tie kind (an org chart's ties may have any):
    one that no tie of the built org has is a typo, named with the kinds the org has."""
    path = write(tmp_path, "[org.tie_weights]\nboss = 3\n")
    load_scenario(path)  # the schema cannot know the org's tie kinds
    assert_names(
        error_of(path, build=True),
        "org.tie_weights.boss",
        "no tie in the org is of kind 'boss'",
        "kinds in this org: informal, manager, peer",
    )


def test_mandate_scope_unknown_department_in_a_plan(tmp_path):
    path = write(
        tmp_path,
        '[org]\nn = 60\ndepartments = 2\n[[plans]]\nname = "a"\n[[plans]]\nname = "b"\n'
        'mandate = { enabled = true, scope = ["D3"] }\n',
    )
    message = error_of(path, build=True)
    assert_names(message, "plan 'b'", "mandate.scope", "['D3']", "['D1', 'D2']")


def test_mandate_scope_empty_list(tmp_path):
    path = write(
        tmp_path, "[org]\nn = 60\ndepartments = 3\n[mandate]\nenabled = true\nscope = []\n"
    )
    assert_names(error_of(path, build=True), "mandate.scope", "empty department list")


def test_mandate_scope_known_departments_build(tmp_path):
    path = write(
        tmp_path, '[org]\nn = 60\ndepartments = 3\n[mandate]\nenabled = true\nscope = ["D2"]\n'
    )
    (prepared,) = prepare(load_scenario(path))
    assert prepared.org.department_names == ("D1", "D2", "D3")


def test_disabled_mandate_is_not_checked_against_weeks(tmp_path):
    # week only matters when the mandate is on
    path = write(tmp_path, "weeks = 10\n[mandate]\nenabled = false\nweek = 50\n")
    assert load_scenario(path).plans[0].config.mandate.week == 50


# --- Krackhardt data folders -------------------------------------------------------------

KRACK_FILES = [
    "Krack-High-Tec-Attributes.csv",
    "Krack-High-Tec-edgelist-ReportsTo.txt",
    "Krack-High-Tec-edgelist-Advice.txt",
    "Krack-High-Tec-edgelist-Friendship.txt",
]


def krack_folder(tmp_path: Path, keep: list[str]) -> Path:
    folder = tmp_path / "krack"
    folder.mkdir()
    for name in keep:
        shutil.copy(KRACKHARDT_DIR / name, folder / name)
    return folder


@pytest.mark.parametrize("missing", KRACK_FILES)
def test_krackhardt_folder_missing_a_file(tmp_path, missing, monkeypatch):
    folder = krack_folder(tmp_path, [f for f in KRACK_FILES if f != missing])
    path = write(tmp_path, '[org]\ngenerator = "krackhardt"\npath = "krack"\n')
    monkeypatch.chdir("/")  # the relative path resolves against the scenario's folder
    scenario = load_scenario(path)
    assert scenario.plans[0].config.org.path == str(folder.resolve())
    with pytest.raises(OrgDataError) as info:
        prepare(scenario)
    assert str(info.value) == f"{folder.resolve() / missing}: file not found"


def test_krackhardt_empty_folder_names_the_attribute_file(tmp_path):
    (tmp_path / "empty").mkdir()
    path = write(tmp_path, '[org]\ngenerator = "krackhardt"\npath = "empty"\n')
    with pytest.raises(OrgDataError, match=r"empty/Krack-High-Tec-Attributes\.csv: file not found"):
        prepare(load_scenario(path))


def test_krackhardt_only_reads_the_relations_it_uses(tmp_path):
    keep = [f for f in KRACK_FILES if "Advice" not in f]
    krack_folder(tmp_path, keep)
    path = write(
        tmp_path, '[org]\ngenerator = "krackhardt"\npath = "krack"\ninformal = ["friendship"]\n'
    )
    (prepared,) = prepare(load_scenario(path))
    assert prepared.org.n == 21


def test_krackhardt_malformed_edge_list_names_file_and_line(tmp_path):
    folder = krack_folder(tmp_path, KRACK_FILES)
    edges = folder / "Krack-High-Tec-edgelist-Friendship.txt"
    lines = edges.read_text().splitlines()
    lines[4] = " 1 99 1"
    edges.write_text("\n".join(lines) + "\n")
    path = write(tmp_path, '[org]\ngenerator = "krackhardt"\npath = "krack"\n')
    with pytest.raises(OrgDataError) as info:
        prepare(load_scenario(path))
    assert str(info.value) == f"{edges.resolve()}:5: id out of range 1..21"


# --- good inputs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (1.5, 1.5),
        (0.3, 19 / 64),  # 19.2 / 64
        (0.75, 0.75),
        (1.51, 97 / 64),  # 96.64 / 64
        (0.001, 0.0),
        (15.999, 16.0),
        (2, 2.0),
    ],
)
def test_tie_weights_are_rounded_to_multiples_of_one_64th(tmp_path, given, stored):
    path = write(
        tmp_path, f"[org.tie_weights]\nmanager = {given}\npeer = {given}\ninformal = {given}\n"
    )
    weights = load_scenario(path).plans[0].config.org.tie_weights
    assert WEIGHT_QUANTUM == 64
    for w in (weights.manager, weights.peer, weights.informal):
        assert w == stored
        assert (w * 64).is_integer()
        assert abs(w - given) <= 1 / 128


def test_tie_weights_rounded_inside_plans_too(tmp_path):
    path = write(
        tmp_path,
        '[[plans]]\nname = "a"\n[[plans]]\nname = "b"\norg = { tie_weights = { peer = 0.1 } }\n',
    )
    a, b = load_scenario(path).plans
    assert a.config.org.tie_weights.peer == 1.0
    assert b.config.org.tie_weights.peer == 6 / 64  # round(6.4) = 6


def test_default_scenario_loads_and_builds(tmp_path):
    scenario = load_scenario(SCENARIOS / "default.toml")
    assert scenario.name == "default"
    assert [p.name for p in scenario.plans] == ["bottom-up", "top-down", "hybrid"]
    top_down = scenario.plans[1].config
    assert top_down.mandate.enabled and top_down.mandate.week == 4
    assert top_down.seeding.strategy == "none" and top_down.seeding.count == 0
    assert top_down.mandate.compliance == 0.3  # base value kept where the plan is silent
    assert top_down.weeks == 104 and top_down.seed == 20261122
    assert scenario.plans[0].config.org.tie_weights.informal == 0.75
    prepared = prepare(scenario)
    assert [p.org.n for p in prepared] == [2000, 2000, 2000]
    # the same org spec and seed: one org shared by every plan (paired comparison)
    assert prepared[0].org is prepared[1].org is prepared[2].org
    assert prepared[0].org.department_names == tuple(f"D{d}" for d in range(1, 7))


def test_krackhardt_scenario_loads_and_builds():
    scenario = load_scenario(SCENARIOS / "krackhardt.toml")
    assert [p.name for p in scenario.plans] == ["bottom-up", "top-down", "hybrid"]
    prepared = prepare(scenario)
    org = prepared[0].org
    assert org.n == 21
    assert org.department_names == ("D0", "D1", "D2", "D3", "D4")
    assert prepared[2].config.mandate.week == 12
    assert prepared[2].config.seeding.strategy == "brokers"


def test_shipped_sweep_scenario_loads_and_builds():
    scenario = load_scenario(SCENARIOS / "freemium_sweep.toml")
    assert len(scenario.points) == 9
    assert {p["freemium.free_seats"] for p in scenario.points} == {2, 5, 10}
    plan = scenario.plans[1]
    assert [c.freemium.free_value for c in plan.point_configs[:3]] == [0.3, 0.6, 0.9]
    assert all(c.mandate.enabled for c in plan.point_configs)
    prepared = prepare(scenario)
    assert prepared[0].org.n == 500


def test_digest_depends_on_content_not_file(tmp_path):
    a = load_scenario(write(tmp_path, 'name = "same"\nweeks = 10\n', "a.toml"))
    b = load_scenario(write(tmp_path, 'name = "same"\nweeks = 10\n[org]\nn = 2000\n', "b.toml"))
    c = load_scenario(write(tmp_path, 'name = "same"\nweeks = 11\n', "c.toml"))
    assert a.digest() == b.digest()  # an explicit default changes nothing
    assert a.digest() != c.digest()
    assert load_scenario(write(tmp_path, "weeks = 10\n", "stem.toml")).name == "stem"


# --- suspected bugs (see report) ------------------------------------------------------------

LAX = [
    ("numeric-string-for-float", '[adoption]\np = "0.5"\nq = 0\n', "adoption.p"),
    ("numeric-string-for-int", '[org]\nn = "50"\ndepartments = 3\n', "org.n"),
    ("bool-for-int", "[freemium]\nfree_seats = true\n", "freemium.free_seats"),
    ("bool-for-float", "[adoption]\np = true\nq = 0\n", "adoption.p"),
    ("string-for-bool", '[freemium]\nenabled = "yes"\n', "freemium.enabled"),
    ("int-for-bool", "[freemium]\nenabled = 1\n", "freemium.enabled"),
]


@pytest.mark.parametrize(("text", "field"), [c[1:] for c in LAX], ids=[c[0] for c in LAX])
def test_wrong_toml_types_are_not_coerced(tmp_path, text, field):
    assert_names(error_of(write(tmp_path, text)), field)


def test_unknown_top_level_key_lists_every_allowed_top_level_key(tmp_path):
    message = error_of(write(tmp_path, "bogus = 1\n"))
    allowed = message.partition("allowed here:")[2]
    assert_names(allowed, "name", "description", "plans", "sweep", "weeks")


def test_krackhardt_seeding_count_above_org_size_is_refused(tmp_path):
    path = write(tmp_path, '[org]\ngenerator = "krackhardt"\n[seeding]\ncount = 50\n')
    assert_names(error_of(path, build=True), "seeding.count", "21")


def test_plan_description_must_be_a_string(tmp_path):
    path = write(tmp_path, '[[plans]]\nname = "a"\ndescription = 5\n')
    assert_names(error_of(path), "plans[0]", "description", "string")


def test_plans_that_is_not_an_array_of_tables(tmp_path):
    message = error_of(write(tmp_path, "plans = 5\n[org]\nn = 100\n"))
    assert_names(message, "plans: must be a non-empty array of tables")


def test_unknown_top_level_key_is_not_blamed_on_a_plan(tmp_path):
    path = write(
        tmp_path, 'replicatez = 3\n[[plans]]\nname = "bottom-up"\n[[plans]]\nname = "top-down"\n'
    )
    message = error_of(path)
    assert message.startswith(f"{path}: replicatez: unknown field; allowed here:")
    assert "plan" not in message.partition("allowed here:")[0]
    assert_names(message.partition("allowed here:")[2], "plans", "sweep", "weeks", "seed")


def test_unknown_nested_key_in_the_base_is_not_blamed_on_a_plan(tmp_path):
    path = write(tmp_path, '[org]\nspann = 3\n[[plans]]\nname = "a"\n')
    assert error_of(path).startswith(f"{path}: org.spann: unknown field; allowed here: ")


@pytest.mark.parametrize("key", ["plans = []", "sweep = {}", "bogus = 1"])
def test_unknown_key_in_a_plan_lists_only_what_a_plan_may_hold(tmp_path, key):
    path = write(tmp_path, f'[[plans]]\nname = "a"\n{key}\n')
    message = error_of(path)
    written = key.split(" =")[0]
    assert message.startswith(f"{path}: plan 'a': {written}: unknown field; allowed here: ")
    allowed = message.partition("allowed here: ")[2].split(", ")
    assert_names(" ".join(allowed), "name", "description", "org", "mandate", "seeding")
    for refused in ("plans", "sweep", "weeks", "replicates", "seed"):
        assert refused not in allowed


@pytest.mark.parametrize(("target", "problem"), [("nowhere", "not found"), ("afile", "is a file")])
def test_krackhardt_path_must_be_a_folder(tmp_path, target, problem):
    (tmp_path / "afile").write_text("x\n")
    path = write(tmp_path, f'[org]\ngenerator = "krackhardt"\npath = "{target}"\n')
    message = error_of(path)
    assert message.startswith(f"{path}: org.path: folder {tmp_path.resolve() / target} {problem}")


def test_krackhardt_path_in_a_plan_names_the_plan(tmp_path):
    path = write(
        tmp_path,
        '[[plans]]\nname = "a"\n[[plans]]\nname = "b"\n'
        'org = { generator = "krackhardt", path = "nowhere" }\n',
    )
    assert_names(error_of(path), "plan 'b': org.path: folder", "nowhere not found")


def test_every_sweep_point_is_checked_against_its_org(tmp_path):
    """prepare() checks every plan at every sweep point, not only the base plans."""
    swept_scope = write(
        tmp_path,
        '[org]\nn = 100\n[mandate]\nenabled = true\n[sweep]\nmandate.scope = ["org", ["ZZ"]]\n',
        "scope.toml",
    )
    with pytest.raises(ScenarioError) as info:
        prepare(load_scenario(swept_scope))
    assert_names(
        str(info.value), f"{swept_scope}: plan 'base', sweep point 1 (mandate.scope=['ZZ'])", "ZZ"
    )

    fewer_departments = write(
        tmp_path,
        "[org]\nn = 100\n[mandate]\nenabled = true\n[sweep]\norg.departments = [2, 5]\n"
        '[[plans]]\nname = "a"\nmandate = { scope = ["D4"] }\n',
        "depts.toml",
    )
    scenario = load_scenario(fewer_departments)  # the base org (6 departments) has a D4
    with pytest.raises(ScenarioError) as info:
        prepare(scenario)
    assert_names(
        str(info.value),
        "plan 'a', sweep point 0 (org.departments=2)",
        "mandate.scope: unknown department(s) ['D4']",
        "['D1', 'D2']",
    )
