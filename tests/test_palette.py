"""The shared palette stays colour-blind safe and every state keeps a second cue.

Measure: the colour difference ΔE in CAM02-UCS (Luo, Cui & Li 2006; ΔE ≈ 1 is about a
just-noticeable difference between two large patches) after simulating deuteranopia and
protanopia at full severity with colorspacious (Machado, Oliveira & Fernandes 2009), and
in normal vision.

Thresholds, and why:
- States: at least 15.  States are told apart on small marks (network nodes a few pixels
  wide), where a just-noticeable difference is many times the large-patch one.  The old
  palette's worst pair (active vs blocked, ΔE 5.2 under deuteranopia) is the one the
  issue found indistinguishable in practice ("the network at week 57 is uniformly olive"),
  so the bar is set at about three times that.  The palette reaches 20.0 (active vs
  blocked under protanopia).
- Departments (first 8) and the first 5: at least 12 and 18.  Lines are thicker and
  longer than nodes and also differ by dash style.  With eight colours Okabe-Ito's own
  worst pair (blue vs reddish purple under protanopia) is 14.0: 12 keeps a margin while
  failing any set with a confusable pair (matplotlib's default colour cycle scores 1.6,
  orange vs green under protanopia).  Most orgs have five or fewer departments; the first
  five colours reach 20.7.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from colorspacious import cspace_convert

from sim import palette
from sim.rules import STATE_NAMES

STATE_THRESHOLD = 15.0
DEPARTMENT_THRESHOLD = 12.0
FIRST_FIVE_THRESHOLD = 18.0
SAME_SHAPE_THRESHOLD = 25.0
VISIONS = ("normal", "deuteranomaly", "protanomaly")  # severity 100 = -anopia

OLD_STATE_COLOURS = {  # sim/viz/draw.py before the palette
    "unaware": "#cfcfcf",
    "aware": "#6baed6",
    "active": "#2ca02c",
    "nominal": "#ffb000",
    "lapsed": "#8c564b",
    "blocked": "#d62728",
}
MATPLOTLIB_DEFAULT_CYCLE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
)


def srgb(colour: str) -> np.ndarray:
    colour = colour.lstrip("#")
    return np.array([int(colour[i : i + 2], 16) / 255 for i in (0, 2, 4)])


def seen(colour: str, vision: str) -> np.ndarray:
    """The colour in CAM02-UCS as a person with ``vision`` sees it."""
    rgb = srgb(colour)
    if vision != "normal":
        cvd = {"name": "sRGB1+CVD", "cvd_type": vision, "severity": 100}
        rgb = np.clip(cspace_convert(rgb, cvd, "sRGB1"), 0, 1)
    return cspace_convert(rgb, "sRGB1", "CAM02-UCS")


def worst_pair(colours: dict[str, str]) -> tuple[float, str, str, str]:
    """(smallest ΔE, vision, name, name) over every pair and every vision."""
    return min(
        (float(np.linalg.norm(seen(colours[a], v) - seen(colours[b], v))), v, a, b)
        for v in VISIONS
        for a, b in itertools.combinations(colours, 2)
    )


def test_every_state_has_a_colour_a_symbol_and_a_marker():
    for table in (
        palette.STATE_COLOURS,
        palette.STATE_SYMBOLS,
        palette.STATE_MARKERS,
        palette.STATE_SHAPE_NAMES,
        palette.STATE_DASHES,
    ):
        assert tuple(table) == STATE_NAMES


def test_state_colours_stay_apart_under_deuteranopia_and_protanopia():
    delta, vision, a, b = worst_pair(palette.STATE_COLOURS)
    assert delta >= STATE_THRESHOLD, f"{a} vs {b} under {vision}: ΔE {delta:.1f}"


def test_the_old_state_colours_fail_the_same_check():
    """The check can tell: the palette the issue complained about does not pass it."""
    delta, vision, a, b = worst_pair(OLD_STATE_COLOURS)
    assert delta < STATE_THRESHOLD
    assert {a, b} == {"active", "blocked"} and vision == "deuteranomaly"


@pytest.mark.parametrize("first, threshold", [(8, DEPARTMENT_THRESHOLD), (5, FIRST_FIVE_THRESHOLD)])
def test_department_colours_stay_apart(first, threshold):
    colours = {f"D{i}": c for i, c in enumerate(palette.DEPARTMENT_COLOURS[:first])}
    delta, vision, a, b = worst_pair(colours)
    assert delta >= threshold, f"{a} vs {b} under {vision}: ΔE {delta:.1f}"


def test_the_default_colour_cycle_fails_the_department_check():
    colours = {f"D{i}": c for i, c in enumerate(MATPLOTLIB_DEFAULT_CYCLE)}
    assert worst_pair(colours)[0] < DEPARTMENT_THRESHOLD


def test_states_that_share_a_shape_differ_in_colour_by_more():
    """States that share a shape (the circles) have only colour to tell them apart, so they
    must differ by at least 25 (the state bar plus two-thirds): unaware vs active is 28.8."""
    for shape in set(palette.STATE_MARKERS.values()):
        same = {s: palette.STATE_COLOURS[s] for s, m in palette.STATE_MARKERS.items() if m == shape}
        if len(same) > 1:
            assert worst_pair(same)[0] >= SAME_SHAPE_THRESHOLD, same


def test_blocked_and_lapsed_have_their_own_shapes():
    markers = palette.STATE_MARKERS
    others = {m for s, m in markers.items() if s not in ("blocked", "lapsed")}
    assert markers["blocked"] != markers["lapsed"]
    assert markers["blocked"] not in others and markers["lapsed"] not in others
    symbols = palette.STATE_SYMBOLS
    assert symbols["blocked"] != symbols["lapsed"]


def test_every_mark_stands_out_from_a_white_page():
    for colour in (*palette.STATE_COLOURS.values(), *palette.DEPARTMENT_COLOURS):
        if colour == palette.LIGHT_GREY:
            continue  # the quiet state is meant to recede
        for vision in VISIONS:
            assert np.linalg.norm(seen(colour, vision) - seen("#FFFFFF", vision)) >= 25, colour


def test_diverging_ends_differ_for_everyone():
    low, mid, high = palette.DIVERGING
    for vision in VISIONS:
        assert np.linalg.norm(seen(low, vision) - seen(high, vision)) >= 30


def test_state_curves_have_distinct_dashes():
    assert len(set(palette.STATE_DASHES.values())) == len(STATE_NAMES)
    assert set(palette.STATE_DASHES.values()) <= set(palette.MATPLOTLIB_DASHES)


def test_department_styles_are_unique_for_24_categories():
    styles = [palette.department_style(i) for i in range(24)]
    assert len(set(styles)) == 24
    assert set(palette.DEPARTMENT_DASHES) <= set(palette.MATPLOTLIB_DASHES)
