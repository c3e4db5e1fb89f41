"""Migration 003 seeds exactly the domain's coin packages and categories."""

from __future__ import annotations

import asyncpg

from relivchats.domain.catalogue import CATEGORIES
from relivchats.domain.packages import PACKAGES


async def test_seeded_packages_are_the_domain_packages(database_url):
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT package_id, name, coins, price_inr_paise, price_usd_cents, popular, active"
            " FROM catalogue_packages ORDER BY sort_order"
        )
    finally:
        await conn.close()
    assert [tuple(row) for row in rows] == [
        (p.id, p.name, p.coins, p.price_inr_paise, p.price_usd_cents, p.popular, p.active)
        for p in PACKAGES
    ]


async def test_seeded_categories_are_the_domain_categories(database_url):
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT slug, display_name, description, icon, cost_coins, chat_size"
            " FROM catalogue_categories ORDER BY sort_order"
        )
        admits = await conn.fetch(
            "SELECT slug, n FROM catalogue_categories, generate_series(1, 5) AS n"
            " WHERE n >= min_participants AND (max_participants IS NULL OR n <= max_participants)"
        )
    finally:
        await conn.close()
    assert [tuple(row) for row in rows] == [
        (c.slug, c.display_name, c.description, c.icon, c.cost_coins, c.chat_size.value)
        for c in CATEGORIES
    ]
    assert {(row["slug"], row["n"]) for row in admits} == {
        (c.slug, n) for c in CATEGORIES for n in range(1, 6) if c.fits(n)
    }
