"""Counters and latency percentiles for one phase of the benchmark."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (q in 0..100); NaN when empty."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass
class Summary:
    count: int
    p50: float
    p95: float
    p99: float
    max: float

    def as_ms(self) -> dict:
        return {
            "count": self.count,
            "p50_ms": round(self.p50 * 1000, 1),
            "p95_ms": round(self.p95 * 1000, 1),
            "p99_ms": round(self.p99 * 1000, 1),
            "max_ms": round(self.max * 1000, 1),
        }


def summarise(values: list[float]) -> Summary:
    ordered = sorted(values)
    return Summary(
        count=len(ordered),
        p50=percentile(ordered, 50),
        p95=percentile(ordered, 95),
        p99=percentile(ordered, 99),
        max=ordered[-1] if ordered else math.nan,
    )


@dataclass
class Recorder:
    """What the buyers saw: latencies per kind of request, 409s by code, errors by kind."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter = field(default_factory=Counter)  # (kind, status) -> n
    conflicts: Counter = field(default_factory=Counter)  # (kind, error code) -> n
    errors: Counter = field(default_factory=Counter)  # "kind: what" -> n
    error_samples: list[str] = field(default_factory=list)
    holds: int = 0
    orders: int = 0
    seats_held: int = 0
    seats_ordered: int = 0
    purchases_abandoned: int = 0
    promo_orders: int = 0  # orders placed with a promo code
    discount_given: int = 0  # what their answers said came off, minor units

    def latency(self, kind: str, seconds: float) -> None:
        self.latencies[kind].append(seconds)

    def status(self, kind: str, code: int) -> None:
        self.statuses[(kind, code)] += 1

    def conflict(self, kind: str, code: str) -> None:
        self.conflicts[(kind, code)] += 1

    def error(self, kind: str, what: str, sample: str = "") -> None:
        self.errors[f"{kind}: {what}"] += 1
        if sample and len(self.error_samples) < 10:
            self.error_samples.append(f"{kind}: {what}: {sample[:300]}")

    def attempts(self, kind: str) -> int:
        """Requests of this kind that got an answer, whatever its status."""
        return sum(n for (k, _status), n in self.statuses.items() if k == kind)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def conflict_count(self) -> int:
        return sum(self.conflicts.values())

    def summary(self, kind: str) -> Summary:
        return summarise(self.latencies.get(kind, []))
