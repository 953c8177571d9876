"""Study 5: sensitivity. Which parameters move the bottom-up vs top-down difference most?

    .venv/bin/python experiments/sensitivity.py      (part of `make experiments`)

The study is a scenario with a ``[sensitivity]`` table (:func:`study`), run by the same
code as ``adoptsim sensitivity`` (:func:`sim.api.sensitivity`): Morris elementary effects
(SALib) over 17 parameters of scenarios/freemium_sweep.toml (500-person hierarchy, 78 weeks)
and its two plans: bottom-up (10 random champions on the free plan, enterprise deal at 40%)
and top-down (licences for everyone in week 4, no champions). At each Morris sample both
plans run R replicates with the same seed (same org, same replicate streams), and the
output is the mean over replicates of the paired difference bottom-up − top-down in

* final active share (reach),
* mean active share over the 78 weeks (speed and reach together; unlike weeks to 50% it is
  defined in every run),
* total cost per employee over the run (currency; cost per engaged user is left out
  because it is undefined or explodes when almost nobody engages, which happens in parts
  of this parameter space).

The same seed at every sample (common random numbers) keeps the elementary effects from
drowning in replicate noise. mu* (mean absolute elementary effect, with its bootstrap 95%
interval) ranks the parameters; sigma large against mu* means the effect depends on the
other parameters (interactions or non-linearity); the sign of mu says the direction:
for the shares, mu > 0 means raising the parameter favours bottom-up; for the cost,
mu > 0 means it makes bottom-up dearer relative to top-down.

Writes results/sensitivity/: findings.md, numbers.json, morris.html (the command's ranked
chart, one panel per outcome), morris.parquet (the indices), samples.parquet (the design
and each sample's outputs), and the command's own folder
``bottom_up_vs_top_down-sensitivity/`` (sensitivity.html, manifest.json, ...).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from common import Output, deep_merge, interval, scenario_base

from sim import api
from sim.scenario import Scenario, parse_scenario
from sim.sensitivity import SensitivityResult, indices_figure

SCENARIO = "scenarios/freemium_sweep.toml"
NAME = "bottom_up_vs_top_down"
PLANS = [
    {"name": "bottom-up"},
    {
        "name": "top-down",
        "seeding": {"strategy": "none", "count": 0},
        "mandate": {"enabled": True},
    },
]
PARAMETERS = {  # dotted path: (low, high)
    "adoption.q": (0.1, 0.6),
    "adoption.p": (0.001, 0.02),
    "discovery.word_of_mouth": (0.1, 0.9),
    "freemium.free_seats": (1, 8),  # an integer: rounded; 8 = team size = no cap
    "freemium.free_value": (0.2, 1.0),
    "freemium.decision_rate": (0.02, 0.5),
    "mandate.compliance": (0.05, 0.6),
    "mandate.resistance": (0.0, 2.0),
    "mandate.nominal_weight": (0.0, 0.5),  # rounded to 1/64 by the schema
    "abandonment.rate": (0.005, 0.08),
    "tool.standalone_value": (0.1, 0.9),
    # the mechanisms of issue 14, and one structural switch
    "winback.rate": (0.0, 0.05),  # win-back on; 0 = lapsing is forever
    "reluctance.half_life_weeks": (2.0, 104.0),
    "adoption.market_potential": (0.5, 1.0),
    "incumbent.strength": (0.0, 2.0),  # an old tool; 0 = none
    "seeding.champion_weight": (1.0, 4.0),  # rounded to 1/64 by the schema
    "security_review.enabled": (0, 1),  # a switch (on from 0.5): a ban at 15% shadow use
}
FIXED = {  # what the swept mechanisms need switched on around them
    "winback": {"enabled": True},
    "incumbent": {"enabled": True},
    "security_review": {"threshold_share": 0.15, "delay_weeks": 8, "on_fail": "ban"},
    "tool": {"enterprise_ready": 0.5},
}
TRAJECTORIES = 30  # Morris trajectories: (parameters + 1) samples each
REPLICATES = 20
SAMPLE_SEED = 5
OUTPUTS = (  # outcome, label, format of the difference
    ("final_active_share", "final active share", "{:+.1%}"),
    ("mean_active_share", "mean active share over the run", "{:+.1%}"),
    ("cost_per_employee", "total cost per employee", "{:+,.1f}"),
)
COST = "cost_per_employee"


def study(
    trajectories: int = TRAJECTORIES, replicates: int = REPLICATES, **changes: Any
) -> Scenario:
    """The study as a scenario: freemium_sweep's base with the mechanisms it varies switched
    on, its two plans, and a ``[sensitivity]`` table of the 17 parameters and the three
    outcomes.  ``changes`` are merged into the base (a smaller org or horizon for tests)."""
    base = deep_merge(deep_merge(scenario_base(SCENARIO), FIXED), changes)
    table = {
        "method": "morris",
        "outcome": [outcome for outcome, _, _ in OUTPUTS],
        "plans": [plan["name"] for plan in PLANS],
        "trajectories": trajectories,
        "replicates": replicates,
        "seed": SAMPLE_SEED,
        "parameters": {path: {"min": lo, "max": hi} for path, (lo, hi) in PARAMETERS.items()},
    }
    data = {"name": NAME, **base, "plans": PLANS, "sensitivity": table}
    return parse_scenario(data, "<experiments/sensitivity.py>")


def direction(mu: float, outcome: str) -> str:
    if outcome != COST:
        return "raising it favours bottom-up" if mu > 0 else "raising it favours top-down"
    return "raising it makes bottom-up dearer" if mu > 0 else "raising it makes bottom-up cheaper"


def screen(scenario: Scenario, out: Output) -> SensitivityResult:
    """Run the study through ``adoptsim sensitivity``'s code and write its findings."""
    result, _ = api.sensitivity(scenario, out.folder, force=True)
    spec = result.spec
    config = scenario.plans[0].config
    n = config.org.n
    samples = result.samples
    out.table(samples, "samples")
    out.table(result.indices, "morris")
    context = (
        f"{SCENARIO}: bottom-up vs top-down ({n} employees, {config.weeks} weeks); Morris "
        f"design with {spec.trajectories} trajectories x {len(spec.parameters) + 1} = "
        f"{samples.height} samples, 4 levels, sample seed {spec.seed}; {spec.replicates} "
        f"paired replicates per plan and sample, run seed {config.seed}, batched engine "
        "(adoptsim sensitivity)."
    )
    out.say(f"Setting: {context}")
    d = samples["final_active_share"]
    wins = float((d > 0).mean())
    out.numbers["share_of_samples_bottom_up_reaches_more"] = wins
    out.say(
        f"Across the {samples.height} samples the paired difference in final active share "
        f"(bottom-up − top-down) ranges from {d.min():+.1%} to {d.max():+.1%} (mean "
        f"{d.mean():+.1%}); bottom-up reaches more people in {wins:.0%} of them."
    )
    for outcome, label, fmt in OUTPUTS:
        ranked = result.indices.filter(pl.col("outcome") == outcome).to_dicts()
        key = f"d_{outcome}"  # the keys of the study before it ran through the command
        out.numbers[key] = {
            r["parameter"]: {k: r[k] for k in ("mu", "mu_star", "mu_star_conf", "sigma")}
            for r in ranked
        }
        plain = fmt.replace("+", "")
        top = "; ".join(
            f"{r['parameter']} mu* "
            + interval(
                r["mu_star"],
                r["mu_star"] - r["mu_star_conf"],
                r["mu_star"] + r["mu_star_conf"],
                plain,
            )
            + f", sigma {plain.format(r['sigma'])}, "
            + direction(r["mu"], outcome)
            for r in ranked[:3]
        )
        least = ", ".join(r["parameter"] for r in ranked[-3:])
        missing = result.undefined[outcome]
        note = f" ({missing} undefined samples set to the mean)" if missing else ""
        out.say(
            f"**Δ {label}** (bottom-up − top-down): largest effects: {top}. "
            f"Smallest: {least}.{note}"
        )
    inert = [
        name
        for name in spec.parameters
        if result.indices.filter(pl.col("parameter") == name)["mu_star"].abs().max() == 0
    ]
    out.numbers["inert_parameters"] = inert
    if inert:
        out.say(
            f"No effect at all (mu* = 0 on every output, all {samples.height} samples): "
            f"{', '.join(inert)}."
            + (
                " Compliance only moves licensed non-users from aware to nominal, and nominal "
                "users act on others only through mandate.nominal_weight."
                if "mandate.compliance" in inert
                else ""
            )
        )
    fig = indices_figure(result)
    fig.update_layout(
        title="Morris screening of bottom-up − top-down: mu* (bars, 95% CI; the colour says "
        "which plan raising the parameter favours) and sigma (diamonds)",
        width=1500,
    )
    out.figure(fig, "morris", context)
    out.finish("Study 5: sensitivity of bottom-up vs top-down (Morris)")
    return result


def main(results: Path | None = None) -> None:
    screen(study(), Output("sensitivity", results))


if __name__ == "__main__":
    main()
