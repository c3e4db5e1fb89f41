"""The offline insight writer: deterministic, schema-valid for every insight type, labelled offline.
(Its answers to questions: test_offline_answer.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from relivchats.adapters.llm import (
    Excerpt,
    InsightMaterial,
    OfflineLlm,
    ParticipantFigures,
    build_insight_prompt,
)
from relivchats.domain.catalogue import INSIGHT_TYPES, insight_type, validate_insight

START = datetime(2024, 2, 14, 20, 0, tzinfo=UTC)
PAIR = (
    ParticipantFigures(
        "Asha",
        messages=620,
        words=4100,
        initiations=40,
        questions=75,
        avg_response_s=240.0,
        double_texting_rate=0.3,
    ),
    ParticipantFigures(
        "Rahul",
        messages=410,
        words=2300,
        initiations=22,
        questions=31,
        avg_response_s=900.0,
        double_texting_rate=0.1,
    ),
)
GROUP = (*PAIR, ParticipantFigures("Meera", messages=15), ParticipantFigures("Dev", messages=0))
CROWD = tuple(ParticipantFigures(f"Cousin {n}", messages=n * 7) for n in range(20))
LINES = (
    ("Asha", "Can we plan the Goa trip this weekend? I miss you"),
    ("Rahul", "Sorry, work is crazy. Goa trip next month, promise"),
    ("Asha", "You always say next month 😔"),
    ("Rahul", "I know. Let's book the Goa tickets tonight, okay?"),
)


def excerpts() -> tuple[Excerpt, ...]:
    return tuple(
        Excerpt(speaker, text, START + timedelta(minutes=n))
        for n, (speaker, text) in enumerate(LINES)
    )


def material(
    slug: str, people: tuple[ParticipantFigures, ...] = PAIR, with_excerpts: bool = True
) -> InsightMaterial:
    return InsightMaterial(
        insight_type=slug,
        participants=people,
        statistics={"totals": {"messages": sum(p.messages for p in people)}},
        excerpts=excerpts() if with_excerpts else (),
        user_name="Asha",
    )


def generate(slug: str, given: InsightMaterial) -> dict[str, object]:
    prompt = build_insight_prompt(insight_type(slug), given)
    schema = insight_type(slug).output_schema
    return OfflineLlm().generate_json(prompt, schema, material=given).data


@pytest.mark.parametrize("slug", list(INSIGHT_TYPES))
@pytest.mark.parametrize("people", [PAIR, GROUP, CROWD], ids=["pair", "group", "crowd"])
@pytest.mark.parametrize("with_excerpts", [True, False], ids=["excerpts", "no-excerpts"])
def test_offline_insight_is_valid_for_every_type(slug, people, with_excerpts):
    data = generate(slug, material(slug, people, with_excerpts))
    assert validate_insight(slug, data) == []


@pytest.mark.parametrize("slug", list(INSIGHT_TYPES))
def test_offline_insight_is_deterministic(slug):
    assert generate(slug, material(slug)) == generate(slug, material(slug))


def test_offline_result_says_it_is_offline_and_counts_tokens():
    given = material("communication_basics")
    result = OfflineLlm().generate_json(
        "prompt text", insight_type("communication_basics").output_schema, material=given
    )
    assert result.offline is True
    assert result.thinking_tokens == 0
    assert result.prompt_tokens > 0 and result.output_tokens > 0
    assert "offline" in result.data["overall"]["summary"]


def test_offline_evidence_quotes_only_real_excerpts():
    data = generate("conflict_resolution", material("conflict_resolution"))
    quoted = {(item["speaker"], item["message"]) for item in data["evidence"]}
    assert quoted <= set(LINES)
    assert quoted


def test_offline_people_and_targets_are_participants():
    data = generate("communication_basics", material("communication_basics"))
    assert [entry["name"] for entry in data["communication_styles"]] == ["Asha", "Rahul"]
    targets = {name for rec in data["recommendations"] for name in rec["target"]}
    assert targets <= {"Asha", "Rahul"}


def test_a_more_even_chat_scores_higher():
    even = (
        ParticipantFigures("A", 500, initiations=30, questions=60, avg_response_s=120.0),
        ParticipantFigures("B", 480, initiations=28, questions=55, avg_response_s=150.0),
    )
    lopsided = (
        ParticipantFigures("A", 900, initiations=60, questions=5, avg_response_s=7200.0),
        ParticipantFigures("B", 60, initiations=1, questions=0, avg_response_s=9000.0),
    )
    score_even = generate("friendship_vitality", material("friendship_vitality", even))
    score_lopsided = generate("friendship_vitality", material("friendship_vitality", lopsided))
    assert score_even["overall"]["score"] > score_lopsided["overall"]["score"]
