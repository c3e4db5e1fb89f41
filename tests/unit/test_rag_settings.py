"""Question settings: the rate limit parses in every environment; production refuses a search
timeout that outlasts the request and an indexing request repeated while its task may live."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from relivchats.production import production_problems
from relivchats.settings import Settings
from tests.unit.test_production_rules import production


def test_questions_are_limited_to_30_an_hour_and_5_a_minute_by_default() -> None:
    assert Settings().rate_limit_rag == "30/hour,5/minute"


def test_a_question_rate_limit_that_does_not_parse_stops_start_up() -> None:
    with pytest.raises(ValidationError, match="rate limit"):
        Settings(rate_limit_rag="5 per minute")


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"rag_search_timeout_s": 0}, "RAG_SEARCH_TIMEOUT_S"),
        ({"rag_search_timeout_s": 25, "request_deadline_s": 20}, "RAG_SEARCH_TIMEOUT_S"),
        ({"rag_indexing_stale_s": 30}, "RAG_INDEXING_STALE_S"),
        ({"rag_answer_deadline_s": 30, "gemini_timeout_s": 30}, "RAG_ANSWER_DEADLINE_S"),
    ],
)
def test_production_refuses_question_settings_that_cannot_work(overrides, variable) -> None:
    problems = production_problems(production(**overrides))
    assert any(variable in problem for problem in problems), problems


def test_the_question_defaults_pass_production() -> None:
    assert production_problems(production()) == []
