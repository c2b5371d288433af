"""Peak memory of one run of one scenario by one implementation, in this (fresh) process.

The runner starts ``python -m bench.memory`` once per implementation after filling the table,
so memory freed by other implementations or scenarios cannot hide or inflate a peak. Linux
only: after the untimed preparation the kernel's peak-RSS mark is reset (``5`` written to
``/proc/self/clear_refs``); the figure is ``VmHWM`` after the run minus ``VmRSS`` before it.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
from pathlib import Path

from bench import databases
from bench.registry import LOADED, Ctx, Implementation, Scale, all_scenarios


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> str:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return "VmHWM (peak not reset: includes import and setup)"
    return "VmHWM after reset - VmRSS before the run"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--scenario", required=True)
    parser.add_argument("--impl", required=True)
    parser.add_argument("--scale", required=True, help="Scale as JSON")
    args = parser.parse_args(argv)

    scale = Scale(**json.loads(args.scale))
    scenario = {s.name: s for s in all_scenarios()}[args.scenario]
    db = databases.make(args.db)
    if scenario.data == LOADED:
        db.state = ("loaded", scale.load_rows)  # the parent filled the table
    impl = Implementation.load(args.impl)
    if impl.error is not None:
        raise SystemExit(impl.error)
    body = scenario.body_for(impl)
    assert body is not None
    ctx = Ctx(db, impl, scale)
    if scenario.is_async:
        loop = asyncio.new_event_loop()
        run = loop.run_until_complete(body(ctx))
        gc.collect()
        method = _reset_peak()
        before = _status_kib("VmRSS")
        loop.run_until_complete(run())
    else:
        run = body(ctx)
        gc.collect()
        method = _reset_peak()
        before = _status_kib("VmRSS")
        run()
    peak = _status_kib("VmHWM")
    print(
        json.dumps(
            {"peak_kib": peak, "before_kib": before, "growth_kib": peak - before, "method": method}
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
