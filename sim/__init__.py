"""adoptsim: should an organization roll a tool out bottom-up, top-down, or both?

The Python API (the command line ``adoptsim`` is a thin layer over it)::

    from sim import load_scenario, run, sweep

    result = run("scenarios/default.toml", replicates=10)
    result.summary          # polars: one row per plan x replicate
    result.save("results")  # results/<name>/ with report.html

Imported lazily, so ``import sim`` stays cheap for the command line's ``--help``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["AdoptsimError", "RunResult", "load_scenario", "prepare", "run", "sweep"]


def __getattr__(name: str) -> Any:
    if name == "AdoptsimError":
        from sim.errors import AdoptsimError

        return AdoptsimError
    if name in __all__:
        from sim import api

        return getattr(api, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
