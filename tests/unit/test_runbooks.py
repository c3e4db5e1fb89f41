"""docs/runbooks/: one page per failure the issue lists, each with its four parts, and every
command a page names exists: a `relivchats` command's `--help` succeeds and its arguments parse
as written (placeholders filled with example values); another tool's `--help` succeeds when it
is installed here, and it must be one of the standard tools an operator has."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from relivchats.cli.main import build_parser

RUNBOOKS = Path(__file__).parents[2] / "docs" / "runbooks"
PAGES = (
    "projection-stopped.md",
    "projection-lagging.md",
    "postgres-down.md",
    "redis-down.md",
    "worker-stuck.md",
    "job-stuck.md",
    "webhook-failures.md",
    "flagged-orders.md",
    "rebuild-read-model.md",
    "rotate-keys.md",
    "restore-backup.md",
)
# Tools outside this project that pages may name; each is checked with --help where installed.
STANDARD_TOOLS = {"curl", "psql", "pg_isready", "pg_restore", "pg_resetwal", "redis-cli", "celery"}
PLACEHOLDERS = {
    "USER_ID": str(uuid.uuid4()),
    "ORDER_ID": str(uuid.uuid4()),
    "YOUR_NAME": "on-call",
}


def commands() -> list[tuple[str, list[str]]]:
    """(page, words) of every command line in the pages' sh blocks."""
    found = []
    for page in sorted(RUNBOOKS.glob("*.md")):
        for block in re.findall(r"```sh\n(.*?)```", page.read_text(), re.S):
            for line in block.strip().splitlines():
                found.append((page.name, shlex.split(line, comments=True)))
    return found


def test_every_failure_of_the_issue_has_a_page_with_its_four_parts() -> None:
    for name in PAGES:
        text = (RUNBOOKS / name).read_text()
        assert "```sh" in text, f"{name} names no command"
        if name not in ("rebuild-read-model.md", "rotate-keys.md", "restore-backup.md"):
            for part in ("**Symptoms.**", "**Confirm.**", "**What to do.**", "**Verify.**"):
                assert part in text, f"{name} lacks {part}"
    index = (RUNBOOKS / "README.md").read_text()
    assert all(f"({name})" in index for name in PAGES)


def test_the_pages_name_relivchats_commands_and_only_standard_tools_besides() -> None:
    tools = {words[0] for _, words in commands()}
    assert "relivchats" in tools
    assert tools - {"relivchats"} <= STANDARD_TOOLS


RELIVCHATS = [(page, words) for page, words in commands() if words[0] == "relivchats"]


@pytest.mark.parametrize(("page", "words"), RELIVCHATS, ids=[" ".join(w) for _, w in RELIVCHATS])
def test_each_relivchats_command_exists_and_its_arguments_parse(
    page: str, words: list[str]
) -> None:
    arguments = [PLACEHOLDERS.get(word, word) for word in words[1:]]
    subcommand = [word for word in arguments if re.fullmatch(r"[a-z][a-z-]*", word)][:2]
    with contextlib.redirect_stdout(io.StringIO()) as shown, pytest.raises(SystemExit) as ended:
        build_parser().parse_args([*subcommand, "--help"])
    assert ended.value.code == 0 and "usage: relivchats" in shown.getvalue()
    if "--help" not in arguments:
        parsed = build_parser().parse_args(arguments)  # exits 2 on an unknown option or argument
        assert callable(parsed.handler), page


OTHERS = sorted({words[0] for _, words in commands() if words[0] != "relivchats"})


@pytest.mark.parametrize("tool", OTHERS)
def test_each_other_tool_answers_help_where_installed(tool: str) -> None:
    path = shutil.which(tool) or shutil.which(
        tool, path=str(Path(__import__("sys").executable).parent)
    )
    if path is None:
        pytest.skip(f"{tool} is not installed on this machine")
    finished = subprocess.run([path, "--help"], capture_output=True, timeout=60, check=False)
    assert finished.returncode == 0, finished.stderr
