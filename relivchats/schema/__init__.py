"""Ordered SQL migrations, applied once each and recorded in `schema_migrations`.

Files are named `NNN_description.sql` and run in name order, each in its own transaction.
A PostgreSQL advisory lock makes concurrent start-ups safe: one process migrates, the others
wait and then find nothing left to do.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator
from importlib import resources
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

MIGRATION_LOCK_KEY = 0x52454C4956  # "RELIV"


def migration_files() -> list[tuple[str, str]]:
    folder = resources.files(__package__)
    names = sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".sql"))
    return [(name, folder.joinpath(name).read_text(encoding="utf-8")) for name in names]


def migrate(database_url: str) -> list[str]:
    """Apply every pending migration; returns the names applied by this call."""
    applied: list[str] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {row[0] for row in conn.execute("SELECT name FROM schema_migrations")}
            for name, text in migration_files():
                if name in done:
                    continue
                with conn.transaction():
                    conn.execute(text.encode())
                    conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (name,))
                log.info("migration applied", extra={"migration": name})
                applied.append(name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
    return applied


def _maintenance_url(database_url: str) -> tuple[str, str]:
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    return urlunsplit(parts._replace(path="/postgres")), name


def create_database(database_url: str) -> bool:
    """Create the database named in the URL if it is missing; True when it was created."""
    admin_url, name = _maintenance_url(database_url)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return False
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.errors.DuplicateDatabase:
            return False
    return True


def drop_database(database_url: str) -> None:
    admin_url, name = _maintenance_url(database_url)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def database_on(server_url: str, name: str) -> str:
    """The URL of database `name` on the server of `server_url` (its Unix socket kept)."""
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


@contextlib.contextmanager
def temporary_database(server_url: str, prefix: str) -> Iterator[str]:
    """A fresh, migrated database on `server_url` for tests and benchmarks, dropped afterwards.

    `server_url` may name a database, which is replaced, and a Unix socket in `?host=`, which stays.
    """
    url = database_on(server_url, f"{prefix}_{uuid.uuid4().hex[:10]}")
    create_database(url)
    migrate(url)
    try:
        yield url
    finally:
        drop_database(url)
