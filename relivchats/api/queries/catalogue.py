"""The catalogue tables seeded by schema/003_ledger.sql (coin packages; categories come later)."""

from __future__ import annotations

import asyncpg

from relivchats.adapters.database import ReadPool


async def active_packages(db: ReadPool) -> list[asyncpg.Record]:
    return await db.fetch(
        "SELECT package_id, name, coins, price_inr_paise, price_usd_cents, popular"
        " FROM catalogue_packages WHERE active ORDER BY sort_order"
    )
