"""Kill switches in the API: one board per process, one dependency for every guarded route.

The board re-reads the `feature_switches` table at most once per `FEATURE_SWITCH_TTL_S` (2 s;
production refuses more than 5), on the first request after that, so a `relivchats flags set`
reaches every API process within that time without LISTEN connections or restarts. A failed
re-read keeps the last known settings (a storage hiccup does not switch features back on or
off); before the first read succeeds, the failure is the request's (503).

A switched-off feature answers 503 `feature_disabled` before its command runs: nothing is
reserved, stored or sent. Guard a route with `dependencies=[require_feature("uploads")]`, or,
when the switch depends on the body (a provider, a category), call
`await switches.require(name, user_id)` from the handler before its command.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends

from relivchats.adapters.switches import load_percentages
from relivchats.api.dependencies import CurrentUser, app_state
from relivchats.api.errors import ApiError
from relivchats.domain import switches

log = logging.getLogger(__name__)

# A switched-off feature comes back when an operator says so; clients should not hammer it.
DISABLED_RETRY_AFTER_S = 60


class SwitchBoard:
    def __init__(self, db: Any, ttl_s: float):
        self._db = db
        self._ttl_s = ttl_s
        self._percentages: dict[str, int] | None = None
        self._read_at = float("-inf")
        self._reading = asyncio.Lock()

    async def percent(self, name: str) -> int:
        if time.monotonic() - self._read_at >= self._ttl_s:
            await self._refresh()
        assert self._percentages is not None
        return self._percentages.get(name, switches.ON)

    async def _refresh(self) -> None:
        async with self._reading:
            if time.monotonic() - self._read_at < self._ttl_s:
                return  # another request refreshed while this one waited
            try:
                self._percentages = await load_percentages(self._db)
            except Exception:
                if self._percentages is None:
                    raise
                log.warning("feature switches not re-read; keeping the last settings")
            self._read_at = time.monotonic()

    async def require(
        self, name: str, user_id: UUID | None, *, missing_is_on: bool = False
    ) -> None:
        """503 `feature_disabled` unless the switch lets this user through. `missing_is_on`:
        a name built from the request (an unknown category) is left for the command to refuse."""
        if missing_is_on and name not in switches.SWITCHES:
            return
        percent = await self.percent(switches.known_switch(name))
        if switches.lets_through(name, percent, user_id):
            return
        partly = percent > switches.OFF
        raise ApiError(
            503,
            f"{name} is not available to this account yet"
            if partly
            else f"{name} is switched off for now; try again later",
            code="feature_disabled",
            details={"feature": name, "rollout_percent": percent},
            headers={"Retry-After": str(DISABLED_RETRY_AFTER_S)},
        )


Switches = Annotated[SwitchBoard, app_state("switch_board")]


def require_feature(name: str) -> Any:
    """A route dependency: 503 `feature_disabled` unless the switch lets this user through."""
    switches.known_switch(name)  # a typo fails at import, not on the first request

    async def feature_switched_on(board: Switches, user: CurrentUser) -> None:
        await board.require(name, user.user_id)

    return Depends(feature_switched_on)
