"""A shopping cart; prices are whole cents."""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass
class Cart:
    """Items by name, with their unit price and quantity."""

    prices: dict[str, int] = field(default_factory=dict)
    quantities: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, price: int, quantity: int = 1) -> None:
        """Put ``quantity`` of ``name`` in the cart at ``price`` cents each."""
        if quantity < 1:
            raise ValueError("quantity must be at least 1")
        self.prices[name] = price
        self.quantities[name] = self.quantities.get(name, 0) + quantity

    def total(self) -> int:
        """What the cart costs, in cents."""
        return sum(self.prices[n] * q for n, q in self.quantities.items())

    def count(self) -> int:
        """How many items are in the cart."""
        return sum(self.quantities.values())

    def label(self) -> str:
        """The cart's total for a receipt, e.g. ``12.50``."""
        cents: str = self.total()
        return f"{int(cents) // 100}.{int(cents) % 100:02d}"
