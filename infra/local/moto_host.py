"""The moto host: moto's server app for S3, Glue, IAM, STS, Cognito Identity, SQS and the Lambda,
Firehose and Athena control planes, made durable by ``moto_state``. Run as its own process by the
supervisor; only the gateway talks to it."""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server
from werkzeug.test import EnvironBuilder

from infra.local import moto_patches
from infra.local.moto_state import DurableState, JournalEntry
from infra.local.mutations import is_mutation, operation_name

log = logging.getLogger("wildrydes.moto_host")

SNAPSHOT_EVERY_S = 60.0
SNAPSHOT_JOURNAL_BYTES = 256 * 1024 * 1024
_SKIPPED_HEADERS = {"HTTP_HOST", "HTTP_CONTENT_LENGTH", "HTTP_CONNECTION"}


def _request_body(environ: dict[str, Any]) -> bytes:
    length = environ.get("CONTENT_LENGTH")
    stream = environ["wsgi.input"]
    if length:
        return stream.read(int(length))
    if environ.get("wsgi.input_terminated"):
        return stream.read()
    return b""


class JournalingApp:
    """WSGI middleware: journal every successful mutation before its response is released."""

    def __init__(self, app: Any, state: DurableState) -> None:
        self.app = app
        self.state = state

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_wildrydes/"):
            return self._admin(path, start_response)
        body = _request_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        method = environ["REQUEST_METHOD"]
        operation = operation_name(environ.get("HTTP_X_AMZ_TARGET"), body, environ.get("CONTENT_TYPE"))
        if not is_mutation(method, operation):
            return self.app(environ, start_response)
        status: list[str] = []

        def capture(code: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status.append(code)
            return start_response(code, headers, exc_info)

        with self.state.lock:
            random_state = self.state.capture_random_state()
            response = b"".join(self.app(environ, capture))
            if status and status[0][:1] == "2":
                self.state.append(
                    JournalEntry(
                        method=method,
                        path=path,
                        query=environ.get("QUERY_STRING", ""),
                        headers=_headers_of(environ),
                        body=body,
                        random_state=random_state,
                    )
                )
        return [response]

    def replay(self, entry: JournalEntry) -> int:
        builder = EnvironBuilder(
            method=entry.method,
            path=entry.path,
            query_string=entry.query,
            headers=entry.headers,
            data=entry.body,
        )
        environ = builder.get_environ()
        status: list[str] = []
        with self.state.lock:
            self.state_random(entry.random_state)
            for _ in self.app(environ, lambda code, headers, exc_info=None: status.append(code)):
                pass
        return int(status[0].split()[0]) if status else 500

    @staticmethod
    def state_random(random_state: object) -> None:
        from moto.moto_api._internal import mock_random

        mock_random.setstate(random_state)  # type: ignore[arg-type]

    def _admin(self, path: str, start_response: Any) -> list[bytes]:
        if path == "/_wildrydes/snapshot":
            seconds = self.state.snapshot()
            payload = {"generation": self.state.generation, "seconds": round(seconds, 3)}
        elif path == "/_wildrydes/health":
            payload = {
                "status": "ok",
                "generation": self.state.generation,
                "journal_entries": self.state.entries_since_snapshot,
                "journal_bytes": self.state.journal_bytes,
            }
        else:
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [b'{"error": "unknown admin path"}']
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(payload).encode()]


def _headers_of(environ: dict[str, Any]) -> list[tuple[str, str]]:
    headers = [
        (key[5:].replace("_", "-").title(), value)
        for key, value in environ.items()
        if key.startswith("HTTP_") and key not in _SKIPPED_HEADERS
    ]
    if environ.get("CONTENT_TYPE"):
        headers.append(("Content-Type", environ["CONTENT_TYPE"]))
    return headers


def _not_implemented(error: NotImplementedError) -> tuple[str, int, dict[str, str]]:
    # The gateway turns this into the AWS error shape of the caller's protocol.
    return json.dumps({"message": f"{error} (has not been implemented)"}), 501, {"Content-Type": "text/plain"}


def _snapshot_loop(state: DurableState, stop: threading.Event) -> None:
    last = time.monotonic()
    while not stop.wait(1.0):
        due = time.monotonic() - last >= SNAPSHOT_EVERY_S and state.entries_since_snapshot
        if due or state.journal_bytes >= SNAPSHOT_JOURNAL_BYTES:
            try:
                state.snapshot()
            except Exception:  # keep serving: the journal still holds everything
                log.exception("snapshot failed; the journal keeps growing until one succeeds")
            last = time.monotonic()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="moto host of the local AWS endpoint")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--state-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s moto %(levelname)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # Keep object bodies above 1 MiB in temporary files rather than in this process's memory.
    os.environ.setdefault("MOTO_S3_DEFAULT_KEY_BUFFER_SIZE", str(1024 * 1024))
    os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )

    moto_patches.apply()
    def backend_app(service: str) -> Any:
        flask_app = create_backend_app(service)  # type: ignore[arg-type]
        flask_app.register_error_handler(NotImplementedError, _not_implemented)
        return flask_app

    app = JournalingApp(DomainDispatcherApplication(backend_app), DurableState(args.state_dir))
    started = time.monotonic()
    generation, replayed = app.state.load(app.replay)
    log.info(
        "state restored: snapshot %d, %d journal entries replayed in %.2fs",
        generation, replayed, time.monotonic() - started,
    )
    server = make_server(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)
    stop = threading.Event()
    threading.Thread(target=_snapshot_loop, args=(app.state, stop), daemon=True).start()

    def shutdown(signum: int, frame: Any) -> None:
        stop.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    print(f"moto host ready on {args.host}:{server.server_port}", flush=True)
    server.serve_forever()
    app.state.snapshot()
    app.state.close()
    log.info("state saved: snapshot %d", app.state.generation)
    return 0


if __name__ == "__main__":
    sys.exit(main())
