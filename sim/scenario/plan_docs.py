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
