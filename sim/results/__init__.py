"""Stored results: the store (atomic writes, run folders), reports, plan comparison, stats."""
