"""numba's on-disk cache, kept honest about the rule layer.

The compiled passes (``sim.engines.kernels``, ``sim.observe``) call the rule layer's
functions (``sim.rules``, ``sim.randomness``), which numba compiles into them.  numba's
cache (``cache=True``) checks only the source file of the function it caches, so after an
edit of ``sim/rules.py`` it would go on running the old rules, and the engines would
disagree.  :func:`invalidate_if_rules_changed` closes that gap: each caching module calls
it at import, and when a digest of the rule-layer sources differs from the one its cache
was built with, the module's cache files are deleted so numba compiles afresh.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

RULE_LAYER = ("rules.py", "randomness.py", "observe.py")


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
        for pattern in (f"{source.stem}.*.nbi", f"{source.stem}.*.nbc"):
            for path in cache.glob(pattern):
                path.unlink(missing_ok=True)
                deleted = True
        cache.mkdir(exist_ok=True)
        stamp.write_text(digest)
    except OSError:
        return deleted
    return deleted
