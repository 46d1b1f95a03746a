"""Database helpers shared by the services."""

from __future__ import annotations

import functools
import logging
import random
import time

from django.db import OperationalError, transaction

log = logging.getLogger(__name__)

_RETRYABLE = ("deadlock detected", "could not serialize", "database is locked")


def is_retryable(exc: Exception) -> bool:
    """A deadlock or serialisation victim: running the same transaction again may succeed."""
    return any(text in str(exc) for text in _RETRYABLE)


def retry_on_conflict(attempts: int = 3):
    """Run a function in its own transaction, again if the database chose it as a deadlock or
    serialisation victim. Claims are taken in a stable order, so this is rare; it is not the
    guarantee, only politeness to the caller."""

    def decorator(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for attempt in range(1, attempts + 1):
                try:
                    with transaction.atomic():
                        return func(*args, **kwargs)
                except OperationalError as exc:
                    if (
                        not is_retryable(exc)
                        or attempt == attempts
                        or transaction.get_connection().in_atomic_block
                    ):
                        raise
                    log.info("retrying %s after %s", func.__name__, exc)
                    time.sleep(random.uniform(0.005, 0.03) * attempt)
            raise AssertionError("unreachable")

        return wrapper

    return decorator


AUDITORIUM_LOCKED = "marquee_auditorium_locked"  # the trigger of inventory migration 0004


def refused_by(exc: Exception, guard: str) -> bool:
    """Whether a database error is the refusal of one of our named triggers or constraints."""
    return guard in str(exc)
