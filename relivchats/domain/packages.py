"""The coin package catalogue: reference data, not events (product.md section 2).

The schema's SQL seed is generated from this list, so the catalogue has exactly one source.
Prices are integers in minor units: Razorpay charges INR in paise, Stripe charges USD in cents.
"""

from __future__ import annotations

from dataclasses import dataclass

from relivchats.domain.errors import NotFound


@dataclass(frozen=True)
class CoinPackage:
    id: str
    name: str
    coins: int
    price_inr_paise: int
    price_usd_cents: int
    popular: bool = False
    active: bool = True

    def price_in(self, currency: str) -> int:
        """The price in minor units of `currency` (ISO 4217, upper case)."""
        if currency == "INR":
            return self.price_inr_paise
        if currency == "USD":
            return self.price_usd_cents
        raise NotFound(f"package {self.id!r} is not sold in {currency}", currency=currency)


PACKAGES: tuple[CoinPackage, ...] = (
    CoinPackage("starter", "Starter", coins=400, price_inr_paise=39_900, price_usd_cents=499),
    CoinPackage(
        "popular", "Popular", coins=850, price_inr_paise=79_900, price_usd_cents=999, popular=True
    ),
    CoinPackage("pro", "Pro", coins=1600, price_inr_paise=149_900, price_usd_cents=1799),
)


def active_packages() -> list[CoinPackage]:
    return [package for package in PACKAGES if package.active]


def package_by_id(package_id: str) -> CoinPackage:
    """The active package with that id; an unknown or retired package is not for sale."""
    for package in active_packages():
        if package.id == package_id:
            return package
    raise NotFound(f"no coin package {package_id!r}", package_id=package_id)
