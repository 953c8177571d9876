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
