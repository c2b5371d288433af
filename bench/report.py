"""Result tables (plain text and Markdown) and the machine description."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.runner import ImplResult, ScenarioResult

IMPL_TITLES = {"raw": "raw", "athanor": "athanor", "sqlalchemy": "SQLAlchemy"}
RATIOS = (("athanor", "raw"), ("athanor", "sqlalchemy"), ("sqlalchemy", "raw"))
RATIO_TITLES = ("ath/raw", "ath/SA", "SA/raw")
METRIC_TITLES = {
    "ops_per_s": "throughput, ops/s",
    "p50_wait_us": "checkout wait p50, µs",
    "p99_wait_us": "checkout wait p99, µs",
    "p999_wait_us": "checkout wait p99.9, µs",
    "max_wait_us": "checkout wait max, µs",
    "us_per_call": "µs per call",
}


def seconds(value: float) -> str:
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.1f} ms"
    return f"{value * 1e6:.0f} µs"


def cell(r: ImplResult) -> str:
    if r.absent:
        return "—"
    median = r.median
    if median is None:
        return "n/a"
    spread = r.spread
    return seconds(median) + ("" if spread is None else f" ±{spread * 100:.0f}%")


def ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def number(value: float) -> str:
    """A metric value: whole numbers when large, three significant digits when small."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = platform.processor() or "?"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions: dict[str, str | None] = {}
    for package in ("SQLAlchemy", "athanor-db", "psycopg", "psycopg-binary", "PyMySQL", "asyncpg"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    try:
        revision = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except OSError:
        revision = ""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "git": revision or None,
        "platform": platform.platform(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "python": sys.version.split()[0],
        "versions": versions,
    }


def _rows(results: list[ScenarioResult]) -> tuple[list[str], list[list[str]]]:
    header = ["scenario", "n", *IMPL_TITLES.values(), *RATIO_TITLES]
    rows = []
    for result in results:
        impls = [cell(result.impls[name]) if name in result.impls else "—" for name in IMPL_TITLES]
        ratios = [ratio(result.ratio(a, b)) for a, b in RATIOS]
        rows.append([result.scenario.name, f"{result.ops:,}", *impls, *ratios])
    return header, rows


def _memory_rows(results: list[ScenarioResult]) -> tuple[list[str], list[list[str]]]:
    header = ["peak RSS growth (MiB)", *IMPL_TITLES.values(), "ath/raw", "ath/SA"]
    rows = []
    for result in results:
        mems = {name: r.memory for name, r in result.impls.items()}
        if not any(mems.values()):
            continue

        def mib(name: str, mems: dict[str, Any] = mems) -> float | None:
            m = mems.get(name)
            return None if not m or "growth_kib" not in m else m["growth_kib"] / 1024

        cells = []
        for name in IMPL_TITLES:
            m = mems.get(name)
            if m and "error" in m:
                cells.append("error")
            else:
                value = mib(name)
                cells.append("n/a" if value is None else f"{value:.1f}")
        ath, raw, sa = mib("athanor"), mib("raw"), mib("sqlalchemy")
        cells.append(ratio(ath / raw if ath is not None and raw else None))
        cells.append(ratio(ath / sa if ath is not None and sa else None))
        rows.append([result.scenario.name, *cells])
    return header, rows


def _metric_lines(results: list[ScenarioResult]) -> list[str]:
    lines = []
    for result in results:
        per_impl = {name: r.median_metrics() for name, r in result.impls.items()}
        keys = next((list(m) for m in per_impl.values() if m), None)
        if not keys:
            continue
        for key in keys:
            values = ", ".join(
                f"{IMPL_TITLES[name]} {number(per_impl[name][key])}"
                if key in per_impl[name]
                else f"{IMPL_TITLES[name]} n/a"
                for name in result.impls
            )
            lines.append(f"{result.scenario.name} {METRIC_TITLES.get(key, key)}: {values}")
    return lines


def _target_lines(results: list[ScenarioResult]) -> list[str]:
    """How many targets (issues 6, 10, 11) athanor met, then each miss and by how much."""
    met = 0
    missed = []
    for result in results:
        if result.impls.get("athanor") is None or result.impls["athanor"].median is None:
            continue
        name = result.scenario.name
        for label, bound in result.scenario.targets_for(result.database).items():
            top, bottom = label.split("/")
            value = result.ratio(top, bottom)
            if value is None:
                continue
            if value <= bound:
                met += 1
            else:
                missed.append(
                    f"{name}: {label} {value:.2f}x, target {bound:.2f}x "
                    f"(missed by {(value / bound - 1) * 100:.0f}%)"
                )
        for metric in result.scenario.lower_metrics:
            ours = result.impls["athanor"].median_metrics().get(metric)
            peer = result.impls.get("sqlalchemy")
            theirs = None if peer is None else peer.median_metrics().get(metric)
            if ours is None or theirs is None:
                continue
            if ours < theirs:
                met += 1
            else:
                title = METRIC_TITLES.get(metric, metric)
                missed.append(
                    f"{name}: {title} athanor {ours:,.0f} vs SQLAlchemy {theirs:,.0f}, "
                    "target: lower"
                )
        for metric, bound in result.scenario.metric_bounds.items():
            ours = result.impls["athanor"].median_metrics().get(metric)
            if ours is None:
                continue
            if ours <= bound:
                met += 1
            else:
                title = METRIC_TITLES.get(metric, metric)
                missed.append(
                    f"{name}: {title} {ours:.3g}, target {bound:.3g} "
                    f"(missed by {(ours / bound - 1) * 100:.0f}%)"
                )
    if not met and not missed:
        return []
    return [f"targets: {met} of {met + len(missed)} met", *missed]


def _failure_lines(results: list[ScenarioResult]) -> list[str]:
    """One line per distinct error and implementation, naming the scenarios it hit."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for result in results:
        for name, r in result.impls.items():
            if r.error is not None:
                grouped.setdefault((name, r.error), []).append(result.scenario.name)
    return [
        f"{name}: not available ({error}) in {', '.join(names)}"
        for (name, error), names in grouped.items()
    ]


def _text_table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(r: list[str]) -> str:
        first = r[0].ljust(widths[0])
        rest = [v.rjust(w) for v, w in zip(r[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest])

    return [line(header), "  ".join("-" * w for w in widths), *[line(r) for r in rows]]


def _markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    aligns = ["---"] + ["--:"] * (len(header) - 1)
    return [
        "| " + " | ".join(r) + " |"
        for r in [header, aligns, *[[f"`{r[0]}`", *r[1:]] for r in rows]]
    ]


def render(title: str, results: list[ScenarioResult], markdown: bool = False) -> str:
    """The table for one database, then metrics, memory and failures."""
    table: Callable[[list[str], list[list[str]]], list[str]]
    table = _markdown_table if markdown else _text_table
    out = [f"### {title}" if markdown else f"== {title} ==", ""]
    out += table(*_rows(results))
    metrics = _metric_lines(results)
    if metrics:
        out += ["", *[("- " if markdown else "") + m for m in metrics]]
    header, mem_rows = _memory_rows(results)
    if mem_rows:
        out += ["", *table(header, mem_rows)]
    targets = _target_lines(results)
    if targets:
        out += ["", targets[0] + (":" if len(targets) > 1 else "")]
        out += [("- " if markdown else "  ") + t for t in targets[1:]]
    failures = _failure_lines(results)
    if failures:
        out += ["", *[("- " if markdown else "") + f for f in failures]]
    return "\n".join(out) + "\n"
