"""The worker processes of workers.ordered_map: results in input order, and the cycle
collector kept off what they inherit and run only now and then; cache.used_map's work of
the parent's own while they run."""

from __future__ import annotations

import gc
import multiprocessing
import os
from pathlib import Path

import pytest

from corpus_site import workers
from corpus_site.cache import ResultCache, used_map

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


def test_used_map_runs_meanwhile_once_in_this_process_while_the_workers_work(
    tmp_path: Path,
) -> None:
    cache = ResultCache(tmp_path / "cache.sqlite")
    seen: list[tuple[int, int]] = []  # (this process, live workers) when meanwhile ran

    def meanwhile() -> None:
        seen.append((os.getpid(), len(multiprocessing.active_children())))

    items = list(range(200))
    out = used_map(
        cache,
        lambda i: i * i,
        lambda i, square: (os.getpid(), square + 1),
        items,
        [f"k{i}" for i in items],
        workers=2,
        chunksize=5,
        meanwhile=meanwhile,
    )
    assert [r[1] for r in out] == [i * i + 1 for i in items]
    assert os.getpid() not in {pid for pid, _ in out}  # the work ran in the workers
    assert seen == [(os.getpid(), 2)]  # once, here, with both workers alive

    seen.clear()  # nothing to map: it still runs, once
    assert used_map(cache, abs, lambda i, r: r, [], [], workers=2, meanwhile=meanwhile) == []
    assert seen == [(os.getpid(), 0)]
    cache.close()


def test_a_background_child_whose_answer_is_never_asked_for_is_stopped_when_dropped() -> None:
    # Its answer is larger than a pipe holds: the child waits for a reader that never
    # comes (a build that stopped on an error) until the object is dropped.
    background = workers.Background(lambda: "x" * 1_000_000, workers=2)
    assert background._child is not None
    pid = background._child[0]
    del background
    with pytest.raises(ChildProcessError):  # killed and reaped: no child of that PID is left
        os.waitpid(pid, os.WNOHANG)


def test_a_background_answer_comes_back_once() -> None:
    background = workers.Background(lambda: {"pid": os.getpid(), "items": [1, 2]}, workers=2)
    answer = background.result()
    assert answer["items"] == [1, 2] and answer["pid"] != os.getpid()
    assert background.result() is None  # once
    assert workers.Background(lambda: 1, workers=1).result() is None  # one core: not run
