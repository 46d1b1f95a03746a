"""The waiting room's rules, on real Redis: one shuffle at opening, nobody overtaken after it,
a place kept through a reload, admissions by rate or by room, pauses, expiries."""

from __future__ import annotations

import threading
import time

import pytest

from tests.onsale.support import room, visit, wait_until
from ticketing.onsale import waiting


def test_before_opening_a_waiter_is_told_the_opening_time_and_gets_no_number_yet():
    sale = room(1, opens_in=30)

    seen = visit(sale, "early-bird")

    assert seen.state == "early"
    assert seen.number == 0
    assert abs(seen.opens_at - sale.opens_at.timestamp()) < 0.01
    assert 25 < seen.opens_at - seen.server_time <= 30.1


def test_at_opening_the_early_waiters_are_shuffled_once_each_appearing_exactly_once():
    sale = room(2, opens_in=1.5)
    arrivals = [f"w{i:03d}" for i in range(200)]
    for waiter in arrivals:
        assert visit(sale, waiter).state == "early"
    wait_until(sale.opens_at)

    numbers = {waiter: visit(sale, waiter).number for waiter in arrivals}

    admission_order = sorted(arrivals, key=numbers.get)
    assert sorted(numbers.values()) == list(range(1, 201))  # each once, no gaps
    assert admission_order != arrivals  # not the order they came in
    # and not nearly so: with a fair shuffle, few keep their place (expected 1 in 200)
    assert sum(a == b for a, b in zip(admission_order, arrivals, strict=True)) < 20


def test_the_opening_step_raced_by_many_threads_happens_exactly_once():
    sale = room(3, opens_in=1)
    for i in range(50):
        visit(sale, f"early{i}")
    wait_until(sale.opens_at)
    results, start = [], threading.Barrier(8)

    def opener():
        start.wait()
        results.append(waiting.open_once(sale.id))

    threads = [threading.Thread(target=opener) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # the script's own guard holds even when the lock is gone
    waiting._client().delete(f"{waiting.prefix(sale.id)}:opening")
    again = waiting.open_once(sale.id)

    assert sorted(r for r in results if r >= 0) == [50]
    assert again == -1
    numbers = [visit(sale, f"early{i}").number for i in range(50)]
    assert sorted(numbers) == list(range(1, 51))
    assert visit(sale, "latecomer").number == 51


def test_arrivals_after_opening_are_admitted_in_arrival_order_every_one():
    sale = room(4, opens_in=-5, rate=0)  # three live admissions at once (settings below)
    arrivals = [f"late{i:02d}" for i in range(40)]
    for waiter in arrivals:
        assert visit(sale, waiter).state in ("waiting", "admitted")
    admitted: list[str] = []
    for _ in range(60):
        for waiter in arrivals:
            if waiter not in admitted and visit(sale, waiter).state == "admitted":
                admitted.append(waiter)
                waiting.admission_done(sale.id, waiter)  # bought: room for the next
        if len(admitted) == len(arrivals):
            break

    assert admitted == arrivals


@pytest.fixture(autouse=True)
def _small_rooms(settings):
    settings.MARQUEE_ONSALE = {"LIVE_ADMISSIONS": 3, "KEEP_SECONDS": 300, "GRACE_SECONDS": 120}


def test_a_reload_keeps_the_place_and_a_newcomer_queues_behind():
    sale = room(5, opens_in=-5, rate=1)
    first = visit(sale, "alice").number
    visit(sale, "bob")

    assert visit(sale, "alice").number == first
    assert visit(sale, "carol").number == first + 2


def test_the_rate_admits_that_many_a_minute_and_saves_nothing_up_while_nobody_waits():
    sale = room(6, opens_in=-3, rate=60)  # one a second; three seconds passed with nobody there
    for i in range(10):
        visit(sale, f"r{i}")

    admitted = [visit(sale, f"r{i}").state == "admitted" for i in range(10)]
    assert admitted[:2] == [True, True]  # the first comes straight in, one second's credit kept
    assert sum(admitted) <= 3
    time.sleep(2.1)
    assert [visit(sale, f"r{i}").state for i in (2, 3, 9)] == ["admitted", "admitted", "waiting"]


def test_an_admission_not_used_in_time_makes_room_for_the_next(settings):
    sale = room(7, opens_in=-5, rate=0, minutes=0.05)  # three seconds to buy
    for i in range(6):
        visit(sale, f"e{i}")
    assert [visit(sale, f"e{i}").state for i in range(6)] == ["admitted"] * 3 + ["waiting"] * 3

    time.sleep(3.3)

    assert [visit(sale, f"e{i}").state for i in (3, 4, 5)] == ["admitted"] * 3
    lapsed = visit(sale, "e0")  # back after the time was up: to the end of the queue
    assert lapsed.requeued and lapsed.state == "waiting" and lapsed.number == 7


def test_a_pause_stops_admissions_and_resuming_starts_them_again():
    sale = room(8, opens_in=-5, rate=0, paused=True)
    for i in range(3):
        assert visit(sale, f"p{i}").state == "waiting"
    assert visit(sale, "p0").paused

    room(8, opens_in=-5, rate=0, paused=False)

    assert [visit(sale, f"p{i}").state for i in range(3)] == ["admitted"] * 3


def test_a_paused_rate_does_not_save_up_the_paused_time():
    sale = room(9, opens_in=-0.5, rate=60)
    for i in range(10):
        visit(sale, f"q{i}")
    room(9, opens_in=-0.5, rate=60, paused=True)
    time.sleep(2.2)
    room(9, opens_in=-0.5, rate=60, paused=False)

    states = [visit(sale, f"q{i}").state for i in range(10)]

    assert states.count("admitted") <= 2  # not the 3 seconds since opening


def test_the_estimate_is_the_waiters_ahead_over_the_rate():
    sale = room(10, opens_in=-0.2, rate=30)
    for i in range(31):
        visit(sale, f"z{i}")

    last = visit(sale, "z30")

    assert last.state == "waiting"
    assert last.wait_minutes == pytest.approx(last.position / 30)


def test_waiters_who_stopped_polling_long_ago_are_skipped_at_no_cost(settings):
    settings.MARQUEE_ONSALE = {"LIVE_ADMISSIONS": 1, "KEEP_SECONDS": 2, "GRACE_SECONDS": 120}
    sale = room(11, opens_in=-5, rate=0)
    visit(sale, "buyer")  # admitted: the one live admission
    visit(sale, "gone")  # then closes the tab
    visit(sale, "stays")
    time.sleep(1.1)
    assert visit(sale, "stays").state == "waiting"  # polling, as the page does
    time.sleep(1.1)  # the one who left has lost the place; the buyer buys

    waiting.admission_done(sale.id, "buyer")

    assert visit(sale, "stays").state == "admitted"
