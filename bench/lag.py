"""P5 live lag: from a command's commit to its read row, at 200 commands/s sustained for 60 s.

A real `relivchats projector` process follows the log while client threads run reserve and
capture commands through the real command path at a fixed schedule (open loop: a late command
does not push the next one back). A watcher polls the ledger projection's checkpoint every
millisecond; the projection commits an event's rows and the checkpoint that covers it in one
transaction, so the first poll that finds the checkpoint at or past the event's
(transaction id, notification id) is when its read row became visible. Lag = that moment minus
the moment the command's save returned.

Baseline: the bar itself (quality.md P5: p99 <= 100 ms), and the round trip of the watcher's own
poll, measured in the same run, which bounds how finely the lag can be seen.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg

from bench.common import Row, free_port, throwaway_database
from bench.ledger import open_accounts
from relivchats.adapters.eventstore import EventStore
from relivchats.commands.unit_of_work import execute
from relivchats.settings import Settings
from tests.ledger_commands import capture_reservation, reserve_coins

RATE = 200  # commands per second, all clients together
SECONDS = 60
CLIENTS = 8
ACCOUNTS = 1_000
BAR_MS = 100.0


class Commits:
    """Commands whose read rows are not visible yet: position -> when their save returned."""

    def __init__(self) -> None:
        self.pending: dict[int, float] = {}
        self.lags_ms: list[float] = []
        self.lock = threading.Lock()

    def committed(self, position: int, at: float) -> None:
        with self.lock:
            self.pending[position] = at


def run_commands(store: EventStore, users: list[uuid.UUID], commits: Commits, client: int) -> int:
    """This client's share of the schedule: reserve, then capture, alternately."""
    rng, interval = random.Random(client), CLIENTS / RATE
    start = time.monotonic() + client * interval / CLIENTS
    done, reservation = 0, None
    while (due := start + done * interval) < start + SECONDS:
        time.sleep(max(0.0, due - time.monotonic()))
        if reservation is None:
            user_id, reservation = rng.choice(users), uuid.uuid4()
            expires = datetime.now(UTC) + timedelta(minutes=20)
            position = execute(
                store, reserve_coins, user_id, reservation, 1, uuid.uuid4(), expires
            ).position
        else:
            position = execute(store, capture_reservation, user_id, reservation).position
            reservation = None
        commits.committed(position, time.monotonic())
        done += 1
    return done


def watch(dsn: str, commits: Commits, stop: threading.Event, round_trips: list[float]) -> None:
    """Poll the ledger checkpoint; settle every pending command it covers."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        known: dict[int, tuple[int, int]] = {}
        give_up = float("inf")
        while (not stop.is_set() or commits.pending) and time.monotonic() < give_up:
            if stop.is_set() and give_up == float("inf"):
                give_up = time.monotonic() + 10  # what is not visible by then never will be
            with commits.lock:
                waiting = dict(commits.pending)
            asked = time.monotonic()
            checkpoint = conn.execute(
                "SELECT transaction_id::text::bigint, position FROM projection_positions"
                " WHERE name = 'ledger'"
            ).fetchone()
            round_trips.append((time.monotonic() - asked) * 1000)
            unknown = [p for p in waiting if p not in known]
            if unknown:
                for tid, nid in conn.execute(
                    "SELECT transaction_id::text::bigint, notification_id FROM relivchats_events"
                    " WHERE notification_id = ANY(%s)",
                    (unknown,),
                ):
                    known[nid] = (tid, nid)
            seen_at = time.monotonic()
            with commits.lock:
                for position, committed_at in waiting.items():
                    if checkpoint and position in known and known[position] <= tuple(checkpoint):
                        commits.lags_ms.append((seen_at - committed_at) * 1000)
                        del commits.pending[position]
            time.sleep(0.001)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * fraction), len(ordered) - 1)] if ordered else 0.0


def start_projector(dsn: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": dsn, "LOG_LEVEL": "WARNING"}
    env["CELERY_KEY_PREFIX"] = f"bench-lag-{os.getpid()}-"
    env["PROJECTOR_METRICS_PORT"] = str(free_port())  # another projector may hold the default
    return subprocess.Popen([sys.executable, "-m", "relivchats", "projector"], env=env)


def stop_projector(projector: subprocess.Popen[bytes]) -> float:
    """Terminate the projector; the CPU seconds (user + system) it used in its life."""
    projector.terminate()
    _, status, usage = os.wait4(projector.pid, 0)
    projector.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


def wait_until_caught_up(dsn: str, within: float = 120.0) -> None:
    deadline = time.monotonic() + within
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() < deadline:
            behind = conn.execute(
                "SELECT (SELECT count(*) FROM relivchats_events e"
                "  WHERE (e.transaction_id, e.notification_id) > (p.transaction_id, p.position))"
                " FROM projection_positions p WHERE name = 'ledger'"
            ).fetchone()
            if behind is not None and behind[0] == 0:
                return
            time.sleep(0.1)
    raise RuntimeError("the projector did not catch up")


def measure(dsn: str) -> tuple[Commits, int, list[float], float]:
    store = EventStore(Settings(database_url=dsn, eventstore_pool_size=CLIENTS))
    users = open_accounts(store, ACCOUNTS)
    projector = start_projector(dsn)
    commits, stop = Commits(), threading.Event()
    round_trips: list[float] = []
    try:
        wait_until_caught_up(dsn)  # the opened accounts first: lag is measured from then on
        watcher = threading.Thread(
            target=watch, args=(dsn, commits, stop, round_trips), daemon=True
        )
        watcher.start()
        counts: list[int] = []
        clients = [
            threading.Thread(
                target=lambda n=n: counts.append(run_commands(store, users, commits, n))
            )
            for n in range(CLIENTS)
        ]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join()
        stop.set()
        watcher.join(timeout=30)
    finally:
        projector_cpu_s = stop_projector(projector)
        store.close()
    return commits, sum(counts), round_trips, projector_cpu_s


def main() -> list[Row]:
    with throwaway_database() as dsn:
        commits, count, round_trips, projector_cpu_s = measure(dsn)
    p50, p99 = percentile(commits.lags_ms, 0.5), percentile(commits.lags_ms, 0.99)
    return [
        {
            "what": "projection live lag, commit -> read row (P5)",
            "conditions": f"{count:,} reserve/capture commands in {SECONDS} s ({RATE}/s"
            f" scheduled, {CLIENTS} client threads, {ACCOUNTS:,} accounts), a `relivchats"
            " projector` process (all projections), the ledger checkpoint polled every 1 ms;"
            f" the projector used {projector_cpu_s:.1f} CPU s",
            "figure": f"p50 {p50:.1f} ms, p99 {p99:.1f} ms,"
            f" max {max(commits.lags_ms, default=0):.0f} ms"
            f" ({len(commits.lags_ms):,} seen, {len(commits.pending)} never)",
            "baseline": f"bar p99 <= {BAR_MS:.0f} ms; the watcher's poll round trip p50"
            f" {percentile(round_trips, 0.5):.1f} ms",
            "ratio": f"p99 {p99 / BAR_MS:.2f} x bar",
        }
    ]


if __name__ == "__main__":
    for row in main():
        print(row)
