"""Colours and second cues shared by the browser view, the reports and the experiments' figures.

One place, so a state looks the same everywhere, and one tested set: the colours are
Okabe-Ito's colour-blind-safe set (Okabe & Ito 2008, "Color Universal Design") plus a light
grey for people who have not heard of the tool.  ``tests/test_palette.py`` checks the
minimum pairwise CAM02-UCS colour difference under simulated deuteranopia and protanopia
(severity 100) and in normal vision, and says why the thresholds are what they are.

Colour alone is never the only cue: each state also has a marker shape, and department
lines cycle through dash styles as well as colours.

Names (all keyed by the lower-case state names of :data:`sim.rules.STATE_NAMES`:
``unaware, aware, active, nominal, lapsed, blocked``; this module sits at the lowest
layer and imports nothing from the package):

``STATE_COLOURS``       state -> '#rrggbb'.
``STATE_SYMBOLS``       state -> plotly marker symbol name (``circle``, ``square``, ...).
``STATE_MARKERS``       state -> matplotlib marker code (the view's network drawing).
``STATE_SHAPE_NAMES``   state -> the shape in words, for legends ("triangle", ...).
``STATE_DASHES``        state -> plotly dash name, for state curves drawn as lines.
``PAID_SYMBOL_SUFFIX``  appended to a plotly symbol for an employee in a paid workspace
                        (``"-dot"``: a dot in the middle of the marker, not a ring).
``PAID_MARK``           matplotlib marker, fill and edge of that centre dot in the view.
``DEPARTMENT_COLOURS``  a sequence of 8 colours for departments (or any other categories:
                        plans, sweep points), ordered so the first few differ most.
``DEPARTMENT_DASHES``   plotly dash names; ``MATPLOTLIB_DASHES`` maps them to matplotlib.
``department_style(i)`` (colour, plotly dash) of the i-th category: colour and dash both
                        cycle, so the first 24 pairs are all different.
``DIVERGING``           (end for A, middle, end for B): an orange-white-blue scale for
                        "better for A / better for B" maps (orange and blue stay apart
                        under every common colour-vision deficiency).
``LINE``, ``MUTED``, ``GRID``  neutral greys for text-like lines, secondary marks, grids.
"""

from __future__ import annotations

# Okabe-Ito, by name (the published sRGB values)
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
LIGHT_GREY = "#DDDDDD"  # not Okabe-Ito: the quiet background state

STATE_COLOURS: dict[str, str] = {
    "unaware": LIGHT_GREY,  # has not heard of it: the quiet majority at the start
    "aware": SKY_BLUE,  # heard of it, not using it
    "active": BLUISH_GREEN,  # engaged user: the outcome the plans are after
    "nominal": YELLOW,  # has a licence, does not use it (shelfware)
    "lapsed": BLUE,  # used it, stopped
    "blocked": VERMILLION,  # wants a seat, the free plan is full: the paywall
}

STATE_SYMBOLS: dict[str, str] = {
    "unaware": "circle",
    "aware": "diamond",
    "active": "circle",
    "nominal": "square",
    "lapsed": "triangle-down",
    "blocked": "x",
}

STATE_MARKERS: dict[str, str] = {
    "unaware": "o",
    "aware": "D",
    "active": "o",
    "nominal": "s",
    "lapsed": "v",
    "blocked": "X",
}

STATE_SHAPE_NAMES: dict[str, str] = {
    "unaware": "circle",
    "aware": "diamond",
    "active": "circle",
    "nominal": "square",
    "lapsed": "triangle",
    "blocked": "cross",
}

STATE_DASHES: dict[str, str] = {
    "unaware": "dot",
    "aware": "dash",
    "active": "solid",
    "nominal": "dashdot",
    "lapsed": "longdash",
    "blocked": "longdashdot",
}

PAID_SYMBOL_SUFFIX = "-dot"
PAID_MARK: dict[str, str] = {"marker": "o", "fill": "#FFFFFF", "edge": BLACK}

DEPARTMENT_COLOURS: tuple[str, ...] = (
    BLUE,
    ORANGE,
    BLACK,
    SKY_BLUE,
    BLUISH_GREEN,
    VERMILLION,
    REDDISH_PURPLE,
    YELLOW,  # last: the weakest against a white background
)

DEPARTMENT_DASHES: tuple[str, ...] = (
    "solid",
    "dash",
    "dot",
    "dashdot",
    "longdash",
    "longdashdot",
)

MATPLOTLIB_DASHES: dict[str, str | tuple[float, tuple[float, ...]]] = {
    "solid": "-",
    "dash": (0, (5.0, 2.5)),
    "dot": (0, (1.2, 1.8)),
    "dashdot": (0, (5.0, 2.0, 1.2, 2.0)),
    "longdash": (0, (10.0, 3.0)),
    "longdashdot": (0, (10.0, 3.0, 1.2, 3.0)),
}

DIVERGING: tuple[str, str, str] = (ORANGE, "#F7F7F7", BLUE)

LINE = "#444444"
MUTED = "#888888"
GRID = "#E5E5E5"


def department_style(index: int) -> tuple[str, str]:
    """(colour, plotly dash name) of the ``index``-th department or other category."""
    return (
        DEPARTMENT_COLOURS[index % len(DEPARTMENT_COLOURS)],
        DEPARTMENT_DASHES[index % len(DEPARTMENT_DASHES)],
    )
