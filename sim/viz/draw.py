"""Pictures for the browser view: the org network and the live plots, as image bytes.

Both are drawn at the pixel size the page reports for them (so a node or a label is as
large on a 1920-px screen as the space allows, and never scaled down to a blur), with
the shared colour-blind-safe palette (:mod:`sim.palette`): a colour *and* a marker shape
per state, a centre dot (not a ring) for employees in a paid workspace.

:class:`NetworkPainter` (one per org and size) renders department columns, labels,
reporting lines and informal ties once into a cached background; a frame restores it and
draws the nodes and the selected employee (matplotlib blitting).  It also maps a click
on the picture back to the nearest employee.  :class:`LivePlots` does the same for the
four plots (states, seats, cost, departments): axes and legends (outside the axes) once
per size, only the curves each frame.
"""

from __future__ import annotations

import io
import threading
import weakref
from dataclasses import dataclass

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, PercentFormatter
from PIL import Image

from sim import palette
from sim.org import Org
from sim.rules import STATE_NAMES, State
from sim.viz.layout import Layout, layout_for

STATE_COLOURS = {s: palette.STATE_COLOURS[s.name.lower()] for s in State}
STATE_MARKERS = {s: palette.STATE_MARKERS[s.name.lower()] for s in State}
# markers of one nominal size cover different areas: scale so each reads as one node
MARKER_SCALE = {"o": 1.0, "D": 0.8, "s": 0.85, "v": 1.05, "X": 0.95}
SELECTED_RING = palette.BLACK
NETWORK_FORMAT = "jpeg"
DPI = 100
NETWORK_MIN = (320, 240)  # smallest picture drawn (px), whatever the page reports
NETWORK_MAX = (2400, 1600)
PLOT_MIN_WIDTH, PLOT_MAX_WIDTH = 360, 1400
SIZE_STEP = 8  # sizes are rounded to this many pixels: few re-renders while resizing
LABEL_BAND = 22  # px above the network for the department labels
_painters: weakref.WeakKeyDictionary[Org, dict[tuple[int, int], NetworkPainter]] = (
    weakref.WeakKeyDictionary()
)
_painters_lock = threading.Lock()
PAINTERS_PER_ORG = 4


def rgba(colour: str) -> np.ndarray:
    """'#rrggbb' as an RGBA float array."""
    colour = colour.lstrip("#")
    return np.array([int(colour[i : i + 2], 16) / 255 for i in (0, 2, 4)] + [1.0])


def encode(canvas: FigureCanvasAgg, fmt: str = "png") -> bytes:
    """The canvas's current pixels as PNG (fast compression) or JPEG (for the dense network:
    5x faster to encode and 3x smaller to send than PNG)."""
    pixels = np.asarray(canvas.buffer_rgba())[..., :3]
    out = io.BytesIO()
    if fmt == "jpeg":
        Image.fromarray(pixels).save(out, format="jpeg", quality=90)
    else:
        Image.fromarray(pixels).save(out, format="png", compress_level=1)
    return out.getvalue()


def figure_png(fig: Figure) -> bytes:
    """Draw ``fig`` (on its own Agg canvas) and return PNG bytes."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    return encode(canvas)


def rounded(value: float, low: int, high: int) -> int:
    """``value`` px kept within [low, high] and rounded to :data:`SIZE_STEP`."""
    return int(min(max(round(value / SIZE_STEP) * SIZE_STEP, low), high))


def network_size(width: float, available_height: float, layout: Layout) -> tuple[int, int]:
    """The picture size for a column ``width`` px wide with ``available_height`` px left in
    the window: as wide as the column, as tall as the layout's shape asks but no taller
    than the window allows (the layout then stretches sideways; nodes stay round)."""
    natural = width * (layout.height + 2) / (layout.width + 2) + LABEL_BAND
    height = min(natural, max(available_height, NETWORK_MIN[1]))
    return (
        rounded(width, NETWORK_MIN[0], NETWORK_MAX[0]),
        rounded(height, NETWORK_MIN[1], NETWORK_MAX[1]),
    )


def department_columns(layout: Layout) -> list[int]:
    """Departments drawn as a column of the network (those with members below the top)."""
    return [d for d, (left, right) in enumerate(layout.columns) if right > left]


class NetworkPainter:
    """Draws one org's network at one pixel size; the static layer is rendered once."""

    def __init__(self, org: Org, layout: Layout, size: tuple[int, int]):
        self.org, self.layout, self.size = org, layout, size
        self._lock = threading.Lock()
        width, height = size
        fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
        self.canvas = FigureCanvasAgg(fig)
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0 - LABEL_BAND / height))
        ax.set_axis_off()
        pad = 0.7
        ax.set_xlim(-pad, layout.width + pad)
        ax.set_ylim(-pad, layout.height + pad)
        self.ax = ax
        self._draw_static(fig, ax)
        box = ax.get_window_extent()
        cell_px = min(box.width / (layout.width + 2 * pad), box.height / (layout.height + 2 * pad))
        self.node_px = float(np.clip(0.78 * cell_px, 3.0, 18.0))
        diameter_pt = self.node_px * 72 / DPI
        self.nodes = {}
        for s in State:
            marker = STATE_MARKERS[s]
            self.nodes[s] = ax.scatter(
                [],
                [],
                s=(diameter_pt * MARKER_SCALE[marker]) ** 2,
                marker=marker,
                c=STATE_COLOURS[s],
                linewidths=0,
                animated=True,
                zorder=3,
            )
        dot_pt = max(2.4 * 72 / DPI, 0.42 * diameter_pt)
        self.paid = ax.scatter(
            [],
            [],
            s=dot_pt**2,
            marker=palette.PAID_MARK["marker"],
            facecolors=palette.PAID_MARK["fill"],
            edgecolors=palette.PAID_MARK["edge"],
            linewidths=0.8,
            animated=True,
            zorder=4,
        )
        self.selected = ax.scatter(
            [],
            [],
            s=(max(diameter_pt * 2.2, 10.0)) ** 2,
            facecolors="none",
            edgecolors=SELECTED_RING,
            linewidths=2.2,
            animated=True,
            zorder=5,
        )
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(fig.bbox)
        # node centres in image pixels (origin top left), for clicks
        xy_px = ax.transData.transform(layout.xy)
        self.pixels = np.column_stack([xy_px[:, 0], height - xy_px[:, 1]])

    def _draw_static(self, fig: Figure, ax) -> None:
        layout, org = self.layout, self.org
        names = layout.department_names
        for k, d in enumerate(department_columns(layout)):
            left, right = layout.columns[d]
            if k % 2 == 0:
                ax.add_patch(
                    Rectangle(
                        (left, -0.5),
                        right - left,
                        layout.height + 1.0,
                        color="#F2F2F2",
                        zorder=0,
                        linewidth=0,
                    )
                )
            centre = ax.transData.transform(((left + right) / 2, 0))
            x_fig = fig.transFigure.inverted().transform(centre)[0]
            fig.text(
                x_fig,
                1.0 - 3 / fig.bbox.height,
                names[d],
                ha="center",
                va="top",
                fontsize=10,
                color=palette.LINE,
            )
        xy = layout.xy
        reporting, informal = [], []
        for a, b, kind in org.graph.edges(data="kind"):
            if kind == "manager":
                reporting.append((xy[a], xy[b]))
            elif kind == "informal":
                informal.append((xy[a], xy[b]))
        if informal:
            alpha = float(np.clip(40.0 / np.sqrt(len(informal)), 0.02, 0.35))
            ax.add_collection(
                LineCollection(informal, colors="#5B7DB1", linewidths=0.3, alpha=alpha, zorder=1)
            )
        if reporting:
            ax.add_collection(
                LineCollection(reporting, colors=palette.MUTED, linewidths=0.4, alpha=0.6, zorder=2)
            )

    def render(self, state: np.ndarray, paid_member: np.ndarray, selected: int | None) -> bytes:
        """One frame as JPEG: ``state`` (N ints), ``paid_member`` (N bools), a selected id."""
        state = np.asarray(state, dtype=np.int64)
        xy = self.layout.xy
        with self._lock:
            self.canvas.restore_region(self._background)
            for s, artist in self.nodes.items():
                artist.set_offsets(xy[state == s])
                self.ax.draw_artist(artist)
            self.paid.set_offsets(xy[np.asarray(paid_member, dtype=bool)])
            self.ax.draw_artist(self.paid)
            if selected is not None and 0 <= selected < self.org.n:
                self.selected.set_offsets(xy[[selected]])
                self.ax.draw_artist(self.selected)
            return encode(self.canvas, NETWORK_FORMAT)

    def node_at(self, x: float, y: float) -> int | None:
        """The employee nearest to a click at (x, y), as fractions of the picture's width
        and height from its top left corner; None when nobody is within reach."""
        width, height = self.size
        distance = np.hypot(self.pixels[:, 0] - x * width, self.pixels[:, 1] - y * height)
        i = int(np.argmin(distance))
        return i if distance[i] <= max(self.node_px, 8.0) else None

    def fraction_of(self, i: int) -> tuple[float, float]:
        """Where employee ``i`` is drawn, as fractions of the picture from its top left."""
        width, height = self.size
        return float(self.pixels[i, 0] / width), float(self.pixels[i, 1] / height)


def painter_for(org: Org, size: tuple[int, int] = (900, 640)) -> NetworkPainter:
    """The org's painter at ``size`` px, made on first use (the layout is computed once per
    org; a few sizes are kept, for sessions in windows of different widths)."""
    with _painters_lock:
        sizes = _painters.setdefault(org, {})
        painter = sizes.get(size)
        if painter is None:
            if len(sizes) >= PAINTERS_PER_ORG:
                sizes.pop(next(iter(sizes)))
            painter = sizes[size] = NetworkPainter(org, layout_for(org), size)
        return painter


def series(weeks: list[dict[str, np.ndarray]], name: str) -> np.ndarray:
    """One recorded column over the weeks so far (first replicate)."""
    return np.array([float(np.asarray(w[name]).reshape(-1)[0]) for w in weeks])


@dataclass(frozen=True)
class Curve:
    """One line of a plot: recorded column, legend label, colour, dash, width."""

    column: str
    label: str
    colour: str
    dash: str = "solid"
    width: float = 1.8


SEAT_CURVES = (
    # 'seats' and 'licences' often coincide: a wide dark line under a narrow dashed one
    Curve("seats", "seats paid for", palette.LINE, "solid", 4.0),
    Curve("licensed", "licences", palette.ORANGE, "dash", 1.8),
    Curve("paid_seats", "paid free-plan seats", palette.REDDISH_PURPLE, "dashdot", 1.8),
    Curve("active", "engaged users", palette.STATE_COLOURS["active"], "solid", 1.8),
    Curve("shelfware", "shelfware", palette.VERMILLION, "dot", 2.2),
)
MAX_DEPARTMENT_LINES = 12  # beyond this, the department plot shows bars for the current week
SHARE_TOP = 1.02  # share axes end just above 100%, so a line at 100% stays visible


def dashes(name: str):
    return palette.MATPLOTLIB_DASHES[name]


class BlitFigure:
    """A figure whose axes, ticks and legend are rendered once; frames draw only the
    ``animated`` artists on top (call :meth:`invalidate` after changing the axes)."""

    def __init__(self, fig: Figure) -> None:
        self.fig = fig
        self.canvas = FigureCanvasAgg(fig)
        self._background = None

    def invalidate(self) -> None:
        self._background = None

    def png(self, artists) -> bytes:
        if self._background is None:
            self.canvas.draw()
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
        self.canvas.restore_region(self._background)
        for artist in artists:
            self.fig.draw_artist(artist)
        return encode(self.canvas)


def plot_height(width: int) -> int:
    return rounded(width * 0.5, 240, 420)


class LivePlots:
    """The four live plots of one model run, at one width: axes drawn once, frames only
    add the data.  ``model`` needs ``recorder``, ``org``, ``config`` (weeks, costs)."""

    def __init__(self, model, width: int = 640) -> None:
        self.model = model
        self._lock = threading.Lock()
        self.width = rounded(width, PLOT_MIN_WIDTH, PLOT_MAX_WIDTH)
        self.height = plot_height(self.width)
        self.currency = model.config.costs.currency
        names = model.org.department_names
        self.departments_shown = department_columns(layout_for(model.org))
        self.sizes = np.maximum(np.bincount(model.org.department, minlength=len(names)), 1)
        last = model.config.weeks
        every = max(1, last // 8)

        fig, ax = self._axes("Adoption by state", "share of employees", last)
        self.state_lines = [
            ax.plot(
                [],
                [],
                color=STATE_COLOURS[s],
                linestyle=dashes(palette.STATE_DASHES[name]),
                marker=STATE_MARKERS[s],
                markevery=every,
                markersize=5,
                label=name,
                linewidth=2.0,
                animated=True,
            )[0]
            for s, name in zip(State, STATE_NAMES, strict=True)
        ]
        self._shares(ax)
        self._legend(fig, ax)
        self.states = BlitFigure(fig)

        fig, ax = self._axes("Seats paid for vs engaged users", "seats / people", last)
        self.seat_lines = [
            ax.plot(
                [],
                [],
                color=c.colour,
                linestyle=dashes(c.dash),
                label=c.label,
                linewidth=c.width,
                animated=True,
            )[0]
            for c in SEAT_CURVES
        ]
        self.seats_top = 10.0
        ax.set_ylim(0, self.seats_top)
        self._legend(fig, ax)
        self.seats_ax = ax
        self.seats = BlitFigure(fig)

        fig, ax = self._axes(
            f"Cost ({self.currency}, weeks 0–{last})", f"cost to date, {self.currency}", last
        )
        weekly_ax = ax.twinx()
        weekly_ax.set_ylabel(f"cost per week, {self.currency}")
        self.cost_lines = [
            ax.plot(
                [], [], color=palette.BLUE, linewidth=2.2, label="to date (left)", animated=True
            )[0],
            weekly_ax.plot(
                [],
                [],
                color=palette.ORANGE,
                linestyle=dashes("dash"),
                drawstyle="steps-mid",
                linewidth=1.5,
                label="this week (right)",
                animated=True,
            )[0],
        ]
        for axis in (ax, weekly_ax):
            axis.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _short(v)))
        self.cost_tops = [10.0, 10.0]
        self.cost_axes = (ax, weekly_ax)
        ax.set_ylim(0, self.cost_tops[0])
        weekly_ax.set_ylim(0, self.cost_tops[1])
        self._legend(fig, ax, handles=self.cost_lines, twin=True)
        self.cost = BlitFigure(fig)

        self.bars = len(self.departments_shown) > MAX_DEPARTMENT_LINES
        if self.bars:
            fig, ax = self._axes("Active share by department, this week", "active share", None)
            self.department_artists = list(
                ax.bar(
                    np.arange(len(self.departments_shown)),
                    np.zeros(len(self.departments_shown)),
                    color=palette.STATE_COLOURS["active"],
                    animated=True,
                )
            )
            ax.set_xlabel("department")
            ax.set_xticks(
                np.arange(len(self.departments_shown)),
                [names[d] for d in self.departments_shown],
                rotation=90,
                fontsize=7,
            )
        else:
            fig, ax = self._axes("Active share by department", "active share", last)
            self.department_artists = []
            for k, d in enumerate(self.departments_shown):
                colour, dash = palette.department_style(k)
                self.department_artists.append(
                    ax.plot(
                        [],
                        [],
                        color=colour,
                        linestyle=dashes(dash),
                        label=names[d],
                        linewidth=1.8,
                        animated=True,
                    )[0]
                )
            self._legend(fig, ax)
        self._shares(ax)
        self.departments = BlitFigure(fig)

    def _axes(self, title: str, ylabel: str, last_week: int | None):
        fig = Figure(figsize=(self.width / DPI, self.height / DPI), dpi=DPI)
        ax = fig.add_subplot()
        ax.set_title(title, fontsize=11, loc="left")
        ax.set_ylabel(ylabel)
        if last_week is not None:
            ax.set_xlabel("week")
            ax.set_xlim(0, max(last_week, 1))
        ax.grid(alpha=0.3)
        ax.spines[["top"]].set_visible(False)
        fig.subplots_adjust(
            left=76 / self.width,
            right=0.97,  # narrowed by _legend to make room for the legend
            top=1 - 30 / self.height,
            bottom=46 / self.height,
        )
        return fig, ax

    def _legend(self, fig: Figure, ax, handles=None, twin: bool = False) -> None:
        """A legend outside the axes, to their right (right of the right-hand axis' labels
        if ``twin``): measured, and the axes narrowed until it fits inside the figure."""
        gap = (58 if twin else 10) / self.width  # room for the right-hand axis' ticks
        legend = fig.legend(
            handles=handles or ax.get_lines(),
            loc="upper left",
            bbox_to_anchor=(0.0, 0.0),
            fontsize=8,
            frameon=False,
            handlelength=3.0,
            borderaxespad=0.0,
        )
        renderer = FigureCanvasAgg(fig).get_renderer()
        legend_width = legend.get_window_extent(renderer).width / self.width
        box = ax.get_position()
        right = 1.0 - 6 / self.width - legend_width - gap
        for axis in fig.axes:
            axis.set_position((box.x0, box.y0, right - box.x0, box.height))
        legend.set_bbox_to_anchor((right + gap, box.y1), transform=fig.transFigure)

    def _shares(self, ax) -> None:
        ax.set_ylim(0, SHARE_TOP)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))

    def states_png(self) -> bytes:
        """Share of employees in each state, week by week."""
        with self._lock:
            weeks = self.model.recorder.weeks
            x = np.arange(len(weeks))
            for line, name in zip(self.state_lines, STATE_NAMES, strict=True):
                line.set_data(x, series(weeks, name) / max(self.model.org.n, 1))
            return self.states.png(self.state_lines)

    def seats_png(self) -> bytes:
        """Seats paid for (licences + paid free-plan seats) against engaged users."""
        with self._lock:
            weeks = self.model.recorder.weeks
            x = np.arange(len(weeks))
            top = 0.0
            for line, curve in zip(self.seat_lines, SEAT_CURVES, strict=True):
                values = series(weeks, curve.column)
                line.set_data(x, values)
                top = max(top, float(values.max(initial=0)))
            if top > self.seats_top / 1.05:  # grow the axis in steps: few full redraws
                self.seats_top = max(2 * self.seats_top, 1.1 * top)
                self.seats_ax.set_ylim(0, self.seats_top)
                self.seats.invalidate()
            return self.seats.png(self.seat_lines)

    def cost_png(self) -> bytes:
        """Cost to date and this week's cost, in the scenario's currency."""
        with self._lock:
            weeks = self.model.recorder.weeks
            x = np.arange(len(weeks))
            for k, (line, column) in enumerate(
                zip(self.cost_lines, ("cum_cost", "cost"), strict=True)
            ):
                values = series(weeks, column)
                line.set_data(x, values)
                top = float(values.max(initial=0))
                if top > self.cost_tops[k] / 1.05:
                    self.cost_tops[k] = max(2 * self.cost_tops[k], 1.1 * top)
                    self.cost_axes[k].set_ylim(0, self.cost_tops[k])
                    self.cost.invalidate()
            return self.cost.png(self.cost_lines)

    def departments_png(self) -> bytes:
        """Active share per department: lines over the weeks, or bars for this week."""
        with self._lock:
            active = self.model.recorder.department_active
            n_dep = len(self.sizes)
            shares = np.stack([np.asarray(a).reshape(n_dep, -1)[:, 0] for a in active])
            shares = (shares / self.sizes)[:, self.departments_shown]
            if self.bars:
                for bar, height in zip(self.department_artists, shares[-1], strict=True):
                    bar.set_height(height)
            else:
                x = np.arange(len(active))
                for k, line in enumerate(self.department_artists):
                    line.set_data(x, shares[:, k])
            return self.departments.png(self.department_artists)


def _short(value: float) -> str:
    """Axis tick: 1,500 -> '1.5k', 2,000,000 -> '2M'."""
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"
