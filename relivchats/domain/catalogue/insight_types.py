"""What an insight type is: our prompt wording, the keywords that retrieve chat excerpts for it,
the statistics it needs, and its JSON output schema. The types themselves live in one module per
category (`romantic`, `friendship`, `family`, `workplace`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from relivchats.domain.catalogue.schemas import JsonSchema, insight_schema

# Statistic keys an insight type may ask for; the generation worker picks these out of a chat's
# stored statistics (product spec §4) and hands them to the prompt.
STATISTICS = frozenset(
    {
        "totals",
        "date_range",
        "messages_by_date",
        "hourly_distribution",
        "weekday_distribution",
        "top_words",
        "top_emoji",
        "links",
        "participants.messages",
        "participants.words",
        "participants.avg_words_per_message",
        "participants.initiations",
        "participants.double_texting_rate",
        "participants.questions",
        "participants.avg_response_time",
        "participants.top_words",
        "participants.top_emoji",
        "participants.busiest_hour",
        "participants.deleted",
        "participants.media",
        "participants.longest_message",
    }
)

# Statistic groups several insight types ask for.
BALANCE = ("participants.messages", "participants.words", "participants.initiations")
RHYTHM = ("totals", "date_range", "hourly_distribution", "weekday_distribution")


@dataclass(frozen=True, eq=False)
class InsightType:
    slug: str
    title: str
    description: str
    icon: str
    keywords: tuple[str, ...]
    prompt: str
    statistics: tuple[str, ...]
    output_schema: JsonSchema


def insight(
    slug: str,
    title: str,
    icon: str,
    description: str,
    keywords: str,
    statistics: Iterable[str],
    prompt: str,
    **specific: JsonSchema,
) -> InsightType:
    """An insight type from the way the category modules write it down: keywords as one
    comma-separated string, the prompt as a wrapped paragraph, the schema as its own fields."""
    return InsightType(
        slug=slug,
        title=title,
        description=description,
        icon=icon,
        keywords=tuple(word.strip() for word in keywords.split(",")),
        prompt=" ".join(prompt.split()),
        statistics=tuple(statistics),
        output_schema=insight_schema(**specific),
    )
