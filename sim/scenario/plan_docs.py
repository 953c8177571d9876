"""The "Plans a rollout team writes" section of docs/scenarios.md (rendered by
``sim.scenario.docs``): targeted seeding, staged and triggered actions, per-department
overrides and costs, with the rules ``docs/model.md`` gives as equations 10-12."""

PLAN_SECTION = """## Plans a rollout team writes

A plan says who starts, what is done top-down and when, where the tool fits differently,
and what it all costs. Names (departments, teams, employee ids, titles) are the org's:
an org chart's, or `D1`..`Dk` and "team of <id>" for generated orgs. `adoptsim check`
refuses a name the org lacks and lists the names it has.

**Targeted seeding.** `seeding.departments`, `teams`, `employees`, `titles` narrow the
champions' candidates to the employees every given list admits (within a list, any name
matches); the strategy then ranks those. `count` may not exceed the candidates.

```toml
seeding = { strategy = "brokers", count = 20, departments = ["Engineering"] }
```

**Actions** (`[[plans.actions]]`, or `[[actions]]` for every plan): each fires once, at
the end of its `week`, or of the first week whose engaged share reaches
`when.active_share` (of the org, or of `when.department`). `kind = "mandate"` buys
licences and pushes (`[mandate]`'s `compliance` and `resistance` apply);
`kind = "licence"` buys licences only (no nominal users, nobody made reluctant). The
scope is the employees every given list (`departments`, `teams`, `employees`, `titles`)
admits; no list means the whole org. Actions of the same week apply in the order written,
after the `[mandate]` table, which stays valid as the one-action case.

```toml
[[plans]]
name = "pilot-then-staged"
seeding = { strategy = "random", count = 20, departments = ["Engineering"] }

[[plans.actions]]
kind = "mandate"
departments = ["Sales"]
week = 8

[[plans.actions]]
kind = "mandate"
departments = ["Support"]
when = { active_share = 0.3 }     # or { department = "Engineering", active_share = 0.5 }
```

**Per-department overrides**: `[departments."Name"]` may set `adoption.p`, `adoption.q`,
`tool.value_per_seat_week` and `freemium.free_seats` for one department (its employees'
p and q; the value and free-seat cap of workspaces whose budget holder is in it).

```toml
[departments."Engineering"]
adoption = { q = 0.6 }
tool = { value_per_seat_week = 9.0 }
```

**Costs and value** (`[costs]`): champions' time (`champion_hours_per_week` x
`hourly_cost` per champion, weeks 1..`champion_weeks`), onboarding
(`training_per_employee`, for each employee an action newly licenses), and each action's
fixed `rollout_per_action` and `it_per_action`; `value_per_engaged_user_week` (default:
`tool.value_per_seat_week`). Runs then report total cost of ownership, value created,
net value and ROI, each with its 95% CI (docs/results.md).
"""

SENSITIVITY_SECTION = """## Which assumptions matter: `[sensitivity]`

`adoptsim sensitivity FILE` runs a Morris screen or Sobol indices (SALib) over the
parameters this table names, for one plan's outcome or the paired difference of two
plans, and writes `results/<name>-sensitivity/` (`indices.parquet`, `samples.parquet`,
`sensitivity.html`: the ranked indices with their 95% confidence). Every sample runs
`replicates` replicates with the scenario's seed (common random numbers), so a parameter
with no effect scores exactly 0. Each range is checked at both ends against the plans.
A list of outcomes gets each its own indices from the same runs (one panel each). An
integer setting is rounded; a switch (a true/false setting) takes `{ min = 0, max = 1 }`
and is on where the sample is 0.5 or more.

| key | default | meaning |
|---|---|---|
| `method` | `"morris"` | `morris` (mu*, sigma) or `sobol` (S1, ST) |
| `outcome` | `"final_active_share"` | any per-run outcome of docs/results.md, or a list of them |
| `plans` | the first plan | one plan (its outcome) or two (A - B, paired) |
| `trajectories` | `10` | Morris trajectories; Sobol base samples (a power of 2) |
| `replicates` | `10` | replicates per sample |
| `seed` | `0` | seed of the sample design |
| `parameters` | required | dotted path = `{ min = .., max = .. }` |

```toml
[sensitivity]
method = "morris"
outcome = ["final_active_share", "cost_per_employee"]
plans = ["bottom-up", "top-down"]

[sensitivity.parameters]
"adoption.q" = { min = 0.1, max = 0.6 }
"mandate.resistance" = { min = 0.0, max = 2.0 }
"security_review.enabled" = { min = 0, max = 1 }
```

`scenarios/sensitivity.toml` is a worked example; `experiments/sensitivity.py` screens 17
parameters for three outcomes this way.
"""

OPTIMIZE_SECTION = """## The best levers under a budget: `[optimize]`

`adoptsim optimize FILE` searches one plan's levers (ranges and lists of choices) for the
best objective with Optuna's TPE sampler (seeded). Every candidate runs `replicates`
replicates with the scenario's seed (common random numbers), a candidate whose mean total
cost of ownership exceeds `budget` is infeasible (the sampler learns to avoid it), and a
combination the schema refuses (e.g. p + q > 1) is skipped. The winner and the plan as
written are then re-run on `confirm_replicates` fresh replicates, and their paired
difference is reported with its 95% CI. Writes `results/<name>-optimize/` (`trials.parquet`,
`best.json`, `optimize.html`).

With two objectives (`objective = ["final_active_share", "total_cost"]`, `direction =
["maximize", "minimize"]`) the search is for their Pareto front, with the same sampler in
its multi-objective form (MOTPE, which learns from a few dozen trials): the front is the
feasible trials that no other feasible trial beats in both objectives, drawn with every
trial in one chart and listed in a table; every distinct point of it is re-run on the
fresh replicates with a 95% CI per objective (and marked if it falls off the front there),
and `best.json` holds it under `front`.

| key | default | meaning |
|---|---|---|
| `plan` | the first plan | the plan whose levers are searched |
| `objective` | `"net_value"` | an outcome of docs/results.md, or a list of two (Pareto front) |
| `direction` | `"maximize"` | or `"minimize"`; with two objectives a list, one per objective |
| `trials` | `30` | candidates tried |
| `replicates` | `10` | replicates per candidate |
| `confirm_replicates` | `40` | fresh replicates for the winner and the plan as written |
| `budget` | none | the mean total cost of ownership a candidate may not exceed |
| `seed` | `0` | the sampler's seed |
| `levers` | required | dotted path = `{ min = .., max = .. }` or a list of choices |

```toml
[optimize]
plan = "hybrid"
objective = "net_value"
budget = 60000.0

[optimize.levers]
"mandate.week" = { min = 2, max = 50 }
"seeding.count" = { min = 0, max = 40 }
"seeding.strategy" = ["random", "brokers", "hubs"]
```

`scenarios/optimize.toml` is a worked example; `scenarios/optimize_front.toml` searches the
front of engaged share against total cost.
"""

FIT_SECTION = """## Calibrate to a pilot: `[fit]`

`adoptsim fit FILE --observed pilot.csv [--scope NAME ...] [--employees IDS]` fits the
parameters this table names to observed weekly counts by ABC-SMC (pyabc), with the batched
engine as the simulator (one replicate per particle, each on a fresh random stream). The
observed file has `week` and `active` (engaged users) and optionally other counts of
docs/results.md (`licensed`, `paid_seats`, ...), for the whole org; or, for a pilot inside
the org, only `active`: the engaged users of the departments and teams `--scope` names
(`department:NAME` or `team:NAME` where a name is both) and of the employees `--employees`
lists (a file of employee ids, one per line or a CSV with an `employee_id` column, or ids
separated by commas). The whole org is simulated and the pilot counted in it; an unknown
name or id is one message listing what the org has. Distances compare weekly shares of
the people observed. Writes
`results/<name>-fit/` (`posterior.parquet`: weighted particles; `summary.parquet`;
`predictive.parquet`; `fit.html`: marginals, a pair plot and the observed curve against
95% posterior-predictive bands) and says which parameters the data cannot tell apart
(posterior correlation of 0.5 or more).

| key | default | meaning |
|---|---|---|
| `plan` | the first plan | the plan whose parameters are fitted |
| `population` | `100` | particles per generation |
| `generations` | `5` | ABC-SMC generations (each tightens the tolerance) |
| `seed` | `0` | seed of the sampler |
| `parameters` | required | path = `{ prior = "uniform" or "log_uniform", min, max }` |
| | | or path = `{ prior = "normal", mean, sd }` |

```csv
week,active
0,8
1,17
2,27
3,36
4,58
5,79
6,110
7,145
8,173
```

`scenarios/pilot_fit.toml` with `scenarios/pilot_observed.csv` is a worked example (the
observed counts were simulated from p = 0.02, q = 0.3, so the fit can be checked).

**Projections that carry the fit**: `adoptsim run FILE --posterior
results/<name>-fit/posterior.parquet` draws each replicate's parameters from the posterior
(by weight; the same draw for every plan, so plans stay paired), so the intervals it
prints are over replicates *and* parameter uncertainty; the manifest says which kind of
interval a run holds.
"""
