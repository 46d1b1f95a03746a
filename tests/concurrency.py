"""Run callables at the same instant in real threads, each on its own database connection.

Race tests use this so that PostgreSQL, not Python, decides who wins. Django keeps one
connection per thread, so every callable here talks to the database over its own connection
and in its own transactions. Each thread connects first, then waits at a `threading.Barrier`;
the barrier lets them all go together, so their transactions really overlap. Whatever a
callable returns or raises is collected, never lost, and each thread closes its connection when
it ends (the test database could not be flushed or dropped otherwise).

A test that races must be marked `@pytest.mark.django_db(transaction=True)`: the threads only see
committed rows, and the ordinary test transaction would hide the fixtures from them.

    outcomes = run_concurrently([lambda: hold_create(screening_id=s, seat_ids=[a1])] * 16)
    assert len(winners(outcomes)) == 1
    assert unexpected(outcomes, errors.SeatUnavailable) == []
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection

DEFAULT_TIMEOUT = 30.0


@dataclass
class Outcome:
    """What one callable did: its return value, or the exception it raised."""

    index: int
    result: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def run_concurrently(
    callables: Iterable[Callable[[], Any]], *, timeout: float = DEFAULT_TIMEOUT
) -> list[Outcome]:
    """Call each callable in its own thread, all released at once; return their outcomes in the
    order given. Fails the test if a thread is still running after `timeout` seconds (a stall or
    a deadlock nobody resolved)."""
    callables = list(callables)
    if not callables:
        return []
    barrier = threading.Barrier(len(callables))
    outcomes = [Outcome(index) for index in range(len(callables))]

    def run(index: int, func: Callable[[], Any]) -> None:
        released = False
        try:
            connection.ensure_connection()  # connect before the barrier, not after it
            barrier.wait(timeout)
            released = True
            outcomes[index].result = func()
        except threading.BrokenBarrierError as exc:
            outcomes[index].error = exc
        except BaseException as exc:
            # A thread that never reached the barrier must not strand the rest. One that did must
            # not break it: under load, others may still be on their way out of wait(), and an
            # abort then hands them a BrokenBarrierError for a race they were part of.
            if not released:
                barrier.abort()
            outcomes[index].error = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(i, func), name=f"race-{i}", daemon=True)
        for i, func in enumerate(callables)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    stuck = [thread.name for thread in threads if thread.is_alive()]
    if stuck:
        raise AssertionError(f"threads still running after {timeout}s: {stuck}")
    return outcomes


def run_many(count: int, func: Callable[[int], Any], **kwargs) -> list[Outcome]:
    """`func(0)`, `func(1)`, ... `func(count - 1)`, all at once."""
    return run_concurrently([_bind(func, i) for i in range(count)], **kwargs)


def _bind(func: Callable[[int], Any], index: int) -> Callable[[], Any]:
    return lambda: func(index)


def winners(outcomes: Iterable[Outcome]) -> list[Any]:
    """The return values of the callables that did not raise."""
    return [o.result for o in outcomes if o.ok]


def failures(outcomes: Iterable[Outcome]) -> list[BaseException]:
    return [o.error for o in outcomes if o.error is not None]


def unexpected(outcomes: Iterable[Outcome], *expected: type[BaseException]) -> list[BaseException]:
    """Exceptions other than the `expected` kinds: a race test asserts this is empty, so a
    deadlock, an IntegrityError or a broken barrier can never pass for a lost race."""
    return [e for e in failures(outcomes) if not (expected and isinstance(e, expected))]
