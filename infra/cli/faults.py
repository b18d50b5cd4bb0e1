"""`wildrydes local faults ...`: inject AWS errors and slow responses into the running local endpoint.

Talks to the gateway's loopback-only admin API (``/_wildrydes/faults``, localaws/gateway/faults.py). Rules live
in the gateway's memory: they apply at once and are gone when the platform restarts.
"""

from __future__ import annotations

import argparse
import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from infra.errors import WildrydesError
from localaws.errors import endpoint_not_running
from localaws.settings import LocalSettings, default_data_dir
from localaws.supervisor.supervisor import RunFiles

ERRORS_HELP = ("ProvisionedThroughputExceededException (Kinesis, DynamoDB), ThrottlingException (S3: 503 SlowDown), "
               "InternalFailure (500), ServiceUnavailable (503), or any other code with --status")


def add_faults_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``faults`` under the ``local`` command of the top-level parser's ``subparsers``."""
    local = subparsers.choices["local"]
    commands = next(a for a in local._actions if isinstance(a, argparse._SubParsersAction))
    faults = commands.add_parser(
        "faults", help="inject AWS errors and slow responses into the local endpoint",
        description="Inject AWS errors (throttling, 5xx) and added latency per service and operation into the "
                    "running local endpoint, to see the platform retry. Rules apply at once and last until "
                    "cleared or the platform stops.")
    actions = faults.add_subparsers(dest="faults_command", required=True, metavar="ACTION")

    add = actions.add_parser(
        "add", help="add a fault rule",
        description="Add a fault rule. Example: wildrydes local faults add --service kinesis --operation PutRecords "
                    "--error ProvisionedThroughputExceededException --probability 0.3")
    add.add_argument("--service", required=True, help="kinesis, dynamodb, s3, glue, athena, sqs, lambda, ... or *")
    add.add_argument("--operation", default="*", help="API operation, e.g. PutRecords, GetObject (default: all)")
    add.add_argument("--error", help=ERRORS_HELP)
    add.add_argument("--status", type=int, help="HTTP status of an error code the endpoint does not know")
    add.add_argument("--delay-ms", type=int, help="answer this many milliseconds later (with --error: then fail)")
    add.add_argument("--probability", type=float, help="chance that a matching call is faulted (default 1)")
    add.add_argument("--count", type=int, help="fault at most this many calls (entries with --per-record)")
    add.add_argument("--expires-in", type=float, metavar="SECONDS", help="stop faulting after this many seconds")
    add.add_argument("--per-record", action="store_true",
                     help="fail single entries instead of the call: PutRecords ErrorCode results (kinesis), "
                          "UnprocessedItems (dynamodb BatchWriteItem); --probability is then per entry")
    add.add_argument("--seed", type=int, help="random seed of this rule's draws")
    _common(add)
    add.set_defaults(func=_add)

    listing = actions.add_parser("list", help="show the rules and how many faults each injected",
                                 description="Show the fault rules, their counters and the totals per operation.")
    _common(listing)
    listing.add_argument("--json", action="store_true", help="print machine-readable JSON")
    listing.set_defaults(func=_list)

    clear = actions.add_parser("clear", help="remove every rule (or one with --id)",
                               description="Remove the fault rules (all, or the one given with --id).")
    clear.add_argument("--id", help="the rule to remove, e.g. f1")
    _common(clear)
    clear.set_defaults(func=_clear)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="data directory of the running platform (default .wildrydes/ or WILDRYDES_DATA_DIR)")
    parser.add_argument("--endpoint", help="the local endpoint's URL (default: the running platform's)")


def endpoint_of(args: argparse.Namespace) -> str:
    if args.endpoint:
        return args.endpoint.rstrip("/")
    data_dir = (args.data_dir or default_data_dir()).resolve()
    running = RunFiles(data_dir).read()
    if running and running.get("endpoint"):
        return str(running["endpoint"]).rstrip("/")
    return LocalSettings(data_dir, port=int(os.environ.get("WILDRYDES_PORT", 4566))).endpoint_url


def call(endpoint: str, method: str, path: str = "", payload: Any = None) -> Any:
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(f"{endpoint}/_wildrydes/faults{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        try:
            detail = json.loads(error.read()).get("error")
        except ValueError:
            detail = None
        if error.code == 404 and detail is None:
            raise WildrydesError(f"the endpoint at {endpoint} has no fault injection (an older gateway?)") from None
        raise WildrydesError(f"fault rule refused: {detail or error.reason}") from None
    except (urllib.error.URLError, OSError):
        raise endpoint_not_running(endpoint) from None


def _add(args: argparse.Namespace) -> int:
    rule: dict[str, Any] = {"service": args.service, "operation": args.operation}
    for key, value in (("error", args.error), ("status", args.status), ("delay_ms", args.delay_ms),
                       ("probability", args.probability), ("count", args.count), ("expires_in_s", args.expires_in),
                       ("seed", args.seed)):
        if value is not None:
            rule[key] = value
    if args.per_record:
        rule["per_record"] = True
    added = call(endpoint_of(args), "POST", payload=rule)["rules"][0]
    print(f"added fault {added['id']}: {_summary(added)}")
    return 0


def _list(args: argparse.Namespace) -> int:
    state = call(endpoint_of(args), "GET")
    if args.json:
        print(json.dumps(state, indent=2))
        return 0
    if not state["rules"]:
        print("no fault rules")
    for rule in state["rules"]:
        status = "active" if rule["active"] else "spent/expired"
        print(f"{rule['id']:<5} {_summary(rule)}  [{status}; matched {rule['matched']}, injected {rule['injected']}]")
    if state["totals"]:
        print(f"injected so far: {state['injected']}")
        for key, count in state["totals"].items():
            print(f"  {key:<60} {count}")
    return 0


def _clear(args: argparse.Namespace) -> int:
    state = call(endpoint_of(args), "DELETE", f"/{args.id}" if args.id else "")
    removed = state["removed"]
    print(f"removed {len(removed)} fault rule(s)" + "".join(
        f"\n  {r['id']:<5} {_summary(r)}  [injected {r['injected']}]" for r in removed))
    return 0


def _summary(rule: dict[str, Any]) -> str:
    what = []
    if rule.get("error"):
        what.append(rule["renders_as"] or rule["error"])
    if rule.get("delay_ms"):
        what.append(f"+{rule['delay_ms']} ms")
    limits = [f"p={rule['probability']:g}"]
    if rule.get("count") is not None:
        limits.append(f"at most {rule['count']}")
    if rule.get("expires_at") is not None:
        limits.append("expiring")
    return f"{rule['service']} {rule['operation']}: {' and '.join(what)} ({', '.join(limits)})"
