"""Generated bad scenarios thrown at `check` and `run` (``make fuzz``; hypothesis).

Each example takes a small valid scenario and breaks it: one field (any field of the
schema, found from the schema itself) set to a value of another type or out of range, a
key that does not exist, a bad name, or a broken TOML text.  Whatever comes in:

* the command ends with exit 0 (the scenario happened to be valid) or 2, never a
  traceback, and on 2 prints exactly one ``error:`` line;
* nothing outside ``results/<name>`` is created, changed or deleted.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from typer.testing import CliRunner

from sim.cli import app
from sim.scenario import Config

BASE = {
    "name": "fuzzed",
    "weeks": 3,
    "replicates": 2,
    "org": {"n": 30, "departments": 2},
    "plans": [{"name": "a"}, {"name": "b", "mandate": {"enabled": True}}],
}


def _paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every field of the schema as a dotted path (sections recursively)."""
    paths = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            paths += _paths(annotation, f"{prefix}{name}.")
        else:
            paths.append(f"{prefix}{name}")
    return paths


FIELDS = _paths(Config)
JUNK = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.booleans(),
    st.lists(st.integers(min_value=-5, max_value=5), max_size=3),
    st.dictionaries(st.sampled_from(["x", "min", "max"]), st.integers(-3, 3), max_size=2),
)


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"


def _toml(data: dict, prefix: str = "") -> str:
    """A small TOML writer (tables, arrays of tables, inline values)."""
    lines, tables = [], []
    for key, value in data.items():
        if isinstance(value, dict) and key != "__inline__":
            tables.append((key, value))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for item in value:
                lines.append(f"\n[[{prefix}{key}]]\n" + _toml(item, f"{prefix}{key}."))
        else:
            lines.insert(0, f"{key} = {_toml_value(value)}")
    for key, value in tables:
        lines.append(f"\n[{prefix}{key}]\n" + _toml(value, f"{prefix}{key}."))
    return "\n".join(lines) + "\n"


@st.composite
def broken_scenarios(draw) -> str:
    data = tomllib.loads(_toml(BASE))
    kind = draw(st.sampled_from(["field", "field", "field", "plan", "unknown", "name", "text"]))
    if kind == "text":
        return draw(st.sampled_from(["weeks = = 3", "[org\nn=3", "\x00", "plans = 5", "[[plans]]"]))
    if kind == "name":
        data["name"] = draw(st.one_of(st.sampled_from([".", "..", "/tmp", "a/b", ""]), JUNK))
        return _toml(data)
    path = draw(st.sampled_from(FIELDS)).split(".")
    if kind == "unknown":
        path = [*path[:-1], draw(st.sampled_from(["colour", "n_employees", "Weeks"]))]
    target = data if kind != "plan" else data["plans"][1]
    for part in path[:-1]:
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            return _toml(data)
    target[path[-1]] = draw(JUNK)
    return _toml(data)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else b"<dir>")
        for p in sorted(folder.rglob("*"))
        if "results/fuzzed" not in str(p)
    }


@pytest.mark.fuzz
@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=broken_scenarios())
def test_bad_scenarios_get_one_message_and_touch_nothing(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "results" / "other").mkdir(parents=True)
    (folder / "results" / "other" / "keep.txt").write_text("someone's results")
    scenario = folder / "fuzzed.toml"
    scenario.write_text(text)
    before = _snapshot(folder)
    runner = CliRunner()
    checked = runner.invoke(app, ["check", str(scenario)])
    assert checked.exception is None or isinstance(checked.exception, SystemExit), text
    assert checked.exit_code in (0, 2), (text, checked.stderr)
    if checked.exit_code == 2:
        errors = [line for line in checked.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, (text, checked.stderr)
        ran = runner.invoke(app, ["run", str(scenario), "--results", str(folder / "results")])
        assert ran.exception is None or isinstance(ran.exception, SystemExit), text
        assert ran.exit_code == 2, (text, ran.stderr)
        assert "Traceback" not in ran.stderr + ran.stdout
    assert _snapshot(folder) == before, text
