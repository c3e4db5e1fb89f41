"""`python -m bench [NAME ...]`: run every benchmark module (or the named ones), write the report.

A benchmark module is any `bench/<name>.py` with a `main()`; it returns rows (dicts with `what`,
`conditions`, `figure`, `baseline`, `ratio`) or prints its own report and returns None. The rows
of every module go to `bench/results/latest.md`, with the machine they were measured on.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from bench.common import Row, ensure_wrk, markdown_table

HERE = Path(__file__).parent
NOT_BENCHMARKS = {"__init__", "__main__", "common"}


def benchmark_modules(names: list[str]) -> list[ModuleType]:
    found = sorted(path.stem for path in HERE.glob("*.py") if path.stem not in NOT_BENCHMARKS)
    unknown = set(names) - set(found)
    if unknown:
        raise SystemExit(
            f"no benchmark named {', '.join(sorted(unknown))} (have {', '.join(found)})"
        )
    modules = [importlib.import_module(f"bench.{name}") for name in names or found]
    return [module for module in modules if callable(getattr(module, "main", None))]


def run(module: ModuleType) -> tuple[list[Row], str]:
    """The module's rows and a status line; a failing benchmark does not stop the others."""
    name = module.__name__.removeprefix("bench.")
    started = time.perf_counter()
    saved_argv, sys.argv = sys.argv, [f"bench/{name}.py"]  # modules may parse their own options
    try:
        rows = module.main() or []
        status = "ok"
    except Exception:  # a benchmark's failure is reported, the run goes on
        traceback.print_exc()
        rows, status = [], "failed (see console)"
    finally:
        sys.argv = saved_argv
    seconds = time.perf_counter() - started
    print(f"bench {name}: {status} in {seconds:.0f} s", flush=True)
    return [{"bench": name, **row} for row in rows], f"{name}: {status}, {seconds:.0f} s"


def report(rows: list[Row], statuses: list[str]) -> str:
    machine = (
        f"{platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()},"
        f" {platform.platform()}"
    )
    return "\n".join(
        [
            "# Benchmark results",
            "",
            f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine}.",
            "Ratios compare with a baseline measured in the same run, under the same conditions.",
            "",
            markdown_table(rows) if rows else "(no rows)",
            "",
            "Modules: " + "; ".join(statuses),
            "",
        ]
    )


def main() -> int:
    ensure_wrk()
    rows: list[Row] = []
    statuses: list[str] = []
    for module in benchmark_modules(sys.argv[1:]):
        module_rows, status = run(module)
        rows += module_rows
        statuses.append(status)
        print(markdown_table(module_rows) if module_rows else "", flush=True)
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / "latest.md").write_text(report(rows, statuses), encoding="utf-8")
    print(f"wrote {results / 'latest.md'}")
    return 1 if any("failed" in status for status in statuses) else 0


if __name__ == "__main__":
    sys.exit(main())
