"""Rate-limit rules as the settings write them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from relivchats.adapters.ratelimit import Window, parse_rule
from relivchats.settings import Settings


def test_rules_read_like_the_product_spec() -> None:
    assert parse_rule("20/hour") == (Window(20, 3600),)
    assert parse_rule("10/hour, 3/minute") == (Window(10, 3600), Window(3, 60))


@pytest.mark.parametrize("rule", ["", "20", "20/fortnight", "0/hour", "-1/minute", "x/day"])
def test_malformed_rules_are_refused(rule: str) -> None:
    with pytest.raises(ValueError, match="20/hour"):
        parse_rule(rule)


@pytest.mark.parametrize("setting", ["rate_limit_upload", "rate_limit_unlock", "rate_limit_order"])
def test_a_malformed_limit_setting_stops_start_up(setting: str) -> None:
    with pytest.raises(ValidationError, match=setting):
        Settings(**{setting: "10/minutes"})


def test_orders_are_limited_to_ten_a_minute_by_default() -> None:
    assert parse_rule(Settings.model_fields["rate_limit_order"].default) == (Window(10, 60),)
