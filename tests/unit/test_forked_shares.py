"""Shares of a replay run in forked processes: their results add up, their errors reach the
parent (projections/forked.py)."""

from __future__ import annotations

import asyncio

import pytest

from relivchats.projections.eventlog import Share
from relivchats.projections.forked import ShareFailed, forked_shares
from relivchats.projections.ledger import LedgerOutOfStep


def part_squared(share: Share) -> int:
    return share.part**2


def fails_in_share_2(share: Share) -> int:
    if share.part == 2:
        raise LedgerOutOfStep(f"share {share.part} of {share.parts}")
    return 1


def dies(share: Share) -> int:
    raise SystemExit(3)


async def children_total(parts: int, work) -> int:
    with forked_shares(parts, work) as shares:
        return await shares.total()


def test_the_children_run_every_share_but_the_first_and_their_results_add_up():
    assert asyncio.run(children_total(4, part_squared)) == 1 + 4 + 9


def test_one_part_forks_nothing_and_leaves_the_whole_log_to_the_caller():
    with forked_shares(1, part_squared) as shares:
        assert shares.own is None
        assert asyncio.run(shares.total()) == 0


def test_the_caller_keeps_share_zero():
    with forked_shares(2, part_squared) as shares:
        assert shares.own == Share(0, 2)
        asyncio.run(shares.total())


def test_a_childs_error_is_raised_in_the_parent_as_it_was():
    with pytest.raises(LedgerOutOfStep, match="share 2 of 3"):
        asyncio.run(children_total(3, fails_in_share_2))


def test_a_child_that_ends_without_a_result_fails_the_replay():
    with pytest.raises(ShareFailed):
        asyncio.run(children_total(2, dies))
