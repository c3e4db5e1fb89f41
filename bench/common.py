"""What every benchmark needs: a throwaway database, free ports, servers, wrk, a markdown table.

A benchmark module is `bench/<name>.py` with a `main()` returning rows: dicts with at least
`what`, `conditions`, `figure`, `baseline` and `ratio` (strings). `python -m bench` runs them all.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from relivchats.schema import temporary_database

POSTGRES_ROOT = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
Row = dict[str, str]


def throwaway_database() -> contextlib.AbstractContextManager[str]:
    """A migrated database of its own, dropped afterwards."""
    return temporary_database(POSTGRES_ROOT, f"relivchats_bench_{os.getpid()}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_http(url: str, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {within} s")
        time.sleep(0.1)


@contextlib.contextmanager
def serving(app: str, env: dict[str, str], *, factory: bool = False) -> Iterator[str]:
    """One uvicorn worker (uvloop, httptools) on a free port; yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--log-level", "warning"]
    command += ["--loop", "uvloop", "--http", "httptools"] + (["--factory"] if factory else [])
    server = subprocess.Popen(command, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_http(f"{base}/health")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    requests_per_second: float
    mean_ms: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int


def wrk(
    url: str,
    *,
    connections: int = 32,
    seconds: int = 10,
    threads: int = 2,
    headers: Sequence[str] = (),
    script: Path | None = None,
) -> WrkResult:
    """Load `url` with wrk and parse its report (latency distribution included)."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    if script is not None:
        command += ["-s", str(script)]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 60
    ).stdout
    return _parse_wrk(output, seconds)


def _parse_wrk(output: str, seconds: int) -> WrkResult:
    def ms(pattern: str) -> float:
        match = re.search(pattern + r"\s+([\d.]+)(us|ms|s)\b", output)
        if match is None:
            raise ValueError(f"wrk output without {pattern!r}:\n{output}")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests=requests,
        seconds=seconds,
        requests_per_second=rate,
        mean_ms=ms(r"Latency"),
        p50_ms=ms(r"50%"),
        p99_ms=ms(r"99%"),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
    )


def ensure_wrk() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `make bench` installs it (apt-get install -y wrk)")


def markdown_table(rows: Sequence[Row]) -> str:
    """One table whose columns are every key the rows use, in first-seen order."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = (str(row.get(column, "")).replace("|", "\\|") for column in columns)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
