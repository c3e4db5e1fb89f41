"""Benchmark: parse + statistics of a generated 100,000-message WhatsApp export (quality.md P6).

Prints, for our pipeline (intake, header layout detection, one split of the whole text, message
classification, then statistics), the parse and statistics seconds and the peak RSS, side by side
with whatstk alone parsing the same file with its own format auto-detection, as a ratio measured
in the same run. Every measurement runs in a fresh child process (so peak RSS is its own, and
imports are warmed before the clock starts); the median of the repeats is reported.

    .venv/bin/python bench/upload_parse.py [--messages 100000] [--style NAME] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.chat_exports import STYLE_BY_NAME, generate_chat, render_export  # noqa: E402

PARTICIPANTS = ("Asha", "Ben")


def main() -> None:
    options = _options()
    if options.child:
        print(json.dumps(_measure(options.child, Path(options.path))))
        return
    style = STYLE_BY_NAME[options.style]
    export = render_export(generate_chat(options.messages, style=style), style).encode("utf-8")
    with tempfile.NamedTemporaryFile(suffix=".txt") as chat_file:
        chat_file.write(export)
        chat_file.flush()
        ours = [_in_child("ours", chat_file.name) for _ in range(options.repeats)]
        alone = [_in_child("whatstk_auto", chat_file.name) for _ in range(options.repeats)]
    _report(options, len(export), ours, alone)


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--style", choices=sorted(STYLE_BY_NAME), default="android_us_12h_new")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", choices=["ours", "whatstk_auto"], help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    return parser.parse_args()


def _in_child(what: str, path: str) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", what, "--path", path]
    finished = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    measured: dict[str, float] = json.loads(finished.stdout)
    return measured


def _measure(what: str, path: Path) -> dict[str, float]:
    started = time.perf_counter()
    if what == "ours":
        from relivchats.adapters.whatsapp import parse_upload, warm_up
        from relivchats.domain.statistics import compute_statistics

        warm_up()
    else:
        from whatstk.whatsapp.parser import df_from_whatsapp
    imported = time.perf_counter()
    rss_after_imports = _peak_rss_mb()
    if what == "ours":
        chat = parse_upload(path.read_bytes())
        parsed = time.perf_counter()
        compute_statistics(chat)
        messages = len(chat)
    else:
        messages = len(df_from_whatsapp(str(path)))
        parsed = time.perf_counter()
    done = time.perf_counter()
    return {
        "import_s": imported - started,
        "parse_s": parsed - imported,
        "stats_s": done - parsed,
        "rss_after_imports_mb": rss_after_imports,
        "peak_rss_mb": _peak_rss_mb(),
        "messages": messages,
    }


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _report(
    options: argparse.Namespace,
    size: int,
    ours: list[dict[str, float]],
    alone: list[dict[str, float]],
) -> None:
    def median(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(run[key] for run in runs)

    parse_s, stats_s = median(ours, "parse_s"), median(ours, "stats_s")
    whatstk_s = median(alone, "parse_s")
    print(
        f"conditions: {options.messages:,} messages, {len(PARTICIPANTS)} participants, "
        f"style {options.style}, export {size / 1024**2:.1f} MB, median of {options.repeats} "
        f"runs, each in a fresh process; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}, "
        f"Python {platform.python_version()}"
    )
    print(f"ours: parse {parse_s:.2f} s + statistics {stats_s:.2f} s = {parse_s + stats_s:.2f} s")
    print(
        f"ours: peak RSS {median(ours, 'peak_rss_mb'):.0f} MB "
        f"(after imports {median(ours, 'rss_after_imports_mb'):.0f} MB); "
        f"imports and warm-up {median(ours, 'import_s'):.2f} s, paid once per process"
    )
    print(f"whatstk alone, format auto-detected: parse {whatstk_s:.2f} s, ", end="")
    print(f"peak RSS {median(alone, 'peak_rss_mb'):.0f} MB")
    print(f"ratio: whatstk-alone parse / our parse = {whatstk_s / parse_s:.2f}x")
    print("\n| what | parse s | stats s | peak RSS MB | vs whatstk auto |")
    print("|---|---|---|---|---|")
    print(
        f"| upload parse + stats, {options.messages:,} msgs | {parse_s:.2f} | {stats_s:.2f} | "
        f"{median(ours, 'peak_rss_mb'):.0f} | {whatstk_s / parse_s:.2f}x faster |"
    )


if __name__ == "__main__":
    main()
