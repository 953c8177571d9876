"""Memory check: a 100,000-employee hierarchy, 104 weeks, R = 20, batched engine.

    .venv/bin/python experiments/memory_100k.py

Prints wall times (org, the brokers' betweenness estimate, simulation) and the process's
peak resident memory (ru_maxrss).
"""

from __future__ import annotations

import resource
import sys
import time
import tomllib
from pathlib import Path

from sim.engines.batched import simulate_batched
from sim.engines.runner import prepare
from sim.scenario import parse_scenario

ROOT = Path(__file__).resolve().parents[1]


def main(n: int = 100_000, replicates: int = 20, weeks: int = 104) -> None:
    raw = tomllib.loads((ROOT / "scenarios" / "default.toml").read_text())
    raw["org"]["n"], raw["weeks"] = n, weeks
    raw["plans"] = [p for p in raw["plans"] if p["name"] == "hybrid"]
    start = time.perf_counter()
    (prepared,) = prepare(parse_scenario(raw, f"memory-{n}"))
    org_built = time.perf_counter()
    prepared.org.betweenness()  # the hybrid plan seeds brokers: estimated once, then cached
    built = time.perf_counter()
    trajectories, departments = simulate_batched(
        prepared.config, prepared.org, list(range(replicates))
    )
    done = time.perf_counter()
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    final = trajectories.filter(trajectories["week"] == weeks)["active"].mean() / n
    print(
        f"N={n:,} R={replicates} weeks={weeks}: org {org_built - start:.1f} s, "
        f"brokers (betweenness estimate) {built - org_built:.1f} s, "
        f"simulation {done - built:.1f} s, peak RSS {peak_gib:.2f} GiB, "
        f"mean final active share {final:.3f}, {len(trajectories):,} trajectory rows"
    )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
