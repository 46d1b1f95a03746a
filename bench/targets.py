"""Issue 12's targets, as ratios of the rush's figures to the same run's pgbench reference."""

from __future__ import annotations

import math
from dataclasses import dataclass

HOLD_SHARE = 0.15  # hold writes/s (201 and 409) >= 15% of pgbench tps
ORDER_SHARE = HOLD_SHARE / 2  # orders/s >= half of that
P99_TIMES = 10.0  # hold and order p99 < 10 x pgbench p99
READS_TIMES = 1.5  # seat map reads alone >= 1.5 x pgbench tps
LOADGEN_MS = 0.3  # the load generator's CPU per request < 0.3 ms


@dataclass
class Verdict:
    name: str
    measured: str  # the rush's figure, formatted
    ratio: float  # the figure over the reference (NaN: no reference or no figure)
    ratio_text: str
    target_text: str
    met: bool | None  # None: cannot tell

    @property
    def mark(self) -> str:
        return "n/a" if self.met is None else ("PASS" if self.met else "MISS")

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "measured": self.measured,
            "ratio": None if math.isnan(self.ratio) else round(self.ratio, 4),
            "target": self.target_text,
            "met": self.met,
        }


def _ok(value: float, good) -> bool | None:
    return None if math.isnan(value) else bool(good(value))


def verdicts(
    *,
    ref_tps: float,
    ref_p99: float,
    hold_writes_per_s: float,
    orders_per_s: float,
    hold_p99: float,
    order_p99: float,
    reads_per_s: float | None,
    loadgen_ms: float,
) -> list[Verdict]:
    """Each target with the measured figure, its ratio to the reference and PASS/MISS."""
    nan = math.nan
    tps = ref_tps if ref_tps and not math.isnan(ref_tps) else nan
    p99 = ref_p99 if ref_p99 and not math.isnan(ref_p99) else nan
    out = []
    share = hold_writes_per_s / tps
    out.append(
        Verdict(
            "hold writes/s",
            f"{hold_writes_per_s:,.1f}/s",
            share,
            f"{share:.1%} of pgbench tps",
            f">= {HOLD_SHARE:.0%}",
            _ok(share, lambda r: r >= HOLD_SHARE),
        )
    )
    share = orders_per_s / tps
    out.append(
        Verdict(
            "orders/s",
            f"{orders_per_s:,.1f}/s",
            share,
            f"{share:.1%} of pgbench tps",
            f">= {ORDER_SHARE:.1%}",
            _ok(share, lambda r: r >= ORDER_SHARE),
        )
    )
    for name, value in (("hold write p99", hold_p99), ("order write p99", order_p99)):
        times = value / p99
        out.append(
            Verdict(
                name,
                f"{value * 1000:,.1f} ms",
                times,
                f"{times:.1f}x pgbench p99",
                f"< {P99_TIMES:.0f}x",
                _ok(times, lambda r: r < P99_TIMES),
            )
        )
    if reads_per_s is not None:
        times = reads_per_s / tps
        out.append(
            Verdict(
                "seat map reads alone",
                f"{reads_per_s:,.0f}/s",
                times,
                f"{times:.2f}x pgbench tps",
                f">= {READS_TIMES}x",
                _ok(times, lambda r: r >= READS_TIMES),
            )
        )
    out.append(
        Verdict(
            "load generator CPU",
            f"{loadgen_ms:.2f} ms/request",
            nan,
            "",
            f"< {LOADGEN_MS} ms",
            _ok(loadgen_ms, lambda v: v < LOADGEN_MS),
        )
    )
    return out
