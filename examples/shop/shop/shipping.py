"""What shipping costs, in cents."""

from __future__ import annotations

FREE_FROM = 5000  # orders of 50.00 and more ship free
FLAT_RATE = 495


def shipping(total: int, express: bool = False) -> int:
    """Shipping for an order of ``total`` cents."""
    if express:
        return FLAT_RATE * 2
    if total >= FREE_FROM:
        return 0
    return FLAT_RATE


def weight_surcharge(grams: int) -> int:
    """Heavy parcels cost more: 1.00 per started kilogram above 5 kg."""
    if grams <= 5000:
        return 0
    extra = grams - 5000
    return 100 * ((extra + 999) // 1000)
