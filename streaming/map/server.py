"""The live map's web server: the built page (``site/``) and its ``config.json``, on loopback, with a
strict Content-Security-Policy. Where the config comes from is the caller's (``ConfigSource``): the
`wildrydes map` command (``infra/cli/map.py``) derives it from the deploy.
"""

from __future__ import annotations

import json
import mimetypes
import sys
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from streaming.map.config import MapConfig, MapError

SITE_DIR = Path(__file__).resolve().parent / "site"
DEFAULT_MAP_PORT = 8000
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".json": "application/json",
         ".html": "text/html; charset=utf-8", ".png": "image/png", ".svg": "image/svg+xml", ".txt": "text/plain"}

ConfigSource = Callable[[], MapConfig]


def content_security_policy(config: MapConfig | None) -> str:
    """Scripts and data from this server only; API calls to the configured endpoint (or the region's AWS
    endpoints); images from here and the tile server when one is configured."""
    connect = ["'self'"]
    if config and config.endpoint:
        parts = urlsplit(config.endpoint)
        connect.append(f"{parts.scheme}://{parts.netloc}")
    elif config:
        # Cognito's basic flow ends with STS AssumeRoleWithWebIdentity (the SDK v3 uses STS's regional endpoint).
        connect += [f"https://kinesis.{config.region}.amazonaws.com",
                    f"https://cognito-identity.{config.region}.amazonaws.com",
                    f"https://sts.{config.region}.amazonaws.com"]
    images = ["'self'", "data:"]
    if config and config.tiles:
        parts = urlsplit(config.tiles.url.replace("{s}", "*"))
        images.append(f"{parts.scheme}://{parts.netloc}")
    return (f"default-src 'none'; script-src 'self'; style-src 'self'; img-src {' '.join(images)}; "
            f"connect-src {' '.join(connect)}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


class MapHandler(BaseHTTPRequestHandler):
    server_version = "wildrydes-map"
    config_source: ConfigSource
    site_dir: Path = SITE_DIR

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        if self.path.startswith(("/config.json", "/healthz")) and len(args) > 1 and str(args[1]).startswith("2"):
            return  # the page polls nothing else; keep the log to errors and page loads
        sys.stderr.write(f"map | {self.address_string()} {format % args}\n")

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
        self.do_GET(head=True)

    def do_GET(self, head: bool = False) -> None:  # noqa: N802
        path = unquote(urlsplit(self.path).path)
        if path == "/healthz":
            self._send(HTTPStatus.OK, b"ok\n", "text/plain", head=head)
        elif path == "/config.json":
            self._config(head)
        else:
            self._static("/index.html" if path == "/" else path, head)

    def _config(self, head: bool) -> None:
        try:
            config = self.config_source()
        except MapError as error:
            body = json.dumps({"error": str(error)}).encode()
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, body, "application/json", head=head)
            return
        body = json.dumps(config.to_json(), indent=2).encode()
        self._send(HTTPStatus.OK, body, "application/json", head=head)

    def _static(self, path: str, head: bool) -> None:
        root = self.site_dir.resolve()
        target = (root / path.lstrip("/")).resolve()
        if root not in target.parents or not target.is_file():
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain", head=head)
            return
        kind = TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        self._send(HTTPStatus.OK, target.read_bytes(), kind, head=head)

    def _send(self, status: HTTPStatus, body: bytes, kind: str, head: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        if kind.startswith("text/html"):
            try:
                config: MapConfig | None = self.config_source()
            except MapError:
                config = None
            self.send_header("Content-Security-Policy", content_security_policy(config))
        self.end_headers()
        if not head:
            self.wfile.write(body)


def make_server(host: str, port: int, config_source: ConfigSource, site_dir: Path = SITE_DIR) -> ThreadingHTTPServer:
    if not (site_dir / "index.html").is_file():
        raise MapError(f"the map is not built ({site_dir / 'index.html'} is missing): run `make install` "
                       "(or `npm ci && npm run build` in streaming/map)")
    handler = type("BoundMapHandler", (MapHandler,), {"config_source": staticmethod(config_source),
                                                      "site_dir": site_dir})
    try:
        server = ThreadingHTTPServer((host, port), handler)
    except OSError as error:
        raise MapError(f"cannot listen on {host}:{port} ({error.strerror}): is another `wildrydes map` "
                             "running? choose another --port") from None
    server.daemon_threads = True
    return server
