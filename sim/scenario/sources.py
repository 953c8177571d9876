"""Where each default of the model comes from: docs/parameters.md is rendered from here
(``python -m sim.scenario.sources > docs/parameters.md``) and ``tests/test_docs.py`` fails
if a mechanism's field has no entry.

Each entry: (source, plausible range).  A source is a published figure or estimate, or
the word "assumption" said plainly, with the reasoning.  The value shown is the scenario
schema's default; ``scenarios/default.toml`` may set another, noted where it does.
"""

from __future__ import annotations

from typing import Any

from sim.scenario.schema import MECHANISMS, Config

ASSUMPTION = "assumption"

SOURCES: dict[str, tuple[str, str]] = {
    "tool.price_per_seat_week": (
        "list prices of team collaboration tools, about $8-$15 per user-month "
        "(Slack Pro, Notion Plus, Asana Starter, 2024): $2-$3.5 a week",
        "0.5-10",
    ),
    "tool.value_per_seat_week": (
        f"{ASSUMPTION}: a tool worth buying returns a few times its price (value/price 2-5; "
        "vendors' ROI studies claim more)",
        "price x 1.5 .. price x 10",
    ),
    "tool.standalone_value": (
        f"{ASSUMPTION}: a collaboration tool is worth little alone (network goods: Katz & "
        "Shapiro 1985); a personal productivity tool nearer 1",
        "0.1-0.9",
    ),
    "tool.onboarding": ("1 = as calibrated (p, q below are estimated with it)", "0.5-2"),
    "tool.enterprise_ready": (
        f"{ASSUMPTION}: SSO, audit logs and data controls decide most security reviews; "
        "half of the tools reviewed pass at once",
        "0.1-0.95",
    ),
    "tool.pricing": (
        "per seat is the most common SaaS pricing metric",
        "per_seat, per_active_user",
    ),
    "discovery.enabled": ("model switch", "true/false"),
    "discovery.external_rate": (
        "Bass (1969) coefficient of innovation p: meta-analyses give mean p about 0.03 a "
        "year for consumer durables (Sultan, Farley & Lehmann 1990); enterprise tools are "
        "heard of faster: 0.005-0.02 a week",
        "0.001-0.05",
    ),
    "discovery.word_of_mouth": (
        "Bass coefficient of imitation q, mean about 0.38 a year (Sultan et al. 1990); "
        "within an organisation, contact is weekly: 0.3-0.7 a week at 100% active ties",
        "0.1-0.9",
    ),
    "adoption.rule": (
        "Bass on a network (linear); Granovetter / Watts (threshold); Centola & Macy (count)",
        "-",
    ),
    "adoption.p": (
        "Bass p (see discovery.external_rate); of aware employees, 0.5-2% a week try it alone",
        "0.001-0.05",
    ),
    "adoption.q": ("Bass q per week at 100% active ties (see discovery.word_of_mouth)", "0.1-0.8"),
    "adoption.threshold": (
        "Watts (2002) uses thresholds around 0.18; Granovetter (1978)",
        "0.05-0.5",
    ),
    "adoption.k": (
        "complex contagion: 2 reinforcing ties (Centola & Macy 2007; Centola 2010)",
        "1-4",
    ),
    "adoption.heterogeneity": ("Rogers (2003) adopter categories", "none, rogers, normal"),
    "adoption.market_potential": (
        f"{ASSUMPTION}, as Bass's m: diffusion data always leaves non-adopters; the default "
        "scenario sets 0.85 (15% of jobs have no use for the tool)",
        "0.5-1",
    ),
    "adoption.rogers_multipliers": (
        f"{ASSUMPTION}: readiness of Rogers' (2003) five categories relative to the early "
        "majority; chosen so that mean readiness is 1",
        "-",
    ),
    "adoption.spread": (f"{ASSUMPTION}: coefficient of variation of readiness", "0.1-1"),
    "seeding.strategy": ("plan choice", "-"),
    "seeding.count": (
        "plan choice: champion programmes name about 1 per 50-100 employees",
        "0-5% of N",
    ),
    "seeding.departments": ("plan choice (targeted seeding)", "-"),
    "seeding.teams": ("plan choice (targeted seeding)", "-"),
    "seeding.employees": ("plan choice (targeted seeding)", "-"),
    "seeding.titles": ("plan choice (targeted seeding)", "-"),
    "seeding.champion_weight": (
        f"{ASSUMPTION}: an engaged champion counts as much as any user (1); programmes "
        "report champions reach several colleagues each",
        "1-4",
    ),
    "freemium.enabled": ("model switch", "true/false"),
    "freemium.workspace": (
        "team plans are the norm for collaboration tools",
        "team, department, org",
    ),
    "freemium.free_seats": ("free plans of team tools cap at 3-10 seats (2024 plans)", "0-20"),
    "freemium.free_value": (f"{ASSUMPTION}: the free tier holds most of the core value", "0.3-0.9"),
    "freemium.trial_weeks": ("free trials of 14-30 days are common: 2-4 weeks", "0-6"),
    "freemium.decision_rate": (
        f"{ASSUMPTION}: a budget holder at the paywall decides within about 5 weeks; with "
        "the demand and value terms this gives team conversion in the published band "
        "(tests/test_stylised_facts.py)",
        "0.05-0.5",
    ),
    "freemium.demand_scale": (f"{ASSUMPTION}: half the pressure at 5 users asking", "2-20"),
    "freemium.holder_boost": (
        f"{ASSUMPTION}: a holder who uses it is twice as likely to pay",
        "0-3",
    ),
    "mandate.enabled": ("plan choice", "true/false"),
    "mandate.week": ("plan choice", "0-weeks"),
    "mandate.scope": ("plan choice", "org or departments"),
    "mandate.compliance": (
        f"{ASSUMPTION}: a third of licensed non-users log in each week after a mandate",
        "0.1-0.6",
    ),
    "mandate.resistance": (
        f"{ASSUMPTION}: reactance to imposed change (Brehm 1966) lowers the appeal of a "
        "mandated tool; 0.5 = a third lower",
        "0-2",
    ),
    "mandate.nominal_weight": (f"{ASSUMPTION}: a nominal user persuades a quarter as much", "0-1"),
    "mandate.price_per_seat_week": ("default: the tool's price", "-"),
    "enterprise.enabled": (
        "land and expand: enterprise deals follow bottom-up spread",
        "true/false",
    ),
    "enterprise.threshold": (f"{ASSUMPTION}: a deal once 40% use it", "0.2-0.7"),
    "enterprise.price_per_seat_week": (
        "enterprise deals discount list price by 20-40% at volume",
        "price x 0.6-0.8",
    ),
    "abandonment.enabled": ("model switch", "true/false"),
    "abandonment.rate": (
        "B2B SaaS user churn of a few per cent a month; with the value term the default "
        "scenario's engaged users lapse 0.5-1% a week (tests/test_stylised_facts.py)",
        "0.01-0.1",
    ),
    "winback.enabled": (
        "model switch; the default scenario turns it on (lapsed users do come back: "
        "reactivation campaigns recover a few per cent a month)",
        "true/false",
    ),
    "winback.rate": (
        f"{ASSUMPTION}: 2% a week at full value (about a year to reconsider)",
        "0-0.1",
    ),
    "reluctance.half_life_weeks": (
        f"{ASSUMPTION}: attitudes follow use (cognitive dissonance, Festinger 1957; "
        "technology acceptance after use, Venkatesh & Davis 2000); the default scenario "
        "sets 12 weeks: never (the schema default) keeps the old model",
        "4-52",
    ),
    "security_review.enabled": ("model switch (studied in experiments/shadow_it.py)", "true/false"),
    "security_review.threshold_share": (
        f"{ASSUMPTION}: IT notices a tool once about one employee in seven uses it "
        "unsanctioned; surveys find 30-40% of IT spend is shadow IT (Gartner)",
        "0.05-0.3",
    ),
    "security_review.threshold_count": ("optional absolute trigger", "-"),
    "security_review.delay_weeks": (
        f"{ASSUMPTION}: a security review takes about two months",
        "2-16",
    ),
    "security_review.on_fail": ("plan of the IT department", "enterprise, ban"),
    "incumbent.enabled": ("model switch (studied in experiments/sunset.py)", "true/false"),
    "incumbent.strength": (
        f"{ASSUMPTION}: switching costs of half the new tool's value when nobody has switched "
        "(Farrell & Klemperer 2007 on switching costs and network lock-in)",
        "0-3",
    ),
    "incumbent.cost_per_employee_week": ("the old tool's licence, if it has one", "0-5"),
    "training.boost": (f"{ASSUMPTION}: training raises the appeal by half for its weeks", "0-2"),
    "training.weeks": (f"{ASSUMPTION}: the effect of a training fades within two months", "2-16"),
}


def _fields() -> list[tuple[str, Any, Any]]:
    """(dotted path, schema default, field) for every scalar field of every mechanism."""
    rows = []
    for section in MECHANISMS:
        model = Config.model_fields[section].annotation
        for name, field in model.model_fields.items():
            rows.append((f"{section}.{name}", field.get_default(call_default_factory=True), field))
    return rows


def render() -> str:
    lines = [
        "# Parameters: defaults, units and where they come from",
        "",
        "Every field of every mechanism, with its schema default, its unit and range as the",
        "schema states them, its source (a published figure or estimate, or *assumption*",
        "said plainly) and a plausible range to sweep. Generated from",
        "`sim/scenario/sources.py` (`python -m sim.scenario.sources > docs/parameters.md`).",
        "`tests/test_stylised_facts.py` checks that the default scenario reproduces published",
        "shelfware, conversion and churn figures within wide bands.",
        "",
        "| field | default | unit, allowed | source | plausible |",
        "|---|---|---|---|---|",
    ]
    for path, default, field in _fields():
        source, plausible = SOURCES[path]
        lines.append(
            f"| `{path}` | `{default!r}` | {field.description or ''} | {source} | {plausible} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
