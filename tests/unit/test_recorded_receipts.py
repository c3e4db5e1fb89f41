"""The API's memory of recorded webhook receipts: presence only, bounded, newest kept."""

from __future__ import annotations

import uuid

from relivchats.adapters.webhook_receipts import RecordedReceipts


def test_a_remembered_receipt_answers_its_position() -> None:
    receipts = RecordedReceipts()
    receipt_id = uuid.uuid4()
    assert receipts.position(receipt_id) is None
    receipts.remember(receipt_id, 42)
    assert receipts.position(receipt_id) == 42


def test_the_least_recently_used_receipt_is_forgotten_first() -> None:
    receipts = RecordedReceipts(capacity=2)
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    receipts.remember(first, 1)
    receipts.remember(second, 2)
    receipts.position(first)  # used again: now the newest
    receipts.remember(third, 3)
    assert (receipts.position(first), receipts.position(second), receipts.position(third)) == (
        1,
        None,
        3,
    )
