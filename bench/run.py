"""Command line: ``python -m bench [--quick] [--db ...] [--scenario ...] [--json PATH]``.

Also runnable as ``python bench/run.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from time import perf_counter

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import databases
from bench.registry import FULL, QUICK, Implementation, Scenario, all_scenarios, larger
from bench.report import machine, render
from bench.runner import Plan, Runner, ScenarioResult, filter_scenarios

IMPLEMENTATIONS = ("raw", "athanor", "sqlalchemy")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="athanor vs the raw DBAPI driver vs SQLAlchemy, as ratios of medians.",
    )
    parser.add_argument("--db", help="comma separated: sqlite,postgresql,mysql (default all)")
    parser.add_argument(
        "--scenario",
        action="append",
        help="scenario name, suite (insert, load, select, transaction, pool, async) or glob "
        "such as 'load.*'; repeatable or comma separated",
    )
    parser.add_argument("--impl", help="comma separated: raw,athanor,sqlalchemy (default all)")
    parser.add_argument("--quick", action="store_true", help="small scale smoke run (~1 min)")
    parser.add_argument("--large", action="store_true", help="load scenarios read 500,000 rows")
    parser.add_argument("--reps", type=int, help="fixed repetitions (default: 3-7 by budget)")
    parser.add_argument("--json", metavar="PATH", help="write every timing to PATH")
    parser.add_argument("--markdown", metavar="PATH", help="write the tables as Markdown")
    parser.add_argument("--no-memory", action="store_true", help="skip peak memory subprocesses")
    parser.add_argument(
        "--profile",
        metavar="IMPL",
        choices=IMPLEMENTATIONS,
        help="instead of timing, run each chosen scenario once for IMPL under cProfile and "
        "print the functions taking the most time",
    )
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    return parser.parse_args(argv)


def _profile(runner: Runner, db: databases.Database, todo: list[Scenario], name: str) -> None:
    impl = next((i for i in runner.impls if i.name == name), None) or Implementation.load(name)
    if impl.error is not None:
        raise SystemExit(f"{name}: not available ({impl.error})")
    for scenario in todo:
        print(f"\n== profile: {name}, {db.name}, {scenario.name} ==", flush=True)
        print(runner.profile(db, scenario, impl, top=30), flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    scenarios = all_scenarios()
    if args.list:
        for s in scenarios:
            print(f"{s.name:32} [{','.join(s.databases)}] {s.doc}")
        return 0
    patterns = None
    if args.scenario:
        patterns = [p for arg in args.scenario for p in arg.split(",") if p]
    chosen = filter_scenarios(scenarios, patterns)
    if not chosen:
        raise SystemExit(f"no scenario matches {patterns}")

    scale = QUICK if args.quick else FULL
    if args.large:
        scale = larger(scale)
    plan = Plan(scale, reps=args.reps, memory=not args.no_memory)
    if args.quick:
        plan.max_reps, plan.budget_s, plan.timeout_s = 3, 1.0, 30.0
    names = args.impl.split(",") if args.impl else list(IMPLEMENTATIONS)
    unknown = set(names) - set(IMPLEMENTATIONS)
    if unknown:
        raise SystemExit(f"unknown implementation {', '.join(sorted(unknown))}")
    impls = [Implementation.load(name) for name in names]
    for impl in impls:
        if impl.error:
            print(f"{impl.name}: not available ({impl.error})", file=sys.stderr)

    info = machine()
    print(
        f"athanor benchmark, {info['date']}, scale {scale.name}; {info['cpus']} CPUs "
        f"({info['cpu']}), load average {info['load_average'][0]:.2f}, Python {info['python']}, "
        f"SQLAlchemy {info['versions']['SQLAlchemy']}",
        flush=True,
    )
    began = perf_counter()
    runner = Runner(impls, plan)
    everything: list[ScenarioResult] = []
    descriptions: dict[str, str] = {}
    sections: list[str] = []
    try:
        for name in databases.iter_names(args.db):
            todo = filter_scenarios(chosen, patterns=None, database=name)
            if not todo:
                continue
            db = databases.make(name)
            try:
                db.setup()
                descriptions[name] = db.describe()
            except Exception as error:
                print(f"\n== {name}: database not available ({error}) ==", flush=True)
                continue
            if args.profile:
                try:
                    _profile(runner, db, todo, args.profile)
                finally:
                    db.close()
                continue
            try:
                results = runner.run_database(db, todo)
            finally:
                db.close()
            everything += results
            title = f"{name}: {descriptions[name]}"
            print("\n" + render(title, results), flush=True)
            sections.append(render(title, results, markdown=True))
    finally:
        runner.close()
    elapsed = perf_counter() - began
    info["load_average_end"] = os.getloadavg()
    print(f"done in {elapsed:.0f} s", flush=True)

    if args.json:
        payload = {
            "machine": info,
            "scale": scale.__dict__,
            "databases": descriptions,
            "elapsed_s": elapsed,
            "results": [r.as_json() for r in everything],
        }
        Path(args.json).write_text(json.dumps(payload, indent=1) + "\n")
    if args.markdown:
        head = (
            f"Measured {info['date']} (athanor at `{info['git']}`) on {info['cpus']} CPUs "
            f"({info['cpu']}), "
            f"Python {info['python']}, scale `{scale.name}`, load average "
            f"{info['load_average'][0]:.2f} at start, {info['load_average_end'][0]:.2f} at end; "
            f"{elapsed:.0f} s.\n\n"
        )
        Path(args.markdown).write_text(head + "\n".join(sections))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
