"""The result cache is bounded in bytes, not only in entries (issue 12, item 5)."""
from __future__ import annotations

from servicekpi.server.cache import ResultCache


def test_cache_evicts_by_bytes():
    c = ResultCache(max_entries=100, max_bytes=4000)
    for i in range(10):
        c.get((0, i), lambda: b"x" * 900, lambda: 0)
    # 10 x 900 bytes: only 4 fit in 4,000 (4 x 900 = 3,600; a 5th makes 4,500)
    assert len(c) == 4 and c.size == 3600


def test_an_answer_over_a_quarter_of_the_budget_is_served_but_not_kept():
    c = ResultCache(max_entries=100, max_bytes=4000)
    assert c.get((0, "big"), lambda: b"y" * 1001, lambda: 0) == b"y" * 1001
    assert len(c) == 0 and c.size == 0
