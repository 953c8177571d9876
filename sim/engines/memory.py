"""Will it fit?  A memory estimate made before anything is built, so that a scenario
within the schema's limits that this machine cannot hold is refused with the figure,
instead of being killed by the kernel (or swapping for an hour) half-way through.

The constants are measured figures (DESIGN.md, "Known facts about the stack"): networkx
holds a 1,000,000-person hierarchy (about 6.5 million ties) in 2.75 GiB, and a complete
graph of 5,000 people (12.5 million ties) in about 6 GB; a Mesa agent with its cell and
ties costs a few kilobytes.  The estimate is deliberately rough and on the high side.
"""

from __future__ import annotations

import os

from sim.errors import AdoptsimError
from sim.org_chart import count_rows
from sim.scenario import Config, OrgSpec

BYTES_PER_PERSON = 500  # networkx node with its attributes, org arrays
BYTES_PER_TIE = 450  # networkx edge: two adjacency dict entries and the edge's data
BYTES_PER_AGENT = 4_000  # reference engine: a Mesa agent, its cell and its tie list
# an org built as arrays (hierarchy, complete), in a batched run: no networkx graph
BYTES_PER_PERSON_ARRAYS = 200  # org arrays, ids, workspaces, traits
BYTES_PER_TIE_ARRAYS = 120  # the tie arrays, the weighted CSR and the plain CSR
BYTES_PER_CELL = 40  # one employee in one replicate of a batch: state, flags, traits
# employees x replicates the batched engine advances together (at most ~1.3 GB of them):
# a million-person org runs its 20 replicates as one batch, split over the threads
BATCH_CELLS = 32_000_000
USABLE_SHARE = 0.8  # of the memory available now


def expected_people(spec: OrgSpec) -> int:
    """How many employees the org has: ``n``, or an org chart's line count (read cheaply:
    the chart is not parsed before it is known to fit)."""
    if spec.generator == "chart":
        return count_rows(spec.chart)
    return spec.n


def expected_ties(spec: OrgSpec) -> float:
    """About how many ties the org generator makes."""
    n = expected_people(spec)
    if spec.generator == "chart":  # reporting lines, teammates (spans of about 8), ties file
        return n * (1 + 7 / 2) + count_rows(spec.ties)
    if spec.generator == "complete":
        return n * (n - 1) / 2
    if spec.generator == "erdos_renyi":
        return n * spec.mean_degree / 2
    if spec.generator == "watts_strogatz":
        return n * spec.k / 2
    if spec.generator == "barabasi_albert":
        return n * spec.m
    if spec.generator == "hierarchy":
        return n * (1 + (spec.span - 1) / 2 + spec.informal_ties / 2)
    return 0.0  # krackhardt: 21 people


def estimate_bytes(config: Config, engine: str = "batched") -> int:
    """Memory one plan needs at its peak: its org, and the engine's state (the reference
    engine's agents; the batched engine's arrays, bounded by ``BATCH_CELLS``).
    A batched run of a hierarchy org never builds its networkx graph."""
    people = expected_people(config.org)
    ties = expected_ties(config.org)
    if engine == "batched" and config.org.generator in ("hierarchy", "complete"):
        org = people * BYTES_PER_PERSON_ARRAYS + ties * BYTES_PER_TIE_ARRAYS
    else:
        org = people * BYTES_PER_PERSON + ties * BYTES_PER_TIE
    if engine == "reference":
        state = people * BYTES_PER_AGENT
    else:
        state = min(people * config.replicates, BATCH_CELLS) * BYTES_PER_CELL
    return int(org + state)


def available_bytes() -> int:
    """Memory available to a new process now (MemAvailable), else the machine's total."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_fits(config: Config, where: str, engine: str = "batched") -> None:
    """Refuse, with the figures, a plan this machine cannot hold."""
    need = estimate_bytes(config, engine)
    have = available_bytes()
    if need > USABLE_SHARE * have:
        ties = expected_ties(config.org)
        raise AdoptsimError(
            f"{where}: too big for this machine: a {config.org.generator} org of "
            f"{expected_people(config.org):,} people with about {ties:,.0f} ties needs about "
            f"{need / 2**30:.1f} GiB, and {have / 2**30:.1f} GiB is available; use fewer "
            "people or ties (or a sparser generator), or a machine with more memory"
        )
