"""Both cores where it helps: a map over worker processes that keeps the input order.

Workers are forked, so they inherit what the parent has already computed (the corpus, the
groups) instead of having it pickled to them: a task only names its item. Results come back
pickled, in input order, so the output does not depend on which worker finished first.
The workers run their cycle collector only now and then, never over what they inherited
(COLLECT_EVERY). Also one task run in the background on the other core (Background), and
the cycle collector paused over work that makes many objects and no cycles.
"""

from __future__ import annotations

import gc
import marshal
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# A progress display around long work: (results, how many, what is being done) -> results.
Progress = Callable[[Iterable[Any], int, str], Iterable[Any]]

# Below this many items, starting processes costs more than it saves.
MIN_PARALLEL = 64

# The function and items of the map in progress, inherited by the forked workers.
_TASK: tuple[Callable[[Any], Any], Sequence[Any]] | None = None


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def forks(count: int, workers: int | None = None) -> bool:
    """Whether ordered_map runs `count` items in worker processes (else in this one)."""
    workers = default_workers() if workers is None else workers
    return (
        workers > 1 and count >= MIN_PARALLEL and "fork" in multiprocessing.get_all_start_methods()
    )


def ordered_map(
    fn: Callable[[T], R],
    items: Sequence[T],
    workers: int | None = None,
    chunksize: int = 16,
) -> Iterator[R]:
    """fn over items, results in input order; in forked processes when that helps.

    fn and items are handed to the workers by fork, never pickled; each result is.
    Serial when fork is unavailable, when there is one core, or when there are few items.
    """
    if not forks(len(items), workers):
        yield from map(fn, items)
        return
    workers = default_workers() if workers is None else workers
    global _TASK
    _TASK = (fn, items)
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_start) as pool:
            yield from pool.map(_call, range(len(items)), chunksize=chunksize)
    finally:
        _TASK = None


# A worker's cycle collector runs once per this many items, not after every 700 new
# objects: the work makes many objects and few reference cycles. Comparing the groups of
# 1,000 versions took 0.66-0.67 s of CPU with the collector off against 0.74-0.75 s with
# it on (bench/compare.py, two runs each). A cold 10,000-version corpus stage took a
# median 27.2 s of user CPU against 28.0 s (six alternating pairs on a noisy machine:
# 26.1-27.6 s against 26.6-29.9 s), its workers' peak memory 349-350 MB either way.
# Collecting now and then bounds what cycles a long map leaves.
COLLECT_EVERY = 2048
_done = 0  # items this worker has run


def _start() -> None:
    """A worker's start: what it inherited from the parent is kept out of its collections
    (gc.freeze moves it in one step, writing to none of its objects, so neither is it
    traversed nor are its pages copied when a collection would mark it), and the cycle
    collector is left to _call."""
    gc.freeze()
    gc.disable()


def _call(index: int) -> Any:
    global _done
    assert _TASK is not None, "ordered_map's task is set before the workers fork"
    fn, items = _TASK
    _done += 1
    if _done % COLLECT_EVERY == 0:
        gc.collect()
    return fn(items[index])


class Background:
    """fn() in a forked child process while this one goes on; result() waits for it.

    fn inherits what the parent holds, by fork; its result comes back marshalled (plain
    containers, strings and numbers). result() is None when there is no second core or no
    fork (fn is not run: the caller does the work itself) or when the child failed. A
    child whose result is never asked for (the parent's work stopped on an error) is
    stopped when this object is dropped: it would wait for ever to send a large answer."""

    def __init__(
        self, fn: Callable[[], Any], workers: int | None = None, items: int = MIN_PARALLEL
    ) -> None:
        """items: how many items fn's work covers (below MIN_PARALLEL, no child: see forks)."""
        self._child: tuple[int, int] | None = None
        self._parent = os.getpid()
        if not forks(items, workers):
            return
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: no cleanup of the parent's state, only its answer
            code = 1
            try:
                os.close(read_end)
                with os.fdopen(write_end, "wb") as out:
                    out.write(marshal.dumps(fn(), 2))
                code = 0
            finally:
                os._exit(code)
        os.close(write_end)
        self._child = (pid, read_end)

    def result(self) -> Any:
        """fn()'s result (once: later calls give None), or None (see the class)."""
        if self._child is None:
            return None
        pid, read_end = self._child
        self._child = None
        with os.fdopen(read_end, "rb") as answer:
            data = answer.read()
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            return None
        try:
            return marshal.loads(data)
        except (ValueError, EOFError, TypeError):
            return None

    def cancel(self) -> None:
        """Stop the child and forget its result, if result() has not been called."""
        if self._child is None or os.getpid() != self._parent:
            return  # done, or this is a process forked since, which owns no child
        pid, read_end = self._child
        self._child = None
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read_end)

    def __del__(self) -> None:
        self.cancel()


@contextmanager
def cycle_collector_paused(freeze: bool = False) -> Iterator[None]:
    """Pause Python's cycle collector, then restore it, around work that allocates many
    containers and makes no cycles: each full collection walks the whole heap (every
    version of the corpus), which cost grouping 10% of its time at 50,000 versions and
    tripled the load of the build state (10,000 versions: 0.33 s -> 0.11 s).

    freeze: what the block allocated is also kept out of the collector afterwards
    (gc.freeze; build() unfreezes at its end). Without it, the first allocation after the
    block may start a full collection over it all: 0.08 s after loading the build state
    of 10,000 versions."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if was_enabled:
            gc.enable()
