"""``python -m localaws.athena --port P --data-dir D``: the local Athena engine.

It reaches Glue and S3 only through ``AWS_ENDPOINT_URL`` (the same environment every platform
process gets) and refuses to start without it, so it can never touch real AWS by accident.
State lives under ``<data dir>/athena/``: queries.sqlite3 (query history), results/ (pages for
GetQueryResults), cache/ (local copies of S3 objects), tmp/ (DuckDB spill files).
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

import boto3
from aiohttp import web
from botocore.config import Config

from localaws import event_loops
from localaws.athena.api import LOOP_HEADER, AthenaApi, WorkGroups
from localaws.athena.catalog import Catalog
from localaws.athena.context import Services
from localaws.athena.duck import DuckDatabases
from localaws.athena.executor import Executor
from localaws.athena.objects import ObjectStore
from localaws.athena.server import Server
from localaws.athena.store import QueryStore
from localaws.errors import LocalError
from localaws.moto.counters import FILE_NAME as COUNTS_FILE
from localaws.moto.counters import CountersView

log = logging.getLogger("wildrydes.athena")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m localaws.athena", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="port to listen on (127.0.0.1 only)")
    parser.add_argument("--data-dir", type=Path, required=True, help="the platform's data directory")
    parser.add_argument("--workers", type=int, default=4, help="queries executed concurrently (default 4)")
    parser.add_argument("--duckdb-threads", type=int, default=max(1, os.cpu_count() or 1),
                        help="DuckDB threads per query (default: the CPU count)")
    parser.add_argument("--memory-limit", default="4GB", help="memory limit of each worker's DuckDB (default 4GB)")
    parser.add_argument("--query-timeout", type=float, default=1800.0,
                        help="seconds before a running query fails with EXCEEDED_TIME_LIMIT (default 1800)")
    parser.add_argument("--moto-counts", type=Path,
                        help="the moto host's mutation counts file (its state directory's "
                             f"'{COUNTS_FILE}'): freshness checks read it instead of asking the endpoint")
    parser.add_argument("--cache-max-gb", type=float, default=4.0,
                        help="bound of the local cache of S3 objects, in GiB (default 4)")
    return parser.parse_args(argv)


def _clients(endpoint: str) -> dict[str, Any]:
    config = Config(retries={"max_attempts": 3, "mode": "standard"}, max_pool_connections=64,
                    connect_timeout=10, read_timeout=120)
    session = boto3.session.Session()
    clients = {name: session.client(name, endpoint_url=endpoint, config=config)
               for name in ("glue", "athena", "sts")}
    # Result files (tens of MB) go to the local endpoint over plain HTTP, where botocore would hash every
    # body with SHA-256 to sign it and again with CRC32 for a checksum header: on a small machine that
    # costs as much as the upload. The endpoint needs neither (UNSIGNED-PAYLOAD; checksums only for the
    # operations that require one).
    clients["s3"] = session.client("s3", endpoint_url=endpoint, config=config.merge(Config(
        s3={"payload_signing_enabled": False}, request_checksum_calculation="when_required",
        response_checksum_validation="when_required")))

    def mark(request: Any, **_: Any) -> None:
        request.headers[LOOP_HEADER] = "1"

    clients["athena"].meta.events.register("before-sign.athena.*", mark)
    return clients


def _account_id(sts: Any) -> str:
    try:
        return str(sts.get_caller_identity()["Account"])
    except Exception:
        return os.environ.get("AWS_ACCOUNT_ID", "123456789012")


async def _serve(server: Server, port: int, stop: asyncio.Event) -> None:
    runner = web.AppRunner(server.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    log.info("local Athena engine listening on http://127.0.0.1:%d", port)
    await stop.wait()
    await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stdout)
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        print("the local Athena engine needs AWS_ENDPOINT_URL (the local endpoint serving Glue and S3)",
              file=sys.stderr)
        return 2
    try:
        event_loops.enabled()
    except LocalError as error:
        print(f"the local Athena engine: {error}", file=sys.stderr)
        return 2
    root = args.data_dir.resolve() / "athena"
    root.mkdir(parents=True, exist_ok=True)
    lock = (root / "engine.lock").open("a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"another Athena engine already serves {root}: one engine per data directory", file=sys.stderr)
        return 1
    clients = _clients(endpoint)
    store = QueryStore(root)
    failed = store.fail_interrupted()
    if failed:
        log.warning("%d queries were running when the engine last stopped: marked FAILED", len(failed))
    store.prune(root / "results")
    services = Services(
        catalog=Catalog(clients["glue"]),
        objects=ObjectStore(clients["s3"], root / "cache", int(args.cache_max_gb * 1024 ** 3)),
        duck=DuckDatabases(root / "tmp", root / "cache" / "objects", args.duckdb_threads, args.memory_limit),
        moto_counts=CountersView(args.moto_counts) if args.moto_counts else None,
    )
    executor = Executor(store, services, root / "results", args.workers, args.query_timeout)
    api = AthenaApi(store, executor, services.catalog, WorkGroups(clients["athena"]), clients["athena"],
                    _account_id(clients["sts"]))
    server = Server(api)

    loop = event_loops.new_event_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        loop.run_until_complete(_serve(server, args.port, stop))
    except OSError as error:
        print(f"the local Athena engine cannot listen on 127.0.0.1:{args.port}: {error}", file=sys.stderr)
        return 1
    finally:
        executor.shutdown()
        services.duck.close()
        store.close()
        loop.close()
    log.info("local Athena engine stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
