"""Cancelling a screening with 300 paid orders, refunded by a real Celery worker over the real
Redis broker (issue 11): each order refunded exactly once (its Refund rows, and the sandbox
provider's refund references), each buyer emailed once (the worker's email files), also when
the worker is killed halfway and the cancellation is submitted again, and when the task runs
twice more after the end."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from payments.models import Refund
from tests.flows.mass_cancel_support import big_screening, paid_orders
from ticketing.celery import app
from ticketing.flows import mass_refunds
from ticketing.flows.models import CancellationItem, ItemStatus
from ticketing.flows.screenings import screening_cancel
from ticketing.flows.tasks import cancellation_refunds
from ticketing.orders.models import Order, OrderStatus
from ticketing.outbox.models import MessageStatus, OutboxMessage
from ticketing.outbox.services import relay_pending
from ticketing.outbox.topics import SCREENING_CANCELLED_TOPIC

from .conftest import ROOT, _reset_broker_pools, process_env, sent_messages, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.xdist_group("celery-worker")]

ORDERS = int(os.environ.get("MQ_ORDERS", "300"))
TO = re.compile(r"^To: (.+)$", re.MULTILINE)


def recipients(mailbox) -> Counter:
    """Who the worker's finished messages went to. (Two threads sending in the same second may
    share a file: the file email backend names them by the second and an object id.)"""
    return Counter(m for text in sent_messages(mailbox) for m in TO.findall(text))


def every_recipient(mailbox) -> Counter:
    """Who every message went to, finished or not: what a never-twice check counts."""
    return Counter(m for p in mailbox.glob("*.log") for m in TO.findall(p.read_text()))


def refunds_per_order(screening) -> Counter:
    return Counter(
        Refund.objects.filter(payment__order__screening=screening).values_list(
            "payment__order_id", flat=True
        )
    )


def progress(run_id):
    return mass_refunds.run_progress(run_id=run_id)


def start_worker(mailbox, name: str, **env) -> subprocess.Popen:
    """A worker of our own (two threads), on this run's queue, writing email files to `mailbox`.
    Its log goes to a file, not a pipe: 300 refunds log more than a pipe holds, and a worker
    whose pipe nobody reads until the end blocks on its next log line."""
    hostname = f"{name}-{os.getpid()}@%h"
    log = tempfile.NamedTemporaryFile(prefix=f"{name}-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "ticketing",
            "worker",
            # Threads, not solo: the consumer keeps fetching while a long batch runs (a solo
            # worker blocked for long stops taking messages off Redis), and the buyers' emails
            # go out beside the refunds, as with the prefork pool in production.
            "--pool=threads",
            "--concurrency=2",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            hostname,
            "-l",
            "WARNING",
            "-Q",
            app.conf.task_default_queue,
        ],
        cwd=ROOT,
        env=process_env(
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=str(mailbox),
            **env,
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    proc.log_path = log.name
    log.close()
    ready = wait_for(
        lambda: app.control.ping(
            destination=[hostname.replace("%h", socket.gethostname())], timeout=0.5
        ),
        timeout=30,
    )
    assert ready, "the Celery worker did not come up"
    return proc


@pytest.fixture
def to_the_broker(transactional_db):
    """Tasks go to the broker (not run in-process) for this test; the queue starts empty."""
    _reset_broker_pools()
    app.control.purge()
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True
    _reset_broker_pools()


def stop(proc: subprocess.Popen, name: str, *, kill: bool = False) -> None:
    """Stop a worker this test started (SIGKILL: no warm shutdown) and print its log's end."""
    if kill:
        proc.send_signal(signal.SIGKILL)
    else:
        proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    with open(proc.log_path, errors="replace") as log:
        print(f"---- {name} log ----\n" + log.read()[-3000:])
    os.unlink(proc.log_path)


def assert_each_order_refunded_once(screening, orders):
    per_order = refunds_per_order(screening)
    assert per_order == Counter({o.pk: 1 for o in orders})
    references = Refund.objects.filter(payment__order__screening=screening).values_list(
        "provider_ref", flat=True
    )
    assert len(set(references)) == len(orders)  # the sandbox paid each refund once
    assert set(Order.objects.filter(screening=screening).values_list("status", flat=True)) == {
        OrderStatus.REFUNDED
    }


def test_a_worker_refunds_300_paid_orders_once_and_emails_each_buyer_once(
    to_the_broker, mailbox, cinema
):
    worker = start_worker(mailbox, "refunds")
    try:
        screening = big_screening(cinema)
        orders = paid_orders(screening, ORDERS)

        result = screening_cancel(screening_id=screening.pk, actor="user:1", reason="flood")

        assert wait_for(lambda: progress(result.run_id).finished, timeout=100, interval=0.5), (
            progress(result.run_id)
        )
        assert wait_for(
            lambda: sum(recipients(mailbox).values()) >= ORDERS, timeout=90, interval=0.5
        )
        assert_each_order_refunded_once(screening, orders)
        assert recipients(mailbox) == Counter({o.customer_email: 1 for o in orders})

        # Run twice: the task again, twice, and the cancellation submitted again.
        cancellation_refunds.delay(result.run_id)
        cancellation_refunds.delay(result.run_id)
        again = screening_cancel(screening_id=screening.pk, actor="user:1")
        assert again.already and again.run_id == result.run_id
        app.control.ping(timeout=1)
        wait_for(lambda: False, timeout=2)
        assert_each_order_refunded_once(screening, orders)
        assert every_recipient(mailbox) == Counter({o.customer_email: 1 for o in orders})
        p = progress(result.run_id)
        assert (p.refunded, p.failed, p.left) == (ORDERS, 0, 0)
    finally:
        stop(worker, "worker")


def test_a_worker_killed_halfway_then_the_cancellation_submitted_again_refunds_each_once(
    to_the_broker, mailbox, cinema
):
    screening = big_screening(cinema)
    orders = paid_orders(screening, ORDERS)
    first = start_worker(mailbox, "killed", MARQUEE_CANCEL_BATCH_SIZE="20")
    try:
        result = screening_cancel(screening_id=screening.pk, actor="user:1", reason="flood")
        assert wait_for(lambda: progress(result.run_id).done >= 100, timeout=120, interval=0.2)
    finally:
        stop(first, "killed worker", kill=True)  # no warm shutdown: mid-batch, mid-email perhaps

    halfway = progress(result.run_id)
    assert 0 < halfway.left < ORDERS and halfway.failed == 0
    # Stuck mid-send when it died: after five minutes the relay sends it again (at least once).
    stuck = set(
        OutboxMessage.objects.filter(status=MessageStatus.SENDING).values_list("pk", flat=True)
    )
    assert len(stuck) <= 1
    OutboxMessage.objects.filter(pk__in=stuck).update(
        claimed_at=timezone.now() - timedelta(minutes=6)
    )

    second = start_worker(mailbox, "again")
    try:
        again = screening_cancel(screening_id=screening.pk, actor="user:1")  # resumes
        relay_pending(older_than=timedelta(0))  # what beat's relay does for the outbox
        assert again.already and again.run_id == result.run_id
        assert wait_for(lambda: progress(result.run_id).finished, timeout=100, interval=0.5), (
            progress(result.run_id)
        )
        assert wait_for(lambda: len(recipients(mailbox)) >= ORDERS, timeout=90, interval=0.5)
        wait_for(lambda: False, timeout=1)
    finally:
        stop(second, "worker")

    assert_each_order_refunded_once(screening, orders)
    assert Counter(CancellationItem.objects.values_list("status", flat=True)) == {
        ItemStatus.REFUNDED: ORDERS
    }
    assert set(recipients(mailbox)) == {o.customer_email for o in orders}  # every buyer told
    told = every_recipient(mailbox)
    twice = {email for email, n in told.items() if n > 1}
    # Never twice, but for the one message the killed worker may have finished writing before
    # it could record it sent: at least once, as SMTP allows (the same Message-ID both times).
    stuck_buyers = set(
        Order.objects.filter(
            pk__in=[
                m.payload["order_id"]
                for m in OutboxMessage.objects.filter(pk__in=stuck, topic=SCREENING_CANCELLED_TOPIC)
            ]
        ).values_list("customer_email", flat=True)
    )
    assert twice <= stuck_buyers
    assert OutboxMessage.objects.filter(topic=SCREENING_CANCELLED_TOPIC).count() == ORDERS
