"""A fixed structural layout of an org: departments side by side, hierarchy levels as rows.

Computed once per :class:`~sim.org.Org` (cached) and reused for every frame, so the
browser view never runs a force-directed layout.  The picture:

* each department gets a column, as wide as its share of the employees;
* each hierarchy level is a horizontal band, level 0 (the top) highest; a level with more
  people than fit in one row of its column wraps into sub-rows *column-major*, so that
  the members of one team (consecutive in depth-first order) form a compact block and
  sit roughly below their manager;
* the top of the hierarchy (at most a few people at the lowest level, e.g. the CEO) is
  centred over all columns.
"""

from __future__ import annotations

import math
import threading
import weakref
from dataclasses import dataclass

import numpy as np

from sim.org import Org

TOP_CENTRED_MAX = 3  # the lowest level is centred over the page when it has this few people
_cache: weakref.WeakKeyDictionary[Org, Layout] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


@dataclass(frozen=True)
class Layout:
    """Positions (N x 2; larger y = higher in the hierarchy) and the department columns."""

    xy: np.ndarray
    columns: tuple[tuple[float, float], ...]  # (left, right) per department; (0, 0) if empty
    department_names: tuple[str, ...]
    width: float
    height: float


def layout_for(org: Org) -> Layout:
    """The org's layout, computed on first use and cached for the life of the org."""
    with _lock:
        layout = _cache.get(org)
        if layout is None:
            layout = structural_layout(org)
            _cache[org] = layout
        return layout


def depth_first_order(org: Org) -> np.ndarray:
    """Employees in depth-first order of the reporting tree (reports by id): teams contiguous."""
    n = org.n
    reports: list[list[int]] = [[] for _ in range(n)]
    for i in range(n):
        boss = int(org.manager[i])
        if 0 <= boss < n and boss != i:
            reports[boss].append(i)
    roots = sorted((i for i in range(n) if org.manager[i] < 0), key=lambda i: (org.level[i], i))
    order: list[int] = []
    seen = np.zeros(n, dtype=bool)
    for root in roots:
        stack = [root]
        while stack:
            i = stack.pop()
            if seen[i]:
                continue
            seen[i] = True
            order.append(i)
            stack.extend(reversed(reports[i]))
    order.extend(i for i in range(n) if not seen[i])  # e.g. a reporting cycle
    return np.asarray(order, dtype=np.int64)


def structural_layout(org: Org, aspect: float = 1.6) -> Layout:
    """Place every employee; ``aspect`` is the width/height ratio of the picture, in rows."""
    n = org.n
    level, department = org.level, org.department
    n_dep = len(org.department_names)
    order = depth_first_order(org)
    top = level == level.min()
    centred = top & (top.sum() <= TOP_CENTRED_MAX) & (n > TOP_CENTRED_MAX)

    sizes = np.bincount(department[~centred], minlength=n_dep).astype(float)
    width = float(max(math.ceil(math.sqrt(n * aspect)), 3 * int((sizes > 0).sum()), 1))
    shares = np.where(sizes > 0, sizes + sizes.sum() / (8 * n_dep), 0.0)
    spans = width * shares / shares.sum() if shares.sum() > 0 else np.full(n_dep, width / n_dep)
    lefts = np.concatenate([[0.0], np.cumsum(spans)[:-1]])
    capacity = np.maximum(1, np.floor(spans).astype(int))

    levels = np.unique(level)
    members: dict[tuple[int, int], list[int]] = {}
    for i in order:
        if not centred[i]:
            members.setdefault((int(level[i]), int(department[i])), []).append(int(i))

    def sub_rows(count: int, d: int) -> int:
        return math.ceil(count / capacity[d]) if count else 0

    xy = np.zeros((n, 2))
    cursor = 0.0  # depth below the top, in rows
    for lv in levels:
        band = max([sub_rows(len(members.get((int(lv), d), [])), d) for d in range(n_dep)] + [1])
        for d in range(n_dep):
            people = members.get((int(lv), d), [])
            if not people:
                continue
            rows = sub_rows(len(people), d)
            cols = math.ceil(len(people) / rows)
            step = band / rows
            for j, i in enumerate(people):
                col, row = divmod(j, rows)
                xy[i, 0] = lefts[d] + (col + 0.5) / cols * spans[d]
                xy[i, 1] = -(cursor + row * step)
        at_level = np.flatnonzero(centred & (level == lv))
        for j, i in enumerate(at_level):
            xy[i, 0] = width * (j + 1) / (len(at_level) + 1)
            xy[i, 1] = -cursor
        cursor += band + 1.0
    height = cursor - 1.0
    xy[:, 1] += height  # top row at y = height, bottom row at y = 0
    columns = tuple(
        (float(lefts[d]), float(lefts[d] + spans[d])) if sizes[d] > 0 else (0.0, 0.0)
        for d in range(n_dep)
    )
    return Layout(xy, columns, org.department_names, width, max(height, 1.0))
