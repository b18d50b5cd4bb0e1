"""``wildrydes map``: serves the live map (``site/``) and its ``config.json`` on loopback.

``python -m streaming.map.server`` runs the same command (``make up`` starts it that way).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import mimetypes
import sys
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from localaws.settings import DEFAULT_HOST, default_data_dir
from streaming.map.config import MapConfig, MapError, TileConfig, aws_config_path, local_config, read_config

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
        connect += [f"https://kinesis.{config.region}.amazonaws.com",
                    f"https://cognito-identity.{config.region}.amazonaws.com"]
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
        raise MapError(f"the map is not built ({site_dir / 'index.html'} is missing): "
                             "run `npm ci && npm run build` in streaming/map")
    handler = type("BoundMapHandler", (MapHandler,), {"config_source": staticmethod(config_source),
                                                      "site_dir": site_dir})
    try:
        server = ThreadingHTTPServer((host, port), handler)
    except OSError as error:
        raise MapError(f"cannot listen on {host}:{port} ({error.strerror}): is another `wildrydes map` "
                             "running? choose another --port") from None
    server.daemon_threads = True
    return server


def _config_source(args: argparse.Namespace) -> ConfigSource:
    data_dir = (args.data_dir or default_data_dir()).resolve()
    tiles = TileConfig(args.tiles, args.tiles_attribution or "") if args.tiles else None
    if args.config or args.aws:
        path = args.config or aws_config_path(data_dir)
        fixed = read_config(path)  # fail at start on a bad file

        def from_file() -> MapConfig:
            config = read_config(path) if path.exists() else fixed
            return config.with_tiles(tiles) if tiles else config

        return from_file

    def from_local() -> MapConfig:
        config = local_config(data_dir, args.endpoint)
        return config.with_tiles(tiles) if tiles else config

    return from_local


def add_map_command(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "map", help="serve the live map of the fleet on this machine",
        description="Serve the live map (a static page reading Kinesis with guest Cognito credentials) and its "
                    "config.json. By default the config comes from the local deploy (<data dir>/deploy/"
                    "outputs.json); --aws serves the one `wildrydes deploy --aws` wrote.",
    )
    configure_parser(parser)
    return parser


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=DEFAULT_MAP_PORT, help=f"port (default {DEFAULT_MAP_PORT})")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help="address to listen on (default 127.0.0.1; the local endpoint only accepts pages "
                             "served from loopback)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="data directory of the local platform (default .wildrydes/ or WILDRYDES_DATA_DIR)")
    parser.add_argument("--endpoint", default=None,
                        help="local AWS endpoint the page talks to (default: the running stack's)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--aws", action="store_true",
                        help="serve the AWS config written by `wildrydes deploy --aws` "
                             f"(<data dir>/deploy/{aws_config_path(Path('.')).name})")
    source.add_argument("--config", type=Path, default=None, help="serve this config.json file")
    parser.add_argument("--tiles", default=None, metavar="URL",
                        help="online tile URL template ({z}/{x}/{y}); default: the offline basemap")
    parser.add_argument("--tiles-attribution", default=None, help="attribution text of the tiles")
    parser.set_defaults(func=run_map)


def run_map(args: argparse.Namespace, ready: threading.Event | None = None) -> int:
    source = _config_source(args)
    server = make_server(args.host, args.port, source)
    host, port = server.server_address[:2]
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    print(f"map: http://{shown}:{port}/", flush=True)
    if not ipaddress.ip_address(host).is_loopback:
        print(f"map: warning: listening on {host}, beyond this machine", flush=True)
    try:
        source()
    except MapError as error:
        print(f"map: not configured yet: {error} (the page retries)", flush=True)
    if ready:
        ready.set()
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        return 130
    finally:
        server.server_close()
    return 0


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    import signal

    parser = argparse.ArgumentParser(prog="wildrydes map", description="Serve the live map.")
    configure_parser(parser)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # stop like Ctrl-C when the supervisor stops us
    try:
        return run_map(args)
    except MapError as error:
        print(f"wildrydes map: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
