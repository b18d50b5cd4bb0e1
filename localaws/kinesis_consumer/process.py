"""The skeleton of a consumer process, ``python -m localaws.<consumer> --data-dir D``: its arguments and
logging, its service loop in a thread, SIGTERM and SIGINT as a clean stop."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol


class Service(Protocol):
    stop: threading.Event

    def run(self) -> None: ...


class Worker(Protocol):
    stop: threading.Event

    def shutdown(self) -> None: ...


def serve(description: str, build: Callable[[Path], Service], argv: list[str] | None = None) -> int:
    """Builds the service for ``--data-dir`` and runs it until its loop returns; SIGTERM and SIGINT set its
    ``stop``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stdout)
    logging.getLogger("botocore").setLevel(logging.WARNING)
    service = build(args.data_dir)

    def shutdown(signum: int, frame: Any) -> None:
        service.stop.set()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    thread = threading.Thread(target=service.run, daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(0.5)
    return 0


def stop_all(workers: Iterable[Worker]) -> None:
    """Sets every worker's ``stop`` before shutting the first down, so that they wind down together."""
    workers = list(workers)
    for worker in workers:
        worker.stop.set()
    for worker in workers:
        worker.shutdown()
