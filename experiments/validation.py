"""Validation against theory: Bass, Watts' cascade window, Centola & Macy's long ties.

    .venv/bin/python experiments/validation.py      (part of `make experiments`)

1. `linear` rule, complete graph, everything else off: the mean active share follows the
   discrete Bass recursion F(t+1) = F(t) + (1 - F(t)) (p + q F(t)) for several (p, q).
2. `threshold` rule, uniform threshold 0.18, one random seed adopter, Erdős–Rényi graphs:
   global cascades occur for mean degree z inside the window given by Watts' (2002)
   cascade condition  sum_k k (k - 1) rho_k p_k = z  (rho_k = 1 for k <= 1/0.18), and none
   above it.
3. `count` rule on Watts–Strogatz rings: rewiring (long ties) speeds simple contagion
   (k = 1) and slows complex contagion (k = 2) (Centola & Macy 2007).
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import polars as pl
from common import Output, simulate
from plotly.subplots import make_subplots
from scipy.optimize import brentq

SEED = 2002


def bass_recursion(p: float, q: float, weeks: int) -> np.ndarray:
    f = [0.0]
    for _ in range(weeks):
        f.append(f[-1] + (1 - f[-1]) * (p + q * f[-1]))
    return np.array(f)


def bass(out: Output) -> None:
    n, weeks, reps = 1000, 40, 100
    fig = go.Figure()
    rows = []
    for i, (p, q) in enumerate([(0.01, 0.3), (0.03, 0.38), (0.005, 0.6)]):
        scenario = {
            "weeks": weeks,
            "seed": SEED,
            "org": {"generator": "complete", "n": n},
            "adoption": {"rule": "linear", "p": p, "q": q, "heterogeneity": "none"},
        }
        from common import quiet

        traj, _, _ = simulate(quiet(**scenario), reps, f"bass-{i}")
        mean = traj.group_by("week").agg(pl.col("active").mean()).sort("week")["active"] / n
        theory = bass_recursion(p, q, weeks)
        error = float(np.max(np.abs(mean.to_numpy() - theory)))
        rows += [
            {"p": p, "q": q, "week": w, "simulated": float(m), "recursion": float(t)}
            for w, (m, t) in enumerate(zip(mean, theory, strict=True))
        ]
        fig.add_trace(
            go.Scatter(
                x=list(range(weeks + 1)),
                y=mean.to_list(),
                mode="markers",
                name=f"simulated p={p}, q={q}",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=list(range(weeks + 1)),
                y=theory.tolist(),
                mode="lines",
                name=f"Bass recursion p={p}, q={q}",
            )
        )
        out.numbers[f"bass_max_abs_error_p{p}_q{q}"] = error
        out.say(
            f"Bass p={p}, q={q}: max |mean simulated - recursion| = {error:.4f} "
            f"over {weeks} weeks (complete graph, N={n}, {reps} replicates)"
        )
    out.table(pl.DataFrame(rows), "bass")
    fig.update_layout(
        title="linear rule on a complete graph vs the discrete Bass recursion",
        xaxis_title="week",
        yaxis_title="active share",
    )
    out.figure(
        fig,
        "bass",
        f"Complete graph N={n}, everything but adoption off, "
        f"{reps} replicates, seed {SEED}. Points: simulated mean; lines: recursion.",
    )


def cascade_condition(z: float, phi: float) -> float:
    """Watts (2002) on Poisson graphs: sum_{k<=1/phi} k(k-1) p_k - z (>= 0: cascades)."""
    k_max = math.floor(1 / phi)
    total = sum(k * (k - 1) * math.exp(-z) * z**k / math.factorial(k) for k in range(2, k_max + 1))
    return total - z


def watts(out: Output) -> None:
    phi, n, reps, graphs, weeks = 0.18, 4000, 40, 3, 120
    lower = brentq(cascade_condition, 0.5, 2.0, args=(phi,))
    upper = brentq(cascade_condition, 2.5, 12.0, args=(phi,))
    degrees = [0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 5.5, 6.0, 6.5, 7.0, 8.0, 10.0]
    rows = []
    for z in degrees:
        for g in range(graphs):
            scenario = {
                "weeks": weeks,
                "seed": SEED + g,
                "org": {"generator": "erdos_renyi", "n": n, "mean_degree": z},
                "adoption": {
                    "rule": "threshold",
                    "threshold": phi,
                    "p": 0.0,
                    "heterogeneity": "none",
                },
                "seeding": {"strategy": "random", "count": 1},
            }
            from common import quiet

            _, summary, _ = simulate(quiet(**scenario), reps, f"watts-{z}-{g}")
            for share in summary["final_active_share"]:
                rows.append({"mean_degree": z, "graph": g, "final_active_share": share})
    frame = pl.DataFrame(rows)
    out.table(frame, "watts")
    by_z = (
        frame.group_by("mean_degree")
        .agg(
            cascades=(pl.col("final_active_share") > 0.1).mean(),
            size=pl.col("final_active_share").filter(pl.col("final_active_share") > 0.1).mean(),
        )
        .sort("mean_degree")
    )
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=by_z["mean_degree"],
            y=by_z["cascades"],
            mode="lines+markers",
            name="share of runs with a global cascade (> 10% adopt)",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=by_z["mean_degree"],
            y=by_z["size"],
            mode="markers",
            name="mean cascade size when global",
        )
    )
    for edge in (lower, upper):
        fig.add_vline(x=edge, line_dash="dash", annotation_text=f"condition: z = {edge:.2f}")
    fig.update_layout(
        title=f"Watts cascade window, uniform threshold {phi}",
        xaxis_title="mean degree z",
        yaxis_title="share",
        yaxis_range=[0, 1.05],
    )
    out.figure(
        fig,
        "watts",
        f"Erdős–Rényi N={n}, {graphs} graphs x {reps} replicates per z, "
        f"one random seed adopter, {weeks} weeks, seed {SEED}+graph. Dashed: analytic "
        f"boundaries from the cascade condition.",
    )
    inside = by_z.filter((pl.col("mean_degree") > lower) & (pl.col("mean_degree") < upper))
    above = by_z.filter(pl.col("mean_degree") > upper + 0.5)
    out.numbers.update(
        {
            "watts_lower": lower,
            "watts_upper": upper,
            "watts_max_cascade_freq_inside": float(inside["cascades"].max()),
            "watts_max_cascade_freq_above": float(above["cascades"].max()),
        }
    )
    out.say(
        f"Watts window (phi={phi}): the cascade condition gives {lower:.2f} < z < "
        f"{upper:.2f}; simulated global-cascade frequency peaks at "
        f"{inside['cascades'].max():.2f} inside the window and is at most "
        f"{above['cascades'].max():.2f} for z > {upper + 0.5:.1f}"
    )


def centola(out: Output) -> None:
    n, k, reps, weeks = 1000, 8, 30, 150
    rewires = [0.0, 0.01, 0.03, 0.1, 0.3, 1.0]
    rows = []
    for contagion, needed in (("simple (k=1)", 1), ("complex (k=2)", 2)):
        for rewire in rewires:
            scenario = {
                "weeks": weeks,
                "seed": SEED,
                "org": {
                    "generator": "watts_strogatz",
                    "n": n,
                    "k": k,
                    "rewire": rewire,
                    "team_size": 9,
                },
                "adoption": {"rule": "count", "k": needed, "p": 0.0, "heterogeneity": "none"},
                "seeding": {"strategy": "team", "count": 9},
            }
            from common import quiet

            _, summary, _ = simulate(quiet(**scenario), reps, f"centola-{needed}-{rewire}")
            t50 = summary["t50"].drop_nulls()
            rows.append(
                {
                    "contagion": contagion,
                    "rewire": rewire,
                    "reached_50": len(t50) / reps,
                    "t50": float(t50.mean()) if len(t50) else None,
                    "final_active_share": float(summary["final_active_share"].mean()),
                }
            )
    frame = pl.DataFrame(rows)
    out.table(frame, "centola")
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=("weeks to 50% (runs that got there)", "final active share")
    )
    for contagion in ("simple (k=1)", "complex (k=2)"):
        part = frame.filter(pl.col("contagion") == contagion)
        x = [max(r, 0.001) for r in part["rewire"]]
        fig.add_trace(go.Scatter(x=x, y=part["t50"], name=contagion, mode="lines+markers"), 1, 1)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=part["final_active_share"],
                name=contagion,
                mode="lines+markers",
                showlegend=False,
            ),
            1,
            2,
        )
    fig.update_xaxes(type="log", title_text="rewiring probability (0 shown at 0.001)")
    fig.update_layout(title="Long ties: simple vs complex contagion (Centola & Macy 2007)")
    out.figure(
        fig,
        "centola",
        f"Watts–Strogatz ring N={n}, k={k}, count rule, seeds: one "
        f"contiguous block of 9, {reps} replicates, {weeks} weeks, seed {SEED}.",
    )
    simple = frame.filter(pl.col("contagion") == "simple (k=1)")
    complex_ = frame.filter(pl.col("contagion") == "complex (k=2)")
    out.numbers.update(
        {
            "centola_simple_t50_ring": simple["t50"][0],
            "centola_simple_t50_random": simple["t50"][-1],
            "centola_complex_final_ring": complex_["final_active_share"][0],
            "centola_complex_final_random": complex_["final_active_share"][-1],
        }
    )
    out.say(
        f"Simple contagion reaches 50% in {simple['t50'][0]:.1f} weeks on the ring and "
        f"{simple['t50'][-1]:.1f} when fully rewired (long ties speed it up)"
    )
    out.say(
        f"Complex contagion (2 active ties needed) ends at "
        f"{complex_['final_active_share'][0]:.0%} on the ring and "
        f"{complex_['final_active_share'][-1]:.0%} when fully rewired (long ties stop it)"
    )


def main() -> None:
    out = Output("validation")
    bass(out)
    watts(out)
    centola(out)
    out.finish("Validation against theory")


if __name__ == "__main__":
    main()
