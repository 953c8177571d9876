"""numba's on-disk cache, kept honest about the rule layer and safe across processes.

The compiled passes (``sim.engines.kernels``, ``sim.observe``,
``sim.engines.population``) call the rule layer's functions (``sim.rules``,
``sim.randomness``), which numba compiles into them.  numba's cache (``cache=True``)
checks only the source file of the function it caches, so after an edit of
``sim/rules.py`` it would go on running the old rules, and the engines would disagree.
:func:`invalidate_if_rules_changed` closes that gap: each caching module calls it at
import, and when a digest of the rule-layer sources differs from the one its cache was
built with, the module's cache files are deleted so numba compiles afresh.

Several processes share the cache: a sweep's worker processes, ``make test``'s pytest
workers, two commands run at once.  numba saves an entry by reading the function's index,
taking the first free data-file number, writing the index and then the data, with no
lock (numba issue #10128): two processes saving different specialisations at once (say,
the weekly pass compiled for two feature sets) can take the same file, and the index can
then name one specialisation's machine code for the other.  Importing this module makes
every save hold an exclusive lock on the cache folder (``fcntl.flock``) from reading the
index to writing it, and write the data file before the index names it, so a reader never
finds an entry whose file is still being written.  Deleting a stale cache holds the same
lock.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from numba.core import caching

try:
    import fcntl
except ImportError:  # not a POSIX system: no lock (one process at a time is safe)
    fcntl = None

LOCK_NAME = "numba-cache.lock"


@contextmanager
def cache_lock(cache: Path) -> Iterator[None]:
    """Hold the exclusive lock of the numba cache in folder ``cache`` (made if missing)."""
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / LOCK_NAME, "a") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


def _save_under_lock(self: caching.IndexDataCacheFile, key, data) -> None:
    """numba's ``IndexDataCacheFile.save``, whole under :func:`cache_lock`, data first."""
    with cache_lock(Path(self._cache_path)):
        overloads = self._load_index()
        data_name = overloads.get(key)
        if data_name is None:  # the first free number, as numba picks it
            taken = set(overloads.values())
            number = 1
            while self._data_name(number) in taken:
                number += 1
            data_name = self._data_name(number)
        self._save_data(data_name, data)
        overloads[key] = data_name
        self._save_index(overloads)


caching.IndexDataCacheFile.save = _save_under_lock

# the sources numba compiles into the cached passes besides their own (lanes.py: the
# loop ranges inlined into them)
RULE_LAYER = ("rules.py", "randomness.py", "observe.py", "lanes.py")


def rule_layer_digest() -> str:
    """SHA-256 of the rule-layer sources (the functions compiled into the passes)."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for name in RULE_LAYER:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()


def invalidate_if_rules_changed(module_file: str) -> bool:
    """Delete ``module_file``'s numba cache (in its ``__pycache__``) if it was compiled
    against other rule-layer sources.  True if anything was deleted.  A read-only install
    cannot hold a cache there, so it has nothing to invalidate."""
    source = Path(module_file)
    cache = source.parent / "__pycache__"
    stamp = cache / f"{source.stem}.rule-layer"
    digest = rule_layer_digest()
    try:
        if stamp.read_text() == digest:
            return False
    except OSError:
        pass
    deleted = False
    try:
        with cache_lock(cache):  # no other process saves or deletes meanwhile
            if stamp.exists() and stamp.read_text() == digest:
                return False  # another process got here first
            for pattern in (f"{source.stem}.*.nbi", f"{source.stem}.*.nbc"):
                for path in cache.glob(pattern):
                    path.unlink(missing_ok=True)
                    deleted = True
            written = stamp.with_name(f"{stamp.name}.{os.getpid()}.tmp")
            written.write_text(digest)
            written.replace(stamp)  # whole or not at all: a reader never sees half a digest
    except OSError:
        return deleted
    return deleted
