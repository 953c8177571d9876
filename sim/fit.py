"""Calibrate a plan to a pilot's observed weekly counts: ``adoptsim fit``.

Approximate Bayesian computation by sequential Monte Carlo (ABC-SMC; Toni et al. 2009,
Beaumont et al. 2009) with pyabc, the field's maintained library for it: particles drawn
from the ``[fit]`` priors are simulated on the batched engine (one replicate each, a fresh
random stream per simulation), and kept while their weekly counts, as shares of the
people observed, come close to the observed ones; each generation tightens the tolerance.
The posterior is the last generation's weighted particles.

Observed file (CSV): ``week`` and ``active`` (engaged users), optionally other counts of
docs/results.md (``licensed``, ``paid_seats``, ...), for the whole org, or with a ``scope``
(:mod:`sim.pilot`: departments, teams and/or employees) the engaged users of that pilot
(``active`` only), placed inside the org: the whole org is simulated, the pilot counted.

Also reported: 95% credible intervals, the posterior correlation of each pair of
parameters (a strong one means the data cannot tell them apart: a pilot of 8 weeks often
cannot separate p from q), and the observed curve against posterior-predictive bands.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from pydantic import ValidationError

from sim.engines.batched import BatchedModel, simulate_batched
from sim.engines.runner import PreparedPlan
from sim.errors import AdoptsimError
from sim.observe import COUNT_COLUMNS
from sim.pilot import Scope
from sim.rules import State
from sim.scenario import Scenario
from sim.scenario.schema import Fit, with_values

PREDICTIVE_DRAWS = 40  # posterior draws simulated for the predictive bands
FIT_STREAMS = 2_000_000  # replicate numbers of fit simulations start here (fresh streams)


@dataclass
class Observed:
    """The pilot's counts: weeks, and per counted column the values of those weeks."""

    path: Path
    weeks: np.ndarray  # int, increasing
    counts: dict[str, np.ndarray]  # column -> values (same length as weeks)


def read_observed(path: Path | str) -> Observed:
    """Read the observed CSV; every problem is one message naming the file, line, column."""
    path = Path(path)
    if not path.is_file():
        raise AdoptsimError(f"{path}: file not found (the observed weekly counts, CSV)")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise AdoptsimError(f"{path}: not UTF-8 text; save it as CSV UTF-8") from None
    rows = list(csv.reader(io.StringIO(text)))
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if len(rows) < 3:
        raise AdoptsimError(f"{path}: needs a header (week, active, ...) and at least 2 weeks")
    header = [cell.strip().lower() for cell in rows[0]]
    if "week" not in header or "active" not in header:
        raise AdoptsimError(
            f"{path}: line 1: needs columns week and active (found: {', '.join(header)})"
        )
    unknown = [c for c in header if c != "week" and c not in COUNT_COLUMNS]
    if unknown:
        raise AdoptsimError(
            f"{path}: line 1: unknown column(s) {unknown}; counts allowed: "
            f"{', '.join(COUNT_COLUMNS)}"
        )
    weeks, values = [], {c: [] for c in header if c != "week"}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise AdoptsimError(
                f"{path}: line {line}: {len(row)} fields, the header has {len(header)}"
            )
        for column, cell in zip(header, row, strict=True):
            try:
                number = float(cell)
            except ValueError:
                raise AdoptsimError(
                    f"{path}: line {line}, column {column}: {cell!r} is not a number"
                ) from None
            if number < 0 or number != int(number):
                raise AdoptsimError(
                    f"{path}: line {line}, column {column}: counts are whole numbers >= 0 "
                    f"(got {cell!r})"
                )
            (weeks if column == "week" else values[column]).append(int(number))
    if any(b <= a for a, b in itertools.pairwise(weeks)):
        raise AdoptsimError(f"{path}: column week: weeks must increase, each once")
    return Observed(path, np.array(weeks), {c: np.array(v, float) for c, v in values.items()})


@dataclass
class FitResult:
    spec: Fit
    posterior: pl.DataFrame  # parameters and weight
    summary: pl.DataFrame  # parameter, mean, low, high (95% credible)
    correlations: list[tuple[str, str, float]]
    predictive: pl.DataFrame  # week, column, observed, low, median, high (shares)
    generations: int
    epsilon: float


class Simulator:
    """One particle's weekly counts, as shares of the people observed."""

    def __init__(self, item: PreparedPlan, observed: Observed, scope: Scope):
        self.item, self.observed, self.scope = item, observed, scope
        self.weeks = int(observed.weeks.max())
        self.columns = list(observed.counts)
        self.mask = scope.mask(item.org) if scope else None
        self.people = int(self.mask.sum()) if scope else item.org.n
        self.counter = itertools.count(FIT_STREAMS)

    def statistics(self, values: dict[str, float], replicate: int | None = None) -> dict:
        """{column: shares at the observed weeks}; an impossible particle gets 10 for all."""
        replicate = next(self.counter) if replicate is None else replicate
        try:
            config = with_values(self.item.config, values).model_copy(update={"weeks": self.weeks})
        except ValidationError:
            return {c: np.full(len(self.observed.weeks), 10.0) for c in self.columns}
        if self.mask is not None:
            active = pilot_active(config, self.item.org, replicate, self.mask)
            return {"active": active[self.observed.weeks].astype(float) / self.people}
        trajectories, _ = simulate_batched(config, self.item.org, [replicate], threads=1)
        at = trajectories.sort("week").filter(pl.col("week").is_in(self.observed.weeks.tolist()))
        return {c: at[c].to_numpy().astype(float) / self.people for c in self.columns}

    def observed_shares(self) -> dict[str, np.ndarray]:
        return {c: v / self.people for c, v in self.observed.counts.items()}


def pilot_active(config, org, replicate: int, mask: np.ndarray) -> np.ndarray:
    """Engaged users among ``mask`` in weeks 0..config.weeks of one replicate (the whole
    org simulated on the batched engine, the pilot counted each week)."""
    model = BatchedModel(config, org, [replicate])
    counts = [int((model.state[mask, 0] == State.ACTIVE).sum())]
    for _ in range(config.weeks):
        model.step()
        counts.append(int((model.state[mask, 0] == State.ACTIVE).sum()))
    return np.array(counts)


def _prior(spec: dict[str, Any]):
    import pyabc

    if spec["prior"] == "uniform":
        return pyabc.RV("uniform", spec["min"], spec["max"] - spec["min"])
    if spec["prior"] == "log_uniform":
        return pyabc.RV("loguniform", spec["min"], spec["max"])
    return pyabc.RV("norm", spec["mean"], spec["sd"])


def draw_prior(spec: Fit, rng: np.random.Generator) -> dict[str, float]:
    """One parameter set drawn from the ``[fit]`` priors (the same distributions the fit
    samples): known truths for simulation-based calibration."""
    return {
        name: float(_prior(prior).distribution.rvs(random_state=rng))
        for name, prior in spec.parameters.items()
    }


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, q * cumulative[-1])])


def credible_interval(posterior: pl.DataFrame, name: str, level: float) -> tuple[float, float]:
    """The equal-tailed ``level`` credible interval of one parameter of a weighted
    posterior (columns: parameters and ``weight``)."""
    values = posterior[name].to_numpy().astype(float)
    weights = posterior["weight"].to_numpy().astype(float)
    tail = (1 - level) / 2
    return _weighted_quantile(values, weights, tail), _weighted_quantile(values, weights, 1 - tail)


def fit(
    scenario: Scenario,
    prepared: list[PreparedPlan],
    observed: Observed,
    scope: Scope | None = None,
    on_generation: Callable[[int, int], None] | None = None,
) -> FitResult:
    """Run ABC-SMC for the scenario's ``[fit]`` and summarise the posterior.  ``scope``
    (:func:`sim.pilot.resolve`): the pilot whose engaged users were observed."""
    import pyabc

    spec = scenario.fit
    assert spec is not None
    (item,) = [p for p in prepared if p.plan.name == spec.plan]
    scope = scope or Scope()
    if scope and list(observed.counts) != ["active"]:
        raise AdoptsimError(
            f"{observed.path}: for a pilot (--scope / --employees) only the active column "
            "can be fitted"
        )
    if int(observed.weeks.max()) > item.config.weeks:
        raise AdoptsimError(
            f"{observed.path}: column week: week {int(observed.weeks.max())} is after the "
            f"scenario's last week ({item.config.weeks}); raise weeks in the scenario"
        )
    simulator = Simulator(item, observed, scope)
    for column, values in observed.counts.items():
        over = np.flatnonzero(values > simulator.people)
        if over.size:
            k = int(over[0])
            raise AdoptsimError(
                f"{observed.path}: line {k + 2}, column {column}: {int(values[k])} is more "
                f"than the {simulator.people:,} people observed"
                + (f" in {scope.describe()}" if scope else " in the org")
            )
    names = list(spec.parameters)
    priors = pyabc.Distribution(
        **{f"x{k}": _prior(spec.parameters[n]) for k, n in enumerate(names)}
    )

    def model(particle) -> dict:
        return simulator.statistics({n: float(particle[f"x{k}"]) for k, n in enumerate(names)})

    import logging

    for logger in ("ABC", "ABC.History", "ABC.Sampler", "Epsilon", "Distance", "Acceptor"):
        logging.getLogger(logger).setLevel(logging.WARNING)  # its progress lines are noise here
    np.random.seed(spec.seed)  # pyabc draws from numpy's global generator
    abc = pyabc.ABCSMC(
        model,
        priors,
        pyabc.PNormDistance(p=2),
        population_size=spec.population,
        sampler=pyabc.sampler.SingleCoreSampler(),
    )
    with tempfile.TemporaryDirectory() as folder:
        abc.new("sqlite:///" + os.path.join(folder, "abc.db"), simulator.observed_shares())
        history = abc.run(max_nr_populations=spec.generations)
        frame, weights = history.get_distribution(m=0, t=history.max_t)
        epsilon = float(history.get_all_populations()["epsilon"].iloc[-1])
        generations = history.max_t + 1
    if on_generation is not None:
        on_generation(generations, spec.generations)
    weights = np.asarray(weights, float) / np.sum(weights)
    draws = {n: frame[f"x{k}"].to_numpy(float) for k, n in enumerate(names)}
    posterior = pl.DataFrame({**draws, "weight": weights})
    summary = pl.DataFrame(
        [
            {
                "parameter": n,
                "mean": float(np.sum(draws[n] * weights)),
                "low": _weighted_quantile(draws[n], weights, 0.025),
                "high": _weighted_quantile(draws[n], weights, 0.975),
            }
            for n in names
        ]
    )
    correlations = []
    for a, b in itertools.combinations(names, 2):
        cov = np.cov(draws[a], draws[b], aweights=weights)
        r = float(cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1])) if cov[0, 0] * cov[1, 1] > 0 else 0.0
        correlations.append((a, b, r))
    predictive = _predictive(simulator, names, draws, weights, spec.seed)
    return FitResult(spec, posterior, summary, correlations, predictive, generations, epsilon)


def _predictive(simulator, names, draws, weights, seed) -> pl.DataFrame:
    """Posterior-predictive bands: PREDICTIVE_DRAWS particles resampled by weight, each
    simulated on a fresh stream; 2.5%, 50% and 97.5% per week, with the observed shares."""
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(weights), size=PREDICTIVE_DRAWS, p=weights)
    runs = [
        simulator.statistics({n: float(draws[n][i]) for n in names}, replicate=3_000_000 + k)
        for k, i in enumerate(picks)
    ]
    observed = simulator.observed_shares()
    rows = []
    for column in simulator.columns:
        stacked = np.stack([run[column] for run in runs])
        for j, week in enumerate(simulator.observed.weeks.tolist()):
            low, median, high = np.quantile(stacked[:, j], [0.025, 0.5, 0.975])
            rows.append(
                {
                    "week": week,
                    "column": column,
                    "observed": float(observed[column][j]),
                    "low": float(low),
                    "median": float(median),
                    "high": float(high),
                }
            )
    return pl.DataFrame(rows)


def identifiability(result: FitResult, strong: float = 0.5) -> list[str]:
    """Plain sentences on the parameters the data cannot tell apart (|r| >= strong)."""
    return [
        f"{a} and {b} trade off (posterior correlation {r:+.2f}): the data fit many "
        "combinations of them equally well; more weeks or another count would separate them"
        for a, b, r in result.correlations
        if abs(r) >= strong
    ]


def fit_page(scenario: Scenario, result: FitResult) -> str:
    """A self-contained page: marginals, a pair plot of the first two parameters, and the
    observed counts against the posterior-predictive bands."""
    import html

    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    names = result.summary["parameter"].to_list()
    posterior = result.posterior
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=names)
    for col, name in enumerate(names, start=1):
        fig.add_trace(
            go.Histogram(
                x=posterior[name],
                y=posterior["weight"],
                histfunc="sum",
                nbinsx=25,
                marker_color="#0072B2",
                showlegend=False,
            ),
            row=1,
            col=col,
        )
    fig.update_layout(title="Posterior marginals (weighted particles)", height=340)
    parts = [fig.to_html(full_html=False, include_plotlyjs=True)]
    if len(names) >= 2:
        pair = go.Figure(
            go.Scatter(
                x=posterior[names[0]],
                y=posterior[names[1]],
                mode="markers",
                marker={
                    "size": 4 + 40 * posterior["weight"].to_numpy() / posterior["weight"].max(),
                    "color": "#0072B2",
                    "opacity": 0.6,
                },
            )
        )
        pair.update_layout(
            title=f"{names[0]} against {names[1]} (marker size: weight)",
            xaxis_title=names[0],
            yaxis_title=names[1],
            height=420,
        )
        parts.append(pair.to_html(full_html=False, include_plotlyjs=False))
    bands = go.Figure()
    for column in result.predictive["column"].unique(maintain_order=True):
        part = result.predictive.filter(pl.col("column") == column)
        weeks = part["week"].to_list()
        bands.add_trace(
            go.Scatter(
                x=weeks + weeks[::-1],
                y=part["high"].to_list() + part["low"].to_list()[::-1],
                fill="toself",
                mode="lines",
                fillcolor="rgba(0,114,178,0.2)",
                line={"width": 0},
                name=f"{column}: 95% posterior-predictive band",
            )
        )
        bands.add_trace(
            go.Scatter(
                x=weeks, y=part["median"], name=f"{column}: median", line={"color": "#0072B2"}
            )
        )
        bands.add_trace(
            go.Scatter(
                x=weeks,
                y=part["observed"],
                mode="markers",
                name=f"{column}: observed",
                marker={"color": "#D55E00", "symbol": "diamond", "size": 8},
            )
        )
    bands.update_layout(
        title="Observed against the posterior-predictive bands",
        xaxis_title="week",
        yaxis={"title": "share of the people observed", "tickformat": ".0%"},
        height=420,
    )
    parts.append(bands.to_html(full_html=False, include_plotlyjs=False))
    rows = "".join(
        f"<tr><td>{html.escape(r['parameter'])}</td><td>{r['mean']:.4g}</td>"
        f"<td>[{r['low']:.4g}, {r['high']:.4g}]</td></tr>"
        for r in result.summary.iter_rows(named=True)
    )
    notes = "".join(
        f"<p><b>Identifiability:</b> {html.escape(n)}</p>" for n in identifiability(result)
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>adoptsim fit: {html.escape(scenario.name)}</title>"
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px}</style>"
        f"</head><body><h1>Plan {html.escape(result.spec.plan)} fitted to the observed "
        "counts</h1>"
        f"<p>ABC-SMC (pyabc): {result.generations} generations of {result.spec.population} "
        f"particles, final tolerance {result.epsilon:.4g} (Euclidean distance between weekly "
        "shares).</p>"
        "<table><tr><th>parameter</th><th>posterior mean</th><th>95% credible interval</th>"
        f"</tr>{rows}</table>{notes}" + "".join(parts) + "</body></html>"
    )
