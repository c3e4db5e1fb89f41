"""The tests find PostgreSQL and Redis only through `tests/services.py`, so that `make test`
can hand them embedded servers: an address written into a test would reach past them (to a
system server that happens to run, or to nothing on a machine without one)."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
LOCAL_SERVER = re.compile(r"(127\.0\.0\.1|localhost):(5432|6379)\b")


def test_no_test_names_a_local_postgres_or_redis_address_of_its_own():
    offenders = [
        f"{path.relative_to(TESTS)}:{number}"
        for path in sorted(TESTS.rglob("*.py"))
        if path.name != "services.py"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if LOCAL_SERVER.search(line)
    ]
    assert offenders == [], "use tests.services.POSTGRES_URL / REDIS_URL instead"
