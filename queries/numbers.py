"""Numbers as people read them: halves rounded up, as a reader rounding by hand would.

Python's own rounding works on the binary float, so 37.55 (stored as 37.549999…) printed as 37.5 and 0.2345
as 0.234; and it sends exact halves to the even digit, so 5/8 printed as 62%. Here the float's shortest
decimal form (its repr) is rounded instead."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def percent(share: float) -> str:
    """A share as a whole percentage: 3/8 is 38% and 5/8 is 63%."""
    return f"{(Decimal(repr(share)) * 100).quantize(Decimal(1), ROUND_HALF_UP)}%"


def decimals(number: float, places: int) -> str:
    """`places` digits after the point, kept even when they are zeros: 40.0, 37.6."""
    return format(Decimal(repr(number)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP), "f")


def significant(number: float, digits: int = 3) -> str:
    """`digits` significant digits without trailing zeros, never in exponent form: 0.235, 37.6, 0.63, 150."""
    value = Decimal(repr(number))
    if not value:
        return "0"
    text = format(value.quantize(Decimal(1).scaleb(value.adjusted() - digits + 1), ROUND_HALF_UP), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def plain_decimal(number: float, places: int = 3) -> str:
    """At most `places` digits after the point, trailing zeros dropped: 0.63, 2.79, 3."""
    text = decimals(number, places)
    return text.rstrip("0").rstrip(".") if "." in text else text
