"""Acknowledging verified webhooks: redeliveries from memory, everything else in batches.

A redelivery this process remembers is answered on the event loop. Every other delivery joins
the next batch: the deliveries that arrive while a batch is being decided are decided together
in the following one (`handle_webhooks`: two reads and one append for the whole batch, group
commit), with at most `BATCHES_AT_ONCE` batches on the store's threads. Alone, a delivery is a
batch of one and waits for nothing; in a burst the round trips, thread hops and commits per
delivery fall with the size of the batch (bench/webhooks.py).

A batch changes no outcome. One that fails for anything but the storage (a domain error of one
delivery, more collisions than the retries allow) is decided again one delivery at a time
(`handle_webhook`), so each gets its own answer or error. A delivery found to be a duplicate is
answered with the position of the save that recorded its receipt, as any later redelivery is.
"""

from __future__ import annotations

import asyncio
import dataclasses
from asyncio import Future
from collections.abc import Mapping

from relivchats.adapters.database import ReadPool
from relivchats.adapters.eventstore import AsyncEventStore
from relivchats.adapters.payments import PaymentProvider
from relivchats.adapters.storage import StorageUnavailable
from relivchats.adapters.webhook_receipts import RecordedReceipts
from relivchats.commands.payments import (
    WebhookDelivery,
    WebhookHandled,
    handle_webhook,
    handle_webhooks,
)
from relivchats.commands.unit_of_work import dispatch

# Two batches overlap one's reads and writes with the other's decoding; more would collide
# more often on a burst of one order's events, and take threads other commands need.
BATCHES_AT_ONCE = 2
MAX_BATCH = 64  # deliveries per append: about 200 events, one INSERT

Waiting = tuple[WebhookDelivery, "Future[WebhookHandled]"]


class WebhookBatches:
    """The deliveries waiting for a batch, and the batches being decided (one per task)."""

    def __init__(
        self, store: AsyncEventStore, at_once: int = BATCHES_AT_ONCE, max_batch: int = MAX_BATCH
    ) -> None:
        self._store = store
        self._at_once = at_once
        self._max_batch = max_batch
        self._waiting: list[Waiting] = []
        self._draining = 0  # batches being decided; counted down with no await in between
        self._tasks: set[asyncio.Task[None]] = set()  # held, so none is collected mid-batch

    async def handle(self, delivery: WebhookDelivery) -> WebhookHandled:
        future: Future[WebhookHandled] = asyncio.get_running_loop().create_future()
        self._waiting.append((delivery, future))
        if self._draining < self._at_once:
            self._draining += 1
            task = asyncio.create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _drain(self) -> None:
        """Decide batches until none waits. The count drops as the loop ends, before anything
        else runs: a delivery queued after that starts a batch of its own, never waits for one
        that has already stopped looking."""
        try:
            while self._waiting:
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                await self._decide(batch)
        finally:
            self._draining -= 1

    async def _decide(self, batch: list[Waiting]) -> None:
        deliveries = [delivery for delivery, _ in batch]
        try:
            answers = await dispatch(self._store, handle_webhooks, deliveries)
        except StorageUnavailable as error:  # deciding alone would meet the same outage
            for _, future in batch:
                _fail(future, error)
        except Exception as error:
            if len(batch) == 1:
                _fail(batch[0][1], error)
            else:
                await asyncio.gather(*(self._alone(delivery, future) for delivery, future in batch))
        else:
            for (_, future), answer in zip(batch, answers, strict=True):
                _settle(future, answer)

    async def _alone(self, delivery: WebhookDelivery, future: Future[WebhookHandled]) -> None:
        try:
            answer = await dispatch(self._store, handle_webhook, delivery.provider, delivery.signal)
        except Exception as error:
            _fail(future, error)
        else:
            _settle(future, answer)


def _settle(future: Future[WebhookHandled], answer: WebhookHandled) -> None:
    if not future.done():  # a cancelled request (the client left): the work stands anyway
        future.set_result(answer)


def _fail(future: Future[WebhookHandled], error: Exception) -> None:
    if not future.done():
        future.set_exception(error)


class WebhookDesk:
    """Where a webhook is verified and answered: the one thing the webhook routes depend on."""

    def __init__(
        self,
        providers: Mapping[str, PaymentProvider],
        receipts: RecordedReceipts,
        batches: WebhookBatches,
        db: ReadPool,
    ) -> None:
        self.providers = providers
        self.receipts = receipts
        self.batches = batches
        self.db = db

    async def acknowledge(
        self, provider: str, body: bytes, headers: Mapping[str, str]
    ) -> WebhookHandled:
        # Verifying is an HMAC over a small body: cheap enough for the loop.
        delivery = WebhookDelivery(provider, self.providers[provider].parse_webhook(body, headers))
        remembered = self.receipts.position(delivery.receipt_id)
        if remembered is not None:
            return WebhookHandled("duplicate", None, None, remembered)
        handled = await self.batches.handle(delivery)
        if handled.outcome == "duplicate":
            recorded_at = await self.receipts.recorded_at(self.db, delivery.receipt_id)
            return dataclasses.replace(handled, position=recorded_at or handled.position)
        self.receipts.remember(delivery.receipt_id, handled.position)
        return handled
