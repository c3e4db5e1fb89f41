"""`python -m bench [NAME ...]`: run every benchmark module (or the named ones), write the report.

A benchmark module is any `bench/<name>.py` with a `main()`; it returns rows (dicts with `what`,
`conditions`, `figure`, `baseline`, `ratio`) or prints its own report and returns None. Each
module's rows go to `bench/results/<name>.md` with when and where they were measured, and
`bench/results/latest.md` gathers the newest file of every module, so running one benchmark
refreshes its section without dropping the others.
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
    return rows, f"{status} in {seconds:.0f} s"


def machine() -> str:
    """Where, and how busy: on a shared machine the load average says how far to trust a run."""
    one, five, _ = os.getloadavg()
    return (
        f"{platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()},"
        f" {platform.platform()}; load average {one:.1f} (1 min), {five:.1f} (5 min) at the end"
    )


def module_report(name: str, rows: list[Row], status: str) -> str:
    measured = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}"
    table = markdown_table(rows) if rows else "(no rows: the module prints its own report)"
    return f"## {name}\n\nMeasured {measured}; {status}.\n\n{table}\n"


def gathered(results: Path) -> str:
    sections = [path.read_text(encoding="utf-8") for path in sorted(results.glob("*.md"))]
    header = (
        "# Benchmark results\n\nRatios compare with a baseline measured in the same run, under"
        " the same conditions.\n"
    )
    return "\n".join([header, *(s for s in sections if s.startswith("## "))])


def main() -> int:
    ensure_wrk()
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    failed = False
    for module in benchmark_modules(sys.argv[1:]):
        rows, status = run(module)
        name = module.__name__.removeprefix("bench.")
        (results / f"{name}.md").write_text(module_report(name, rows, status), encoding="utf-8")
        print(markdown_table(rows) if rows else "", flush=True)
        failed = failed or "failed" in status
    (results / "latest.md").write_text(gathered(results), encoding="utf-8")
    print(f"wrote {results / 'latest.md'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
