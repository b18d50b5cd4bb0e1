"""The moto host: moto's server app for S3, Glue, IAM, STS, Cognito Identity, SQS and the Lambda,
Firehose and Athena control planes, made durable by ``moto_state``. Run as its own process by the
supervisor; only the gateway talks to it."""

from __future__ import annotations

import argparse
import contextlib
import io
import ipaddress
import json
import logging
import os
import random
import signal
import sys
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from werkzeug.serving import make_server
from werkzeug.test import EnvironBuilder

from localaws.moto import iam_admin
from localaws.moto import patches as moto_patches
from localaws.moto.counters import FILE_NAME as COUNTS_FILE
from localaws.moto.counters import Counters
from localaws.moto.state import DurableState, JournalEntry
from localaws.wire.operations import is_mutation, operation_name
from localaws.wire.routing import service_of

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


MUTATIONS_HEADER = "X-Wildrydes-Mutations"


class MutationCounts:
    """How many mutations moto has applied, per scope: Glue (one scope), each S3 bucket, and S3 as a
    whole for requests whose bucket is not in the path. Every response to a Glue or S3 read carries the
    counts of its scopes, taken before the read is served, with this process's boot id
    (``X-Wildrydes-Mutations``): two reads with the same value saw the same state of that scope, so a
    client (the Athena engine) can keep what it read and check it with one cheap request, or without
    one by mapping the counts' file (counters.py) when it shares the machine."""

    def __init__(self, path: Path | None = None) -> None:
        self._counters = Counters(path)
        self.boot = self._counters.boot

    @staticmethod
    def scopes(environ: dict[str, Any]) -> tuple[str, ...]:
        service = service_of(environ.get("HTTP_AUTHORIZATION"), environ.get("HTTP_X_AMZ_TARGET"),
                             environ.get("QUERY_STRING", ""))
        if service == "glue":
            return ("glue",)
        if service != "s3":
            return ()
        host = environ.get("HTTP_HOST", "").rsplit(":", 1)[0].strip("[]")
        bucket = environ.get("PATH_INFO", "").lstrip("/").split("/", 1)[0]
        if bucket and _path_style(host):
            return ("s3", f"s3:{bucket}")
        return ("s3",)

    def stamp(self, scopes: tuple[str, ...]) -> str:
        return self._counters.stamp(scopes)

    def bump(self, scopes: tuple[str, ...]) -> None:
        """After a mutation: the bucket's count when the bucket is known, else all of S3's."""
        for scope in scopes[-1:]:
            self._counters.bump(scope)


def _path_style(host: str) -> bool:
    """A request to an IP address or plain localhost names its bucket in the path."""
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class RandomStreams:
    """moto draws every identifier from one generator, ``mock_random``, and every response's request id
    too, reads included. A mutation's identifiers are regenerated on replay from the generator's state
    captured before it ran, so a read served meanwhile by another thread must not draw from the same
    generator: the replay would then make other ids (a mapping's UUID, an identity pool's id) than the
    ones the client was given. Mutations draw from ``mock_random`` itself; everything else from another."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._others = random.Random()

    def install(self) -> None:
        from moto.moto_api._internal import mock_random

        shared_bits, shared_random = mock_random.getrandbits, mock_random.random
        # Every draw of random.Random's methods goes through these two (uuid4, choice, shuffle, uniform…).
        mock_random.getrandbits = lambda k: shared_bits(k) if self.mutating() else self._others.getrandbits(k)
        mock_random.random = lambda: shared_random() if self.mutating() else self._others.random()

    def mutating(self) -> bool:
        return getattr(self._local, "mutating", False)

    @contextlib.contextmanager
    def mutation(self) -> Iterator[None]:
        self._local.mutating = True
        try:
            yield
        finally:
            self._local.mutating = False


RANDOM_STREAMS = RandomStreams()


class JournalingApp:
    """WSGI middleware: journal every successful mutation before its response is released; count
    mutations per scope and stamp reads with the counts (MutationCounts)."""

    def __init__(self, app: Any, state: DurableState, counts_file: Path | None = None) -> None:
        self.app = app
        self.state = state
        self.mutations = MutationCounts(counts_file)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_wildrydes/"):
            return self._admin(path, environ.get("QUERY_STRING", ""), start_response)
        body = _request_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        # the stream now holds exactly the body: werkzeug may read it whole rather than copy it in 64 KiB steps
        environ["wsgi.input_terminated"] = True
        method = environ["REQUEST_METHOD"]
        operation = operation_name(environ.get("HTTP_X_AMZ_TARGET"), body, environ.get("CONTENT_TYPE"))
        scopes = self.mutations.scopes(environ)
        if not is_mutation(method, operation):
            if not scopes:
                return self.app(environ, start_response)
            stamp = self.mutations.stamp(scopes)

            def stamped(code: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                return start_response(code, [*headers, (MUTATIONS_HEADER, stamp)], exc_info)

            return self.app(environ, stamped)
        status: list[str] = []

        def capture(code: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status.append(code)
            return start_response(code, headers, exc_info)

        with self.state.lock, RANDOM_STREAMS.mutation():
            random_state = self.state.capture_random_state()
            try:
                response = b"".join(self.app(environ, capture))
            finally:  # counted even when it failed: a failed request may have changed something
                self.mutations.bump(scopes)
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
        with self.state.lock, RANDOM_STREAMS.mutation():
            self.state_random(entry.random_state)
            for _ in self.app(environ, lambda code, headers, exc_info=None: status.append(code)):
                pass
        return int(status[0].split()[0]) if status else 500

    @staticmethod
    def state_random(random_state: object) -> None:
        from moto.moto_api._internal import mock_random

        mock_random.setstate(random_state)  # type: ignore[arg-type]

    def _admin(self, path: str, query: str, start_response: Any) -> list[bytes]:
        if path.startswith("/_wildrydes/iam/"):
            return self._iam(path.removeprefix("/_wildrydes/iam/"), query, start_response)
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


    def _iam(self, what: str, query: str, start_response: Any) -> list[bytes]:
        """The gateway's view of IAM: ``principal?AccessKeyId=``, ``role?RoleArn=``, ``bucket-policy?Bucket=``,
        ``web-identity?Token=``; 404 with ``null`` when there is no such thing."""
        params = {key: values[0] for key, values in parse_qs(query).items()}
        lookups = {
            "principal": lambda: iam_admin.principal(params.get("AccessKeyId", "")),
            "role": lambda: iam_admin.role(params.get("RoleArn", "")),
            "bucket-policy": lambda: iam_admin.bucket_policy(params.get("Bucket", "")),
            "web-identity": lambda: iam_admin.web_identity(params.get("Token", "")),
        }
        if what not in lookups:
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [b'{"error": "unknown admin path"}']
        with self.state.lock:
            payload = lookups[what]()
        start_response("200 OK" if payload is not None else "404 Not Found", [("Content-Type", "application/json")])
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


VALUE_CACHE_MIN_BYTES = 1024 * 1024
VALUE_CACHE_MAX_BYTES = 256 * 1024 * 1024


class ValueCache:
    """moto keeps an object's body in a temporary file and reads all of it for every GET, a ranged one
    included (then slices): a client reading a 50 MB object in 5 MB ranges makes moto read 500 MB.
    The bodies of large objects just read are kept here (least recently used first out, bounded), and
    dropped when the object's body is set again or the object disposed, so a body served from here
    is always the object's current one."""

    def __init__(self, max_bytes: int = VALUE_CACHE_MAX_BYTES, min_bytes: int = VALUE_CACHE_MIN_BYTES) -> None:
        self.max_bytes = max_bytes
        self.min_bytes = min_bytes
        self._entries: OrderedDict[int, tuple[weakref.ref[Any], bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Any) -> bytes | None:
        with self._lock:
            entry = self._entries.get(id(key))
            if entry is None or entry[0]() is not key:
                return None
            self._entries.move_to_end(id(key))
            return entry[1]

    def put(self, key: Any, value: bytes) -> None:
        if len(value) < self.min_bytes or len(value) > self.max_bytes:
            return
        with self._lock:
            self._drop(id(key))
            self._entries[id(key)] = (weakref.ref(key), value)
            self._bytes += len(value)
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._entries)))

    def forget(self, key: Any) -> None:
        with self._lock:
            self._drop(id(key))

    def _drop(self, ident: int) -> None:
        entry = self._entries.pop(ident, None)
        if entry is not None:
            self._bytes -= len(entry[1])


def cache_large_values(cache: ValueCache) -> None:
    """Serve moto's S3 object bodies through ``cache``: the getter reads the body (under the object's
    lock, as moto does) only when it is not cached; the setter and dispose forget it first."""
    from moto.s3 import models as s3_models

    key_class = s3_models.FakeKey
    original = key_class.value
    original_dispose = key_class.dispose

    def get_value(self: Any) -> bytes:
        with self.lock:
            cached = cache.get(self)
            if cached is not None:
                return cached
            self._value_buffer.seek(0)
            value = self._value_buffer.read()
            cache.put(self, value)
            return value

    def set_value(self: Any, new_value: bytes) -> None:
        lock = getattr(self, "lock", None)  # the constructor sets the value before the lock exists
        with lock if lock is not None else contextlib.nullcontext():
            cache.forget(self)
            original.fset(self, new_value)

    def dispose(self: Any, *args: Any, **kwargs: Any) -> Any:
        cache.forget(self)
        return original_dispose(self, *args, **kwargs)

    original_etag = key_class.etag

    def etag(self: Any) -> str:
        # moto hashes the body from the same file position the getter reads from, without the lock: a
        # body read while the ETag is computed could be read from the wrong position (and then kept)
        lock = getattr(self, "lock", None)
        if self._etag is None and lock is not None:
            with lock:
                return str(original_etag.fget(self))
        return str(original_etag.fget(self))

    key_class.value = property(get_value, set_value)  # type: ignore[method-assign,assignment]
    key_class.etag = property(etag)  # type: ignore[method-assign,assignment]
    key_class.dispose = dispose  # type: ignore[method-assign]


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
    RANDOM_STREAMS.install()
    cache_large_values(ValueCache())

    def backend_app(service: str) -> Any:
        flask_app = create_backend_app(service)  # type: ignore[arg-type]
        flask_app.register_error_handler(NotImplementedError, _not_implemented)
        return flask_app

    state = DurableState(args.state_dir)
    app = JournalingApp(DomainDispatcherApplication(backend_app), state, args.state_dir / COUNTS_FILE)
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
