"""The worker processes of workers.ordered_map: results in input order, and the cycle
collector kept off what they inherit and run only now and then."""

from __future__ import annotations

import gc

import pytest

from corpus_site import workers

pytestmark = pytest.mark.skipif(not workers.forks(100, 2), reason="needs fork and two cores")

_collected: list[int] = []  # in a worker: the cycles its collector has freed


class _Cycle:
    """An object in a reference cycle that says when the collector frees it."""

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        _collected.append(1)


def _state(item: int) -> tuple[int, bool, int, int]:
    _Cycle()  # garbage that only the cycle collector can free
    return item, gc.isenabled(), gc.get_freeze_count(), len(_collected)


def test_workers_keep_order_freeze_what_they_inherit_and_collect_now_and_then(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(workers, "COLLECT_EVERY", 10)  # inherited by the forked workers
    frozen_here = gc.get_freeze_count()
    results = list(workers.ordered_map(_state, list(range(200)), workers=2, chunksize=5))
    assert [r[0] for r in results] == list(range(200))
    assert not any(enabled for _, enabled, _, _ in results)
    # What the workers inherited is frozen there (this test's own objects at least).
    assert all(frozen > frozen_here for _, _, frozen, _ in results)
    # Each worker ran about 100 items: its collector ran every 10 and freed their cycles.
    assert max(count for *_, count in results) >= 50
    assert gc.isenabled()  # the parent's own collector is left as it was
