"""The streaming pipeline at 1, 2 and 4 source shards, side by side in one run: the same fleet, rate and
window against a fresh stack per shard count, one after the other, so the figures share the machine's
conditions. Reports each count's achieved rate, window-end → DynamoDB delay (p50/p99), completeness and the
CPU of the Lambda runtime and Kinesis. ``python -m bench shards [--rate 4000] [--minutes 3] [--shards 1,2,4]``;
results in bench/results/shards-<rate>-<minutes>min.json and .md.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from datetime import UTC, datetime
from typing import Any

from bench import RESULTS_DIR, add_result_options, commit_of, pipeline, result_stem

NAME = "shards"
DESCRIPTION = "pipeline throughput and window-end → DynamoDB delay at 1, 2 and 4 shards, side by side"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench shards", description=DESCRIPTION)
    parser.add_argument("--rate", type=float, default=4000, help="target records/s (default 4000)")
    parser.add_argument("--unicorns", type=int, default=1000, help="fleet size (default 1000)")
    parser.add_argument("--minutes", type=float, default=3.0, help="how long to produce per count (default 3)")
    parser.add_argument("--window", type=int, default=60, help="tumbling window in seconds (default 60)")
    parser.add_argument("--shards", default="1,2,4", help="shard counts, comma-separated (default 1,2,4)")
    parser.add_argument("--quick", action="store_true", help="30 s at 1,000 records/s, 10 s windows, 1 and 2 shards")
    add_result_options(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.rate, args.unicorns, args.minutes, args.window, args.shards = 1000, 100, 0.5, 10, "1,2"
    args.counts = [int(part) for part in args.shards.split(",") if part.strip()]
    if not args.counts or min(args.counts) < 1:
        parser.error("--shards takes positive shard counts, e.g. 1,2,4")
    return args


def row(shards: int, result: dict[str, Any]) -> dict[str, Any]:
    resources = result["resources"]
    return {
        "shards": shards,
        "achieved_per_s": result["rate"]["achieved_per_s"],
        "lost": result["completeness"]["lost"],
        "delay_p50_s": result["delay_s"]["p50"],
        "delay_p99_s": result["delay_s"]["p99"],
        "items": result["delay_s"]["items"],
        "lambda_cpu_percent": resources.get("lambda", {}).get("cpu_percent_mean"),
        "kinesis_cpu_percent": resources.get("kinesis", {}).get("cpu_percent_mean"),
        "archive_complete_s_after_producer": result["archive"]["complete_s_after_producer"],
    }


def render_markdown(results: dict[str, Any]) -> str:
    s = results["settings"]
    lines = [f"# Shards benchmark ({results['date']}, {results['machine']['cpus']} cores)", "",
             f"`{results['command']}`: {s['rate']:,.0f} records/s target from {s['unicorns']} unicorns for "
             f"{s['minutes']} min per shard count, {s['window']} s windows, a fresh stack per count, run one "
             f"after the other. Commit {commit_of(results['machine'])}.", "",
             "| shards | achieved rec/s | lost | delay p50 s | delay p99 s | items | Lambda runtime CPU % | "
             "Kinesis CPU % | archive complete after producer, s |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results["rows"]:
        lines.append(f"| {r['shards']} | {r['achieved_per_s']:,.0f} | {r['lost']} | {r['delay_p50_s']} | "
                     f"{r['delay_p99_s']} | {r['items']} | {r['lambda_cpu_percent']} | {r['kinesis_cpu_percent']} | "
                     f"{r['archive_complete_s_after_producer']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    name = result_stem("shards-quick" if args.quick else f"shards-{args.rate:.0f}-{args.minutes:g}min", args)
    results: dict[str, Any] = {"command": shlex.join(["python", "-m", "bench", "shards", *argv]),
                               "date": datetime.now(UTC).isoformat(timespec="seconds"),
                               "settings": {k: v for k, v in vars(args).items() if k != "counts"},
                               "runs": {}, "rows": []}
    for shards in args.counts:
        print(f"-- {shards} shard(s)", flush=True)
        run_args = argparse.Namespace(rate=args.rate, unicorns=args.unicorns, minutes=args.minutes,
                                      window=args.window, shards=shards, quick=False)
        result = pipeline.run(run_args)
        results["machine"] = result["machine"]
        results["runs"][str(shards)] = result
        results["rows"].append(row(shards, result))
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(results, indent=2))
    (RESULTS_DIR / f"{name}.md").write_text(render_markdown(results))
    print(render_markdown(results))
    return 0 if all(r["lost"] == 0 for r in results["rows"]) else 1


if __name__ == "__main__":
    sys.exit(main())
