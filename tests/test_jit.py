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


def _array_kinds() -> dict[str, object]:
    """Arrays of the kinds a pass could be handed: every layout, flag and shape numba
    types differently, and values that are not arrays."""
    import numpy as np

    base = np.zeros((4, 6), dtype=np.int8)
    readonly = base.copy()
    readonly.flags.writeable = False
    unaligned = np.frombuffer(b"\0" * 33, dtype=np.int64, count=4, offset=1)
    return {
        "c": base,
        "f": np.asfortranarray(base),
        "strided": base[:, ::2],
        "row": base[1],
        "column": base[:, 1],
        "empty": np.zeros((0, 6), dtype=np.int8),
        "bool": base.astype(bool),
        "int64": base.astype(np.int64),
        "3d": np.zeros((2, 2, 2), dtype=np.int8),
        "0d": np.array(3, dtype=np.int8),
        "readonly": readonly,
        "unaligned": unaligned,
        "int": 3,
        "float": 3.0,
        "bool scalar": True,
        "tuple": (1.0, 2.0),
    }


def test_the_type_key_never_gives_two_numba_types_one_compiled_pass():
    """kernels.call_specialised reuses a compiled pass for arguments of equal
    ``_shape_of`` keys: equal keys must mean equal numba types (the key may split a type
    in two, which only costs a lookup)."""
    import numba

    from sim.engines.kernels import _shape_of

    kinds = _array_kinds()
    for name, arg in kinds.items():
        for other_name, other in kinds.items():
            if _shape_of(arg) == _shape_of(other):
                assert numba.typeof(arg) == numba.typeof(other), (name, other_name)
