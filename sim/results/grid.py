"""Grids of small charts as plain plotly dicts, turned into a figure once at the end.

A sweep's report draws a grid of small charts per figure.  Built the usual way
(``make_subplots``, one ``go.Scatter`` and one ``update_*`` call at a time), plotly checks
every property of every object as it is set: 0.12 s of a 1.1 s sweep went there.  Here
the layout is the dict ``make_subplots`` would make (same axes, domains, anchors, shared
axes and title annotations, computed the way plotly computes them, so the figure's JSON
is the same), the traces are dicts, and :func:`figure` builds the ``go.Figure`` once
without re-checking them (``_validate=False``: every value here has a fixed, known type).
"""

from __future__ import annotations

import copy
from typing import Any

import plotly.graph_objects as go


def subplot_grid(
    rows: int,
    cols: int,
    titles: list[str] | None = None,
    *,
    shared_xaxes: bool = False,
    shared_yaxes: bool = False,
    horizontal_spacing: float | None = None,
    vertical_spacing: float | None = None,
) -> dict[str, Any]:
    """The layout ``make_subplots(rows, cols, subplot_titles=titles, ...)`` makes (start
    cell top-left, no spans, insets or secondary axes): cell (r, c), counted from 1 and
    from the top left, has axes number (r - 1) * cols + c."""
    hs = 0.2 / cols if horizontal_spacing is None else horizontal_spacing
    if vertical_spacing is None:  # plotly leaves room for titles
        vs = (0.5 if titles is not None else 0.3) / rows
    else:
        vs = vertical_spacing
    widths = [(1.0 - hs * (cols - 1)) / cols] * cols
    heights = [(1.0 - vs * (rows - 1)) / rows] * rows
    # plotly's grid of cell corners, its rows listed bottom first for a top-left start
    corner = [
        [(sum(widths[:c]) + c * hs, sum(heights[:r]) + r * vs) for c in range(cols)]
        for r in range(rows)[::-1]
    ]
    layout: dict[str, Any] = {}
    annotations = []
    for r in range(rows):
        for c in range(cols):
            x0, y0 = corner[r][c]
            x_domain = [x0 + 0.0, x0 + widths[c] - 0.0]
            y_domain = [_clamp(y0 + 0.0), _clamp(y0 + heights[-1 - r] - 0.0)]
            x_axis, y_axis = _axis_names(r * cols + c + 1)
            layout[x_axis] = {"anchor": _ref(y_axis), "domain": x_domain}
            layout[y_axis] = {"anchor": _ref(x_axis), "domain": y_domain}
            title = (titles or [])[r * cols + c] if r * cols + c < len(titles or []) else ""
            if title:
                annotations.append(
                    {
                        "font": {"size": 16},
                        "showarrow": False,
                        "text": title,
                        "x": sum(x_domain) / 2.0,
                        "xanchor": "center",
                        "xref": "paper",
                        "y": y_domain[1],
                        "yanchor": "bottom",
                        "yref": "paper",
                    }
                )
    if shared_xaxes:  # each column matches its bottom chart; only that one keeps labels
        for c in range(cols):
            first = _ref(_axis_names((rows - 1) * cols + c + 1)[0])
            for r in range(rows - 2, -1, -1):
                axis = layout[_axis_names(r * cols + c + 1)[0]]
                axis.update(matches=first, showticklabels=False)
    if shared_yaxes:  # each row matches its first chart; only that one keeps labels
        for r in range(rows - 1, -1, -1):
            first = _ref(_axis_names(r * cols + 1)[1])
            for c in range(1, cols):
                axis = layout[_axis_names(r * cols + c + 1)[1]]
                axis.update(matches=first, showticklabels=False)
    if annotations:  # plotly leaves an empty list out
        layout["annotations"] = annotations
    return layout


def cell(row: int, col: int, cols: int) -> dict[str, str]:
    """The axis references a trace in cell (row, col) of a ``cols``-wide grid carries."""
    x_axis, y_axis = _axis_names((row - 1) * cols + col)
    return {"xaxis": _ref(x_axis), "yaxis": _ref(y_axis)}


def axes(layout: dict[str, Any], letter: str) -> list[dict[str, Any]]:
    """Every x (``letter`` "x") or y axis of a grid's layout, in the grid's order."""
    return [value for key, value in layout.items() if key.startswith(f"{letter}axis")]


def axis(layout: dict[str, Any], letter: str, row: int, col: int, cols: int) -> dict[str, Any]:
    """Cell (row, col)'s x or y axis."""
    return layout[_axis_names((row - 1) * cols + col)["xy".index(letter)]]


def update_axes(layout: dict[str, Any], letter: str, **props: Any) -> None:
    """Sets ``props`` on every x or y axis, as ``fig.update_xaxes``/``update_yaxes`` do
    (each axis its own copy of a list value)."""
    for one in axes(layout, letter):
        one.update({key: copy.deepcopy(value) for key, value in props.items()})


def set_title(target: dict[str, Any], text: str) -> None:
    """An axis's or a layout's title, as plotly stores ``title_text``/``title``."""
    target["title"] = {"text": text}


def annotation_font(layout: dict[str, Any], size: int) -> None:
    """Every annotation's font size (``fig.update_annotations(font_size=size)``)."""
    for note in layout.get("annotations", []):
        note["font"] = {**note.get("font", {}), "size": size}


def figure(data: list[dict[str, Any]], layout: dict[str, Any]) -> go.Figure:
    """The figure of these trace and layout dicts, built once without checking them again."""
    return go.Figure({"data": data, "layout": layout}, _validate=False)


def _axis_names(number: int) -> tuple[str, str]:
    suffix = "" if number == 1 else str(number)
    return f"xaxis{suffix}", f"yaxis{suffix}"


def _ref(axis_name: str) -> str:
    """ "xaxis4" -> "x4", as traces and anchors name an axis."""
    return axis_name.replace("axis", "")


def _clamp(y: float) -> float:
    """plotly's rounding of a domain end a hair outside [0, 1] (floating-point error)."""
    return 0.0 if -0.01 < y < 0.0 else 1.0 if 1.0 < y < 1.01 else y
