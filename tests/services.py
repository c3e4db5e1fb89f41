"""Where the tests find PostgreSQL and Redis; `python -m tests.services COMMAND...` provides them.

The tests read `TEST_POSTGRES_URL` (a server: each session creates its own database on it) and
`TEST_REDIS_URL` (a database the tests may fill), defaulting to the local default ports.
`make test` runs pytest through this module, so it works on any machine. For each server, the
first that works: one answering at the URL; the system server, started the way Debian and
Ubuntu install it (`pg_ctlcluster`, `redis-server` on the PATH); an embedded one, as
`make run` uses (`relivchats.adapters.local_services`), under `.data/test-services/`. COMMAND
runs with the chosen URLs in its environment; embedded servers are stopped when it ends.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from relivchats.adapters.local_services import LocalServices, server_address, url_answers

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

LOCAL_HOSTS = ("127.0.0.1", "localhost")


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.services", description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path(".data/test-services"))
    parser.add_argument("command", nargs=argparse.REMAINDER, help="what to run, e.g. pytest")
    arguments = parser.parse_args(argv)
    if not arguments.command:
        parser.error("name the command to run")
    services = LocalServices(arguments.data_dir)
    try:
        postgres = provide(
            "PostgreSQL",
            POSTGRES_URL,
            start_system_postgres,
            embedded=lambda: services.embedded_postgres("postgres"),
        )
        redis = provide(
            "Redis",
            REDIS_URL,
            start_system_redis,
            embedded=lambda: services.embedded_redis(redis_database(REDIS_URL)),
        )
        urls = {"TEST_POSTGRES_URL": postgres, "TEST_REDIS_URL": redis}
        return run(arguments.command, {**os.environ, **urls})
    finally:
        services.close()


def provide(
    name: str, url: str, start_system: Callable[[str], bool], embedded: Callable[[], str]
) -> str:
    if url_answers(url):
        report(f"{name}: using the server at {url}")
        return url
    if start_system(url) and eventually_answers(url):
        report(f"{name}: started the system server at {url}")
        return url
    chosen = embedded()
    report(f"{name}: nothing answers at {url} and no system server starts: embedded, {chosen}")
    return chosen


def start_system_postgres(url: str) -> bool:
    """`pg_ctlcluster` starts the newest cluster (on the port its configuration names)."""
    clusters = sorted(Path("/etc/postgresql").glob("*/main"), key=lambda path: path.parent.name)
    if not is_local(url) or shutil.which("pg_ctlcluster") is None or not clusters:
        return False
    version = clusters[-1].parent.name
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"]
    return subprocess.run(command, check=False).returncode == 0


def start_system_redis(url: str) -> bool:
    if not is_local(url) or shutil.which("redis-server") is None:
        return False
    host, port = server_address(url)
    command = ["redis-server", "--daemonize", "yes", "--bind", str(host), "--port", str(port)]
    no_files = ["--save", "", "--appendonly", "no"]
    return subprocess.run([*command, *no_files], check=False).returncode == 0


def is_local(url: str) -> bool:
    address = server_address(url)
    return isinstance(address, tuple) and address[0] in LOCAL_HOSTS


def eventually_answers(url: str, within: float = 10) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if url_answers(url):
            return True
        time.sleep(0.5)
    return False


def redis_database(url: str) -> int:
    """The database a `redis://host:port/N` URL selects, so the embedded server keeps it."""
    path = urlsplit(url).path.strip("/")
    return int(path) if path.isdigit() else 0


def run(command: Sequence[str], env: dict[str, str]) -> int:
    """COMMAND in the foreground: a Ctrl-C reaches it from the terminal, and this process waits
    for it to finish its teardown before stopping the servers; a SIGTERM is passed on."""
    child = subprocess.Popen(command, env=env)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda signum, _: child.send_signal(signum))
    return child.wait()


def report(line: str) -> None:
    print(f"[tests.services] {line}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
