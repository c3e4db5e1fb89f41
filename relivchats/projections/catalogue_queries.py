"""The catalogue tables seeded by migrations: coin packages (003), categories (003) and their
insight types (006)."""

from __future__ import annotations

import asyncpg

from relivchats.adapters.database import ReadPool


async def active_packages(db: ReadPool) -> list[asyncpg.Record]:
    return await db.fetch(
        "SELECT package_id, name, coins, price_inr_paise, price_usd_cents, popular"
        " FROM catalogue_packages WHERE active ORDER BY sort_order"
    )


_CATEGORIES = """
SELECT k.slug, k.display_name, k.description, k.icon, k.cost_coins, k.chat_size,
    k.min_participants, k.max_participants, t.slug AS insight_type, t.title,
    t.description AS insight_description, t.icon AS insight_icon
FROM catalogue_categories k
JOIN catalogue_insight_types t ON t.category_slug = k.slug AND t.active
WHERE k.active AND ($1::text IS NULL OR k.slug = $1)
ORDER BY k.sort_order, t.sort_order
"""


async def categories_with_insights(db: ReadPool, slug: str | None = None) -> list[asyncpg.Record]:
    """Active categories (or the one named) with their active insight types: one row per type."""
    return await db.fetch(_CATEGORIES, slug)
