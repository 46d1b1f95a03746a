"""Money is integer minor units of an ISO 4217 currency. How many digits a minor unit has is
ISO 4217's answer, not CLDR's display habit (CLDR shows HUF or IDR without decimals, yet
their minor unit is still a hundredth): one table, used by every place that turns minor units
into an amount."""

from __future__ import annotations

from decimal import Decimal

ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV",
     "XAF", "XOF", "XPF"}
)  # fmt: skip
THREE_DECIMAL = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})


def minor_digits(currency: str) -> int:
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def to_decimal(amount: int, currency: str) -> Decimal:
    """1250 EUR -> Decimal("12.50"); 1250 JPY -> Decimal("1250"); 1250 KWD -> Decimal("1.250")."""
    return Decimal(int(amount)).scaleb(-minor_digits(currency))
