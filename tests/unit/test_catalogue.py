"""The catalogue matches product spec §2, and its validator catches what a model can get wrong."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from relivchats.domain.catalogue import (
    CATEGORIES,
    INSIGHT_TYPES,
    STATISTICS,
    ChatSize,
    JsonSchema,
    category,
    category_of,
    insight_type,
    schema_problems,
    validate_insight,
)
from relivchats.domain.errors import NotFound

SPEC = {
    "romantic": (
        "Romantic Relationship",
        ChatSize.EXACTLY_TWO,
        [
            "communication_basics",
            "emotional_intimacy",
            "love_language",
            "conflict_resolution",
            "future_planning",
            "playfulness_romance",
        ],
    ),
    "friendship": (
        "Friendship",
        ChatSize.EXACTLY_TWO,
        ["friendship_trust_loyalty", "friendship_support_dynamics", "friendship_vitality"],
    ),
    "family": (
        "Family",
        ChatSize.TWO_OR_MORE,
        ["family_dynamics", "family_emotional_climate", "family_conflict_patterns"],
    ),
    "workplace": (
        "Workplace",
        ChatSize.TWO_OR_MORE,
        ["workplace_communication", "workplace_collaboration", "workplace_relationship_health"],
    ),
}
SUPPORTED_KEYWORDS = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "minItems",
    "maxItems",
    "enum",
    "minimum",
    "maximum",
    "minLength",
}


def minimal_instance(schema: JsonSchema) -> Any:
    """The smallest value a schema accepts: what a terse but obedient model would send."""
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema["type"]
    if kind == "object":
        return {name: minimal_instance(sub) for name, sub in schema["properties"].items()}
    if kind == "array":
        return [minimal_instance(schema["items"]) for _ in range(schema.get("minItems", 0))]
    if kind == "number":
        return schema.get("minimum", 0)
    return "x"


def test_categories_match_the_spec_in_order():
    assert [c.slug for c in CATEGORIES] == list(SPEC)
    for slug, (display_name, size, insight_slugs) in SPEC.items():
        found = category(slug)
        assert found.display_name == display_name
        assert found.chat_size is size
        assert found.cost_coins == 400
        assert [insight.slug for insight in found.insight_types] == insight_slugs
    assert list(INSIGHT_TYPES) == [slug for *_, slugs in SPEC.values() for slug in slugs]


@pytest.mark.parametrize(
    ("size", "participants", "admitted"),
    [
        (ChatSize.EXACTLY_TWO, 2, True),
        (ChatSize.EXACTLY_TWO, 3, False),
        (ChatSize.EXACTLY_TWO, 1, False),
        (ChatSize.TWO_OR_MORE, 2, True),
        (ChatSize.TWO_OR_MORE, 12, True),
        (ChatSize.TWO_OR_MORE, 1, False),
    ],
)
def test_chat_size_rules(size, participants, admitted):
    assert size.admits(participants) is admitted


def test_a_group_chat_fits_family_but_not_romantic():
    assert category("family").fits(5)
    assert not category("romantic").fits(5)


@pytest.mark.parametrize("slug", list(INSIGHT_TYPES))
def test_every_insight_type_is_complete(slug):
    insight = insight_type(slug)
    assert insight.title and insight.description and insight.icon
    assert len(insight.keywords) >= 8 and all(insight.keywords)
    assert len(insight.prompt) > 300
    assert insight.statistics and set(insight.statistics) <= STATISTICS
    properties = list(insight.output_schema["properties"])
    assert properties[:1] == ["overall"]
    assert properties[-2:] == ["evidence", "recommendations"]
    assert len(properties) > 3, "needs fields of its own"
    assert category_of(slug).slug in SPEC


@pytest.mark.parametrize("slug", list(INSIGHT_TYPES))
def test_schemas_use_only_keywords_the_validator_and_gemini_understand(slug):
    def keywords(schema: JsonSchema) -> set[str]:
        found = set(schema)
        for sub in schema.get("properties", {}).values():
            found |= keywords(sub)
        if "items" in schema:
            found |= keywords(schema["items"])
        return found

    assert keywords(insight_type(slug).output_schema) <= SUPPORTED_KEYWORDS


@pytest.mark.parametrize("slug", list(INSIGHT_TYPES))
def test_a_minimal_obedient_answer_is_valid(slug):
    assert validate_insight(slug, minimal_instance(insight_type(slug).output_schema)) == []


def answer(slug: str = "love_language") -> dict[str, Any]:
    return copy.deepcopy(minimal_instance(insight_type(slug).output_schema))


def test_missing_and_unexpected_fields_are_reported():
    data = answer()
    del data["compatibility"]
    data["mood"] = "sunny"
    problems = validate_insight("love_language", data)
    assert "$: missing 'compatibility'" in problems
    assert "$: unexpected 'mood'" in problems


def test_score_outside_zero_to_ten_is_reported():
    data = answer()
    data["overall"]["score"] = 10.5
    assert validate_insight("love_language", data) == [
        "$.overall.score: 10.5 is above the maximum 10"
    ]


def test_a_boolean_is_not_a_score():
    data = answer()
    data["overall"]["score"] = True
    assert validate_insight("love_language", data) == ["$.overall.score: expected number, got bool"]


def test_an_unknown_status_or_love_language_is_reported():
    data = answer()
    data["overall"]["status"] = "amazing"
    data["love_languages"][0]["primary"] = "memes"
    problems = validate_insight("love_language", data)
    assert len(problems) == 2
    assert any(p.startswith("$.love_languages[0].primary") for p in problems)


def test_recommendations_are_required_and_bounded():
    data = answer()
    data["recommendations"] = []
    assert validate_insight("love_language", data) == [
        "$.recommendations: needs at least 1 items, has 0"
    ]
    data["recommendations"] = [answer()["recommendations"][0]] * 5
    assert validate_insight("love_language", data) == [
        "$.recommendations: allows at most 4 items, has 5"
    ]


def test_empty_strings_and_wrong_shapes_are_reported():
    data = answer()
    data["overall"]["summary"] = ""
    data["evidence"] = {"speaker": "A"}
    problems = validate_insight("love_language", data)
    assert "$.overall.summary: shorter than 1 characters" in problems
    assert "$.evidence: expected array, got dict" in problems


def test_non_object_answers_are_reported():
    assert schema_problems(insight_type("love_language").output_schema, ["not", "an", "object"])


def test_unknown_slugs_are_not_found():
    with pytest.raises(NotFound):
        insight_type("astrology")
    with pytest.raises(NotFound):
        category("enemies")
