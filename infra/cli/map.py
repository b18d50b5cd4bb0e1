"""``wildrydes map``: serves the live map and its ``config.json`` on loopback.

Locally the config is made on every request from the last deploy's outputs (``infra.deploy.state``), so a
redeploy is picked up; the endpoint is the one given, else the running platform's, else the deploy's.
``--aws`` serves the config `wildrydes deploy --aws` wrote (``aws_config_path``).
"""

from __future__ import annotations

import argparse
import ipaddress
import threading
from pathlib import Path
from typing import Any

from infra.deploy.state import read_outputs
from localaws.settings import DEFAULT_HOST, default_data_dir
from localaws.supervisor.supervisor import RunFiles
from streaming.map.config import MapConfig, MapConfigError, MapError, TileConfig, from_outputs, read_config
from streaming.map.server import DEFAULT_MAP_PORT, ConfigSource, make_server

AWS_CONFIG_NAME = "map-config.aws.json"


def aws_config_path(data_dir: Path) -> Path:
    return data_dir / "deploy" / AWS_CONFIG_NAME


def local_config(data_dir: Path, endpoint: str | None = None) -> MapConfig:
    """The config for the local endpoint, from the last local deploy's outputs."""
    document = read_outputs(data_dir)
    if document is None:
        raise MapConfigError(f"nothing deployed yet in {data_dir}: start the platform with `wildrydes local up`")
    running = RunFiles(data_dir).read() or {}
    endpoint = endpoint or running.get("endpoint") or document.get("EndpointUrl")
    if not isinstance(endpoint, str) or not endpoint:
        raise MapConfigError(f"the deploy in {data_dir} names no endpoint: redeploy with `wildrydes deploy`")
    return from_outputs(document.get("Outputs") or {}, endpoint, document.get("Region"))


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
                    "config.json. By default the config comes from the local deploy; --aws serves the one "
                    "`wildrydes deploy --aws` wrote.",
    )
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
                        help=f"serve the AWS config written by `wildrydes deploy --aws` (<data dir>/deploy/"
                             f"{AWS_CONFIG_NAME})")
    source.add_argument("--config", type=Path, default=None, help="serve this config.json file")
    parser.add_argument("--tiles", default=None, metavar="URL",
                        help="online tile URL template ({z}/{x}/{y}); default: the offline basemap")
    parser.add_argument("--tiles-attribution", default=None, help="attribution text of the tiles")
    parser.set_defaults(func=run_map)
    return parser


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
