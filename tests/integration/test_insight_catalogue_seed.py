"""Migration 006 seeds exactly the domain's insight types, in each category's order."""

from __future__ import annotations

import json

import asyncpg

from relivchats.domain.catalogue import CATEGORIES


async def test_seeded_insight_types_are_the_domain_insight_types(database_url):
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT slug, category_slug, sort_order, title, icon, description, keywords,"
            " statistics, prompt, output_schema::text AS output_schema"
            " FROM catalogue_insight_types ORDER BY category_slug, sort_order"
        )
    finally:
        await conn.close()
    seeded = {
        (row["category_slug"], row["sort_order"]): (
            row["slug"],
            row["title"],
            row["icon"],
            row["description"],
            tuple(row["keywords"]),
            tuple(row["statistics"]),
            row["prompt"],
            json.loads(row["output_schema"]),
        )
        for row in rows
    }
    assert seeded == {
        (category.slug, order): (
            insight.slug,
            insight.title,
            insight.icon,
            insight.description,
            insight.keywords,
            insight.statistics,
            insight.prompt,
            insight.output_schema,
        )
        for category in CATEGORIES
        for order, insight in enumerate(category.insight_types, start=1)
    }
