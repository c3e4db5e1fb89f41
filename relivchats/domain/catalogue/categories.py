"""The categories of the catalogue (product spec §2), who each is for, and the lookups."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from relivchats.domain.catalogue.family import FAMILY_INSIGHTS
from relivchats.domain.catalogue.friendship import FRIENDSHIP_INSIGHTS
from relivchats.domain.catalogue.insight_types import InsightType
from relivchats.domain.catalogue.romantic import ROMANTIC_INSIGHTS
from relivchats.domain.catalogue.schemas import schema_problems
from relivchats.domain.catalogue.workplace import WORKPLACE_INSIGHTS
from relivchats.domain.errors import NotFound

DEFAULT_CATEGORY_COST = 400


class ChatSize(Enum):
    EXACTLY_TWO = "exactly_2"
    TWO_OR_MORE = "2_or_more"

    def admits(self, participant_count: int) -> bool:
        if self is ChatSize.EXACTLY_TWO:
            return participant_count == 2
        return participant_count >= 2

    @property
    def rule(self) -> str:
        return (
            "exactly 2 participants" if self is ChatSize.EXACTLY_TWO else "2 or more participants"
        )


@dataclass(frozen=True, eq=False)
class Category:
    slug: str
    display_name: str
    description: str
    icon: str
    chat_size: ChatSize
    insight_types: tuple[InsightType, ...]
    cost_coins: int = DEFAULT_CATEGORY_COST

    def fits(self, participant_count: int) -> bool:
        return self.chat_size.admits(participant_count)


ROMANTIC = Category(
    slug="romantic",
    display_name="Romantic Relationship",
    description="How the two of you talk, feel, disagree, plan and play together.",
    icon="❤️",
    chat_size=ChatSize.EXACTLY_TWO,
    insight_types=ROMANTIC_INSIGHTS,
)

FRIENDSHIP = Category(
    slug="friendship",
    display_name="Friendship",
    description="Trust, support and the spark that keeps a friendship going.",
    icon="🤝",
    chat_size=ChatSize.EXACTLY_TWO,
    insight_types=FRIENDSHIP_INSIGHTS,
)

FAMILY = Category(
    slug="family",
    display_name="Family",
    description="Roles, warmth and friction in your family's conversations.",
    icon="🏡",
    chat_size=ChatSize.TWO_OR_MORE,
    insight_types=FAMILY_INSIGHTS,
)

WORKPLACE = Category(
    slug="workplace",
    display_name="Workplace",
    description="Clarity, collaboration and the health of working relationships.",
    icon="💼",
    chat_size=ChatSize.TWO_OR_MORE,
    insight_types=WORKPLACE_INSIGHTS,
)

CATEGORIES: tuple[Category, ...] = (ROMANTIC, FRIENDSHIP, FAMILY, WORKPLACE)
INSIGHT_TYPES: dict[str, InsightType] = {
    insight.slug: insight for category in CATEGORIES for insight in category.insight_types
}
_CATEGORY_OF = {
    insight.slug: category for category in CATEGORIES for insight in category.insight_types
}


def category(slug: str) -> Category:
    for candidate in CATEGORIES:
        if candidate.slug == slug:
            return candidate
    raise NotFound(f"no category {slug!r}", category=slug)


def insight_type(slug: str) -> InsightType:
    try:
        return INSIGHT_TYPES[slug]
    except KeyError:
        raise NotFound(f"no insight type {slug!r}", insight_type=slug) from None


def category_of(insight_slug: str) -> Category:
    return _CATEGORY_OF[insight_type(insight_slug).slug]


def validate_insight(type_slug: str, data: object) -> list[str]:
    """Every way `data` breaks the insight type's output schema; empty when it is acceptable."""
    return schema_problems(insight_type(type_slug).output_schema, data)
