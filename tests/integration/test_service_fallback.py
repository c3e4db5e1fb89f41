"""`make test` on any machine: `tests.services` takes the servers that answer where the tests
look, else embedded ones that serve the command it runs and are stopped after it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from relivchats.adapters.local_services import url_answers
from tests.services import POSTGRES_URL, REDIS_URL

REPOSITORY = Path(__file__).resolve().parents[2]

# What pytest would do with the URLs it is given: connect to both, then report them.
PROBE = """
import json, os, psycopg, redis
urls = {name: os.environ[name] for name in ("TEST_POSTGRES_URL", "TEST_REDIS_URL")}
with psycopg.connect(urls["TEST_POSTGRES_URL"]) as conn:
    conn.execute("SELECT 1")
redis.Redis.from_url(urls["TEST_REDIS_URL"]).ping()
print(json.dumps(urls))
"""


def urls_given_to_a_command(
    data_dir: Path, *wrapper: str, env: dict[str, str] | None = None
) -> dict[str, str]:
    services = [sys.executable, "-m", "tests.services", "--data-dir", str(data_dir)]
    done = subprocess.run(
        [*wrapper, *services, sys.executable, "-c", PROBE],
        cwd=REPOSITORY,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.slow
def test_without_system_servers_embedded_ones_serve_the_command_and_stop_after_it(tmp_path):
    urls = urls_given_to_a_command(tmp_path, "scripts/without-system-servers.sh")

    assert urls["TEST_POSTGRES_URL"].endswith(f"?host={tmp_path / 'postgres'}")
    assert urls["TEST_REDIS_URL"].startswith("unix://")
    assert urls["TEST_REDIS_URL"].endswith("?db=15")  # the database the tests were told to use
    assert not url_answers(urls["TEST_POSTGRES_URL"])
    assert not url_answers(urls["TEST_REDIS_URL"])


def test_servers_that_answer_are_used_as_they_are(tmp_path):
    env = {**os.environ, "TEST_POSTGRES_URL": POSTGRES_URL, "TEST_REDIS_URL": REDIS_URL}

    urls = urls_given_to_a_command(tmp_path, env=env)

    assert urls == {"TEST_POSTGRES_URL": POSTGRES_URL, "TEST_REDIS_URL": REDIS_URL}
    assert not (tmp_path / "postgres").exists()
    assert url_answers(POSTGRES_URL)
    assert url_answers(REDIS_URL)
