"""The results store: every file is written to a temporary name and renamed into place.

``results/<scenario-name>/`` holds ``manifest.json``, ``trajectories.parquet``,
``departments.parquet``, ``summary.parquet`` and ``report.html``.  A run is staged in a
hidden sibling folder and swapped in whole, so a failed or interrupted run never leaves
half-written results and never damages the previous ones.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl

from sim.errors import AdoptsimError

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


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a crash after it cannot undo it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Write to a temporary file beside ``path``, flush it to disk, then rename it into
    place: a reader sees the old file or the whole new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        # mkstemp creates 0600; results are meant to be read like any file the user writes.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_parquet(frame: pl.DataFrame, path: Path) -> None:
    """Write a table atomically (temporary file, then rename).  polars reports a failed
    write (a full disk half-way through) as its own error: it is an OSError here, like
    every other failed write."""

    def write(tmp: Path) -> None:
        try:
            frame.write_parquet(tmp, statistics=False)
        except pl.exceptions.PolarsError as error:
            raise OSError(str(error).strip().splitlines()[-1]) from None

    _atomic(path, write)


def write_text(text: str, path: Path) -> None:
    _atomic(path, lambda tmp: tmp.write_text(text))


def write_bytes(data: bytes, path: Path) -> None:
    """Write bytes (an image, a workbook) atomically, like every other result file."""
    _atomic(path, lambda tmp: tmp.write_bytes(data))


def write_json(data: dict[str, Any], path: Path) -> None:
    write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", path)


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


MANIFEST = "manifest.json"
MIN_FREE_BYTES = 50 * 2**20  # check_writable: refuse to start with less free on the disk
KINDS = (
    "run",
    "sweep",
    "sensitivity",
    "optimize",
    "fit",
)  # adoptsim writes; only these are replaced


def read_kind(folder: Path) -> str | None:
    """The kind of results in ``folder`` (``run`` or ``sweep``), None if it does not exist.

    Raises AdoptsimError when the folder is not one adoptsim wrote (no readable manifest
    of a known kind): such a folder is never replaced or deleted.
    """
    if not folder.exists():
        return None
    if not folder.is_dir():
        raise AdoptsimError(f"{folder}: is a file, expected a results folder; move it away")
    if all(_is_temporary(p) for p in folder.iterdir()):
        return None  # an empty folder (or one with only a killed write's temp file)
    try:
        kind = read_json(folder / MANIFEST).get("kind")
    except (OSError, ValueError, AttributeError):
        kind = None
    if kind not in KINDS:
        raise AdoptsimError(
            f"{folder}: not results written by adoptsim (no readable {MANIFEST}), so it is "
            "left alone; move it away or choose another --results folder"
        )
    return kind


def _is_temporary(path: Path) -> bool:
    """A temporary file of an atomic write that was killed (``.<file>.<random>.tmp``)."""
    return path.name.startswith(".") and path.name.endswith(".tmp") and path.is_file()


def clean_temporary(folder: Path) -> int:
    """Remove the temporary files killed writes left in ``folder`` and its subfolders."""
    removed = 0
    for path in folder.rglob(".*.tmp"):
        if _is_temporary(path):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def is_complete(folder: Path) -> bool:
    """Whether ``folder`` holds finished results (its manifest has a finish time)."""
    try:
        return bool(read_json(folder / MANIFEST).get("finished"))
    except (OSError, ValueError, AttributeError):
        return False


def _leftovers(target: Path, tag: str) -> list[Path]:
    """``target``'s own set-aside (``.old``) or staging folders, oldest first.  The part
    between ``.<name>.`` and the tag never has a dot, so scenario ``a`` never takes
    ``a.b``'s folders."""
    prefix = f".{target.name}."
    own = [
        p
        for p in target.parent.glob(f"{prefix}*{tag}")
        if "." not in p.name[len(prefix) : -len(tag)]
    ]
    return sorted(own, key=lambda p: _age_key(p.name[len(prefix) : -len(tag)], p))


def _age_key(middle: str, path: Path) -> int:
    """When a leftover was made: a set-aside folder's name ends in its time (ns, see
    :func:`set_aside`); a staging folder's contents were last written at its mtime."""
    stamp = middle.rsplit("-", 1)[-1]
    return int(stamp) if "-" in middle and stamp.isdigit() else path.stat().st_mtime_ns


def recover(target: Path) -> None:
    """Finish or undo a replacement of ``target`` that a kill interrupted.

    A replacement renames the old folder aside (``.<name>.<pid>.old``), then the new one
    into place.  Killed between the two renames, ``target`` is missing: the complete new
    results (a staging folder with a finished manifest) are put in place, or else the old
    ones are put back.  Old folders are deleted only once ``target`` holds finished
    results; unfinished staging folders are removed.  Call it holding :func:`lock`.
    """
    olds = _leftovers(target, ".old")
    stagings = _leftovers(target, ".staging")
    if not target.exists():
        complete = [s for s in stagings if is_complete(s)]
        if complete:
            os.replace(complete[-1], target)
        elif olds:
            os.replace(olds[-1], target)
            olds = olds[:-1]
        _fsync_dir(target.parent)
    for staging in _leftovers(target, ".staging"):
        shutil.rmtree(staging, ignore_errors=True)
    if is_complete(target):
        for old in olds:
            shutil.rmtree(old, ignore_errors=True)


def set_aside(target: Path) -> Path:
    """Rename ``target`` out of the way (kept until new results are finished; see
    :func:`recover`)."""
    old = target.with_name(f".{target.name}.{os.getpid()}-{time.time_ns()}.old")
    os.replace(target, old)
    _fsync_dir(target.parent)
    return old


@contextmanager
def lock(target: Path) -> Iterator[None]:
    """Hold ``.<name>.lock`` beside ``target`` while writing it: a second adoptsim command
    on the same results is refused with a clear message instead of mixing rows.

    The lock file is removed on the way out (nothing is left beside the results); a
    command that locked a file just removed by the holder notices (another inode at the
    path) and locks the new one instead.
    """
    path = target.with_name(f".{target.name}.lock")
    while True:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle = open(path, "a")  # noqa: SIM115 (held for the whole block; never written)
        except OSError as error:
            raise AdoptsimError(
                f"{target.parent}: cannot write there ({error.strerror}); adoptsim needs to "
                "write beside the results it changes"
            ) from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise AdoptsimError(
                f"{target}: another adoptsim command is writing these results; wait for it "
                "to finish, or choose another --results folder"
            ) from None
        try:
            same = os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        handle.close()  # the holder removed it as we locked it: lock the new file
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
        handle.close()


def check_writable(folder: Path) -> None:
    """Refuse early (before any simulation) when ``folder`` cannot take new results."""
    probe_parent = folder
    while not probe_parent.exists():
        probe_parent = probe_parent.parent
    if not os.access(probe_parent, os.W_OK | os.X_OK):
        raise AdoptsimError(f"{probe_parent}: not writable; choose another --results folder")
    usage = shutil.disk_usage(probe_parent)
    if usage.free < MIN_FREE_BYTES:
        raise AdoptsimError(
            f"{probe_parent}: only {usage.free / 2**20:.0f} MiB free on its disk; adoptsim "
            f"needs at least {MIN_FREE_BYTES / 2**20:.0f} MiB to write results"
        )


def publish(
    target: Path,
    fill: Callable[[Path], None],
    refuse: Callable[[Path, str | None], None] | None = None,
) -> Path:
    """Fill a staging folder next to ``target``, then swap it in whole.

    Only a folder adoptsim wrote is replaced (:func:`read_kind`), and it is deleted only
    after the new results are in place.  A kill at any point leaves the old results or
    the new ones, which the next command puts back in place (:func:`recover`).
    ``refuse(target, kind)`` may raise to keep results of a kind the caller must not
    replace; it is called holding the lock, after recovery.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    with lock(target):
        recover(target)
        kind = read_kind(target)  # refuses a folder that is not adoptsim's
        if refuse is not None:
            refuse(target, kind)
        staging = Path(
            tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".staging", dir=target.parent)
        )
        try:
            os.chmod(staging, 0o777 & ~_umask())  # mkdtemp creates 0700
            fill(staging)  # writes its manifest (with its finish time) last
        except OSError as error:
            shutil.rmtree(staging, ignore_errors=True)
            raise AdoptsimError(
                f"{target}: could not write the results ({error.strerror or error}); "
                "the previous results, if any, are unchanged"
            ) from None
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        old = set_aside(target) if target.exists() else None
        os.replace(staging, target)
        _fsync_dir(target.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return target
