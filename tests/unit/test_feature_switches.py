"""Kill switches: settings parse strictly, a percentage lets a stable, growing share of users in,
production refuses switches slower than 5 s and metrics ports that clash, and an API process
keeps its last settings when a re-read fails."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from relivchats.api.errors import ApiError
from relivchats.api.switches import SwitchBoard
from relivchats.domain import switches
from relivchats.production import production_problems
from tests.unit.test_production_rules import production

USERS = [uuid.uuid4() for _ in range(4000)]


@pytest.mark.parametrize(("text", "percent"), [("on", 100), ("OFF", 0), ("25", 25), ("40%", 40)])
def test_a_setting_is_on_off_or_a_percentage(text: str, percent: int) -> None:
    assert switches.parse_setting(text) == percent


@pytest.mark.parametrize("text", ["101", "-1", "half", "", "2.5"])
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(switches.InvalidSwitchSetting):
        switches.parse_setting(text)


def test_an_unknown_switch_name_is_refused_not_silently_ignored() -> None:
    with pytest.raises(switches.UnknownSwitch):
        switches.known_switch("unlock")


def test_every_required_feature_has_a_switch() -> None:
    expected = {"unlocks", "rag_questions", "uploads", "orders.razorpay", "orders.stripe"}
    categories = {"insights.romantic", "insights.friendship", "insights.family"}
    assert expected | categories | {"insights.workplace"} <= set(switches.SWITCHES)


def share(name: str, percent: int) -> set[uuid.UUID]:
    return {user for user in USERS if switches.lets_through(name, percent, user)}


def test_a_percentage_lets_about_that_share_of_users_through() -> None:
    assert abs(len(share("uploads", 30)) / len(USERS) - 0.30) < 0.04
    assert share("uploads", 0) == set()
    assert share("uploads", 100) == set(USERS)


def test_a_larger_share_keeps_every_user_the_smaller_one_let_in() -> None:
    assert share("uploads", 10) <= share("uploads", 30) <= share("uploads", 70)


def test_the_same_user_gets_the_same_answer_and_switches_pick_different_users() -> None:
    assert share("uploads", 30) == share("uploads", 30)
    assert share("uploads", 30) != share("unlocks", 30)


def test_production_refuses_a_switch_that_takes_longer_than_5_s_to_bite() -> None:
    assert production_problems(production(feature_switch_ttl_s=5)) == []
    problems = production_problems(production(feature_switch_ttl_s=30))
    assert [p for p in problems if "FEATURE_SWITCH_TTL_S" in p]


def test_production_refuses_metrics_ports_that_clash_or_are_off() -> None:
    clash = production_problems(production(worker_metrics_port=8000))
    off = production_problems(production(beat_metrics_port=0))
    assert any("API_PORT" in p for p in clash)
    assert any("BEAT_METRICS_PORT" in p for p in off)


class FlakyTable:
    """Stands in for the read pool: answers the rows it holds, or fails when told to."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.failing = False
        self.reads = 0

    async def fetch(self, _: str) -> list[dict[str, Any]]:
        self.reads += 1
        if self.failing:
            raise ConnectionError("database restarting")
        return self.rows


async def test_a_switched_off_feature_answers_feature_disabled_with_retry_after() -> None:
    table = FlakyTable()
    table.rows = [{"name": "uploads", "percent": 0}]
    board = SwitchBoard(table, ttl_s=0)

    with pytest.raises(ApiError) as refused:
        await board.require("uploads", uuid.uuid4())

    assert (refused.value.status, refused.value.code) == (503, "feature_disabled")
    assert refused.value.details == {"feature": "uploads", "rollout_percent": 0}
    assert "Retry-After" in refused.value.headers
    await board.require("unlocks", uuid.uuid4())  # no row: on


async def test_the_board_reads_once_per_ttl_and_keeps_its_settings_when_a_read_fails() -> None:
    table = FlakyTable()
    table.rows = [{"name": "uploads", "percent": 0}]
    cached = SwitchBoard(table, ttl_s=60)
    await cached.percent("uploads")
    await cached.percent("uploads")
    assert table.reads == 1

    board = SwitchBoard(table, ttl_s=0)
    assert await board.percent("uploads") == 0
    table.failing = True
    assert await board.percent("uploads") == 0


async def test_before_any_read_succeeds_a_failure_is_the_requests() -> None:
    table = FlakyTable()
    table.failing = True
    with pytest.raises(ConnectionError):
        await SwitchBoard(table, ttl_s=0).percent("uploads")
