"""`wildrydes produce` into the local endpoint: records/s sustained, median of several runs.
``python -m bench producer [--records 300000] [--runs 3] [--quick]``."""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import RESULTS_DIR, add_result_options, commit_of, host, result_stem
from tests.support.stack import started_stack

NAME = "producer"
DESCRIPTION = "wildrydes produce into the local endpoint: sustained records/s (median of runs)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench producer", description=DESCRIPTION)
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--unicorns", type=int, default=1000)
    parser.add_argument("--in-flight", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="one run of 50,000 records")
    add_result_options(parser)
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    stem = result_stem("producer-quick" if args.quick else "producer", args)
    machine = host()
    if args.quick:
        args.records, args.runs = 50_000, 1
    rates: list[float] = []
    summaries: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="wildrydes-bench-producer-", dir="/tmp"))
    # Only the endpoint and the stream: no Lambda runtime or Firehose reading it meanwhile.
    for stack in started_stack(work, ["--no-producer", "--parameter", "TumblingWindowInSeconds=60"]):
        lam = stack.client("lambda")  # nothing reads the stream meanwhile
        for mapping in lam.list_event_source_mappings()["EventSourceMappings"]:
            lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
        for run in range(args.runs):
            result = subprocess.run(
                [sys.executable, "-m", "infra.cli", "produce", "--unicorns", str(args.unicorns), "--rate", "1000000",
                 "--count", str(args.records), "--seed", str(run), "--in-flight", str(args.in_flight)],
                env={**os.environ, **stack.env}, capture_output=True, text=True, timeout=1800)
            summary = result.stdout.strip().splitlines()[-1]
            summaries.append(summary)
            match = re.search(r"= ([\d,]+) rec/s", summary)
            if result.returncode != 0 or not match:
                print(summary, result.stderr[-2000:], file=sys.stderr)
                return 1
            rates.append(float(match.group(1).replace(",", "")))
            print(summary, flush=True)
    results: dict[str, Any] = {
        "command": shlex.join(["python", "-m", "bench", "producer", *argv]), "machine": machine,
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count(),
        "settings": vars(args), "rates": rates, "median_records_per_s": statistics.median(rates),
        "summaries": summaries,
    }
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"{stem}.json").write_text(json.dumps(results, indent=2))
    (RESULTS_DIR / f"{stem}.md").write_text(
        f"# Producer benchmark ({results['date']}, {results['cpus']} cores, commit {commit_of(machine)})\n\n"
        f"`{results['command']}`, with the platform's event source mappings disabled (nothing reads the stream).\n\n"
        f"`wildrydes produce` into the local endpoint, {args.records:,} records per run, {args.unicorns} unicorns, "
        f"{args.in_flight} PutRecords calls in flight: median **{results['median_records_per_s']:,.0f} records/s** "
        f"over {len(rates)} runs ({', '.join(f'{r:,.0f}' for r in rates)}).\n")
    print(f"median {results['median_records_per_s']:,.0f} records/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
