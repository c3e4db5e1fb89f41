"""Where a PostgreSQL or Redis URL connects, as the local-services probe reads it."""

from __future__ import annotations

import pytest

from relivchats.adapters.local_services import server_address


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("postgresql://postgres@127.0.0.1:5433", ("127.0.0.1", 5433)),
        ("postgresql://postgres@db.internal/relivchats", ("db.internal", 5432)),
        ("postgresql://postgres:@/postgres?host=/srv/pg", "/srv/pg/.s.PGSQL.5432"),
        ("postgresql://postgres@:5433/x?host=/srv/pg", "/srv/pg/.s.PGSQL.5433"),
        ("redis://127.0.0.1:6380/15", ("127.0.0.1", 6380)),
        ("redis://cache/0", ("cache", 6379)),
        ("unix:///srv/data/redis.sock?db=15", "/srv/data/redis.sock"),
    ],
)
def test_a_url_names_the_tcp_address_or_unix_socket_it_connects_to(url, address):
    assert server_address(url) == address
