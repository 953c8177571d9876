"""numba's cache must not outlive an edit of the rule layer (sim/jit.py)."""

from __future__ import annotations

from sim.jit import invalidate_if_rules_changed, rule_layer_digest


def test_a_cache_built_against_other_rules_is_deleted(tmp_path):
    """If the stamp's digest differs from the rule layer's, the module's cache files go."""
    module = tmp_path / "kernels.py"
    module.write_text("")
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    stale = [cache / "kernels.decide-99.py311.nbi", cache / "kernels.decide-99.py311.1.nbc"]
    other = cache / "other.decide-1.py311.nbi"
    for path in (*stale, other):
        path.write_text("x")
    (cache / "kernels.rule-layer").write_text("digest of older rules")

    assert invalidate_if_rules_changed(str(module)) is True
    assert not any(path.exists() for path in stale)
    assert other.exists()  # another module's cache is left alone
    assert (cache / "kernels.rule-layer").read_text() == rule_layer_digest()


def test_a_cache_built_against_these_rules_is_kept(tmp_path):
    module = tmp_path / "kernels.py"
    module.write_text("")
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    kept = cache / "kernels.decide-99.py311.nbi"
    kept.write_text("x")
    (cache / "kernels.rule-layer").write_text(rule_layer_digest())

    assert invalidate_if_rules_changed(str(module)) is False
    assert kept.exists()


def test_two_saves_at_once_keep_both_entries_each_with_its_own_data(tmp_path, monkeypatch):
    """numba's cache index is read, extended and written back on every save: two saves that
    read it at the same moment (two processes compiling two specialisations of one pass)
    would each write an index without the other's entry and take the same data file.
    Under sim.jit's lock the second save waits for the first: both entries stay, each
    naming its own data, and no index ever names a data file not yet written."""
    import threading
    import time

    from numba.core import caching

    def cache_file():
        return caching.IndexDataCacheFile(str(tmp_path), "kernels.decide-1.py311", "stamp")

    load_index, save_index = (
        caching.IndexDataCacheFile._load_index,
        caching.IndexDataCacheFile._save_index,
    )
    unwritten = []

    def slow_load(self):  # widens the moment between reading the index and writing it
        index = load_index(self)
        time.sleep(0.3)
        return index

    def checked_save(self, overloads):
        unwritten.extend(name for name in overloads.values() if not (tmp_path / name).exists())
        save_index(self, overloads)

    monkeypatch.setattr(caching.IndexDataCacheFile, "_load_index", slow_load)
    monkeypatch.setattr(caching.IndexDataCacheFile, "_save_index", checked_save)
    saves = [
        threading.Thread(target=cache_file().save, args=(key, machine_code))
        for key, machine_code in (("features=15", "code for 15"), ("features=0", "code for 0"))
    ]
    for save in saves:
        save.start()
    for save in saves:
        save.join()
    assert cache_file().load("features=15") == "code for 15"
    assert cache_file().load("features=0") == "code for 0"
    assert unwritten == []
