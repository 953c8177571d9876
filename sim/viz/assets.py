"""Solara's front-end files, filled from the npm registry so the page works offline.

Solara (``SOLARA_ASSETS_PROXY=true``) rewrites every CDN url to
``/_solara/cdn/<npm-name>@<version>/<path>`` and serves it from
``$SOLARA_ASSETS_PROXY_CACHE_DIR/<npm-name>@<version>/<path>``; only on a miss does it
fetch ``$SOLARA_ASSETS_CDN`` (jsdelivr by default), which leaves the page blank offline.
jsDelivr's ``/npm/<name>@<version>/<path>`` is the npm tarball's ``package/<path>``, so
``npm pack`` of each package, unpacked, fills the cache.  Idempotent: a package is
skipped when ``<cache>/<spec>/.complete`` exists.

    python -m sim.viz.assets [CACHE_DIR]      (default: .cache/solara-cdn in the checkout)
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CACHE = ROOT / ".cache" / "solara-cdn"
CACHE_ENV = "SOLARA_ASSETS_PROXY_CACHE_DIR"

# Every npm package that Solara 1.64 + Mesa 3.3 SolaraViz (ipyvue/ipyvuetify 1.x, the
# matplotlib and altair backends) requests through /_solara/cdn/.  Versions are pinned in
# solara's templates and components: re-check after upgrading solara
# (grep -rn "@[0-9]" site-packages/solara/server/templates site-packages/solara/widgets).
PACKAGES = (
    "@widgetti/solara-vuetify-app@10.1.1",  # main css, fonts, solara-vuetify-app js
    "requirejs@2.3.6",
    "font-awesome@4.5.0",
    "@widgetti/vue-grid-layout@2.3.13-alpha.2",  # solara.GridDraggable (the main panel)
    "vega@5",  # altair figures; solara asks for these by semver range
    "vega-lite@5",
    "vega-embed@6",
)
# Solara asks for some packages by semver range; the cache folder keeps that name (it is the
# url) but npm packs one exact release, so every machine serves the same files.
EXACT = {
    "vega@5": "vega@5.33.1",
    "vega-lite@5": "vega-lite@5.23.0",
    "vega-embed@6": "vega-embed@6.29.0",
}
# Top-level entries kept per package (the rest is never requested).
KEEP = {
    "@widgetti/solara-vuetify-app": ("dist",),
    "requirejs": ("require.js",),
    "font-awesome": ("css", "fonts"),
    "@widgetti/vue-grid-layout": ("dist",),
    "vega": ("build",),
    "vega-lite": ("build",),
    "vega-embed": ("build",),
}


def npm_name(spec: str) -> str:
    """'@scope/name@1.2' -> '@scope/name'; 'name@1' -> 'name'."""
    head, sep, _ = spec.rpartition("@")
    return head if sep and head else spec


def cache_dir() -> Path:
    """$SOLARA_ASSETS_PROXY_CACHE_DIR, else .cache/solara-cdn in the checkout."""
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE).resolve()


def missing(cache: Path, packages: tuple[str, ...] = PACKAGES) -> list[str]:
    return [p for p in packages if not (cache / p / ".complete").exists()]


def _prune(dest: Path, spec: str) -> None:
    keep = KEEP.get(npm_name(spec))
    if not keep:
        return
    for entry in dest.iterdir():
        if entry.name not in keep and entry.name != ".complete":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    for source_map in dest.rglob("*.map"):
        source_map.unlink()


def fill(cache: Path | None = None, packages: tuple[str, ...] = PACKAGES) -> Path:
    """Make sure every package is unpacked in ``cache``; run ``npm pack`` for those missing.

    Two processes filling one cache at once (``make -j``, parallel test runs) take turns on
    a lock file, so neither moves a package folder the other is writing.
    """
    cache = (cache or cache_dir()).resolve()
    cache.mkdir(parents=True, exist_ok=True)
    if not missing(cache, packages):
        return cache
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _fill_locked(cache, packages)
    return cache


def _fill_locked(cache: Path, packages: tuple[str, ...]) -> None:
    todo = missing(cache, packages)  # again: another process may have filled it meanwhile
    if not todo:
        return
    npm = shutil.which("npm")
    if not npm:
        raise RuntimeError(
            f"npm not found: needed once to fill {cache} (apt-get install -y npm, or make test)"
        )
    with tempfile.TemporaryDirectory(prefix="solara-npm-") as tmp:
        result = subprocess.run(
            [npm, "pack", "--silent", "--ignore-scripts", "--pack-destination", tmp]
            + [EXACT.get(spec, spec) for spec in todo],
            capture_output=True,
            text=True,
            cwd=tmp,
        )
        if result.returncode != 0:
            raise RuntimeError(f"npm pack {' '.join(todo)} failed:\n{result.stderr.strip()}")
        tarballs = [line for line in result.stdout.split() if line.endswith(".tgz")]
        if len(tarballs) != len(todo):
            raise RuntimeError(f"npm pack returned {tarballs} for {todo}")
        for spec, tgz in zip(todo, tarballs, strict=True):
            staging = Path(tmp) / f"x-{tgz}"
            with tarfile.open(Path(tmp) / tgz) as archive:
                archive.extractall(staging, filter="data")
            tops = [d for d in staging.iterdir() if d.is_dir()]
            source = staging / "package" if (staging / "package").is_dir() else tops[0]
            dest = cache / spec
            if dest.exists():
                shutil.rmtree(dest)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(source), dest)
            _prune(dest, spec)
            (dest / ".complete").write_text(tgz + "\n")


def offline_env(cache: Path) -> dict[str, str]:
    """Environment for ``solara run`` that serves every front-end file from ``cache``."""
    return {
        "SOLARA_ASSETS_PROXY": "true",  # also when VSCODE_* would turn it off
        CACHE_ENV: str(cache),
        "SOLARA_ASSETS_CDN": "http://127.0.0.1:9/",  # a miss fails at once, never leaves
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    cache = Path(args[0]) if args else cache_dir()
    todo = missing(cache.resolve())
    try:
        fill(cache)
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(
        f"{cache.resolve()}: {len(PACKAGES)} packages ready"
        + (f" ({len(todo)} fetched with npm pack)" if todo else " (already cached)")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
