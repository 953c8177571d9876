"""The results store: every file is written to a temporary name and renamed into place.

``results/<scenario-name>/`` holds ``manifest.json``, ``trajectories.parquet``,
``departments.parquet``, ``summary.parquet`` and ``report.html``.  A run is staged in a
hidden sibling folder and swapped in whole, so a failed or interrupted run never leaves
half-written results and never damages the previous ones.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl

PACKAGES = ("adoptsim", "mesa", "networkx", "numpy", "scipy", "polars", "plotly", "pydantic")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _umask() -> int:
    """The process umask (reading it means setting it: put it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        # mkstemp creates 0600; results are meant to be read like any file the user writes.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_parquet(frame: pl.DataFrame, path: Path) -> None:
    """Write a table atomically (temporary file, then rename)."""
    _atomic(path, lambda tmp: frame.write_parquet(tmp, statistics=False))


def write_text(text: str, path: Path) -> None:
    _atomic(path, lambda tmp: tmp.write_text(text))


def write_json(data: dict[str, Any], path: Path) -> None:
    write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", path)


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def publish(target: Path, fill: Callable[[Path], None]) -> Path:
    """Fill a staging folder next to ``target``, then swap it in whole."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(
        tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".staging", dir=target.parent)
    )
    try:
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp creates 0700
        fill(staging)
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
        os.replace(staging, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
