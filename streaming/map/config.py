"""The map's ``config.json``: what the page needs to find the streams, and nothing secret.

Format (JSON object, the page validates it too)::

    {
      "region": "us-east-1",
      "identityPoolId": "us-east-1:0f3c…",          # Cognito identity pool, unauthenticated identities
      "guestRoleArn": "arn:aws:iam::…:role/…",      # the pool's guest role (Cognito's basic flow)
      "endpoint": "http://127.0.0.1:4566",          # null on AWS (the SDK's regional endpoints)
      "streams": {"source": "wildrydes-map", "summary": "wildrydes-summary"},  # the map's own stream
      "tiles": null,                                # or {"url": ".../{z}/{x}/{y}.png", "attribution": "…"}
      "pollIntervalMs": 1000
    }

It is made from the stack's outputs (:func:`from_outputs`): locally on every request, so a redeploy is picked
up; for AWS ``wildrydes deploy --aws`` writes it once with :func:`write_config` and ``wildrydes map --aws``
serves that file (``infra/cli/map.py`` knows where these files are).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_URL = re.compile(r"^https?://[^\s]+$")


class MapError(Exception):
    """The map cannot be served (with what to do)."""


class MapConfigError(MapError):
    """The map cannot be configured (no deploy yet, or an invalid config file)."""


@dataclass(frozen=True)
class TileConfig:
    url: str
    attribution: str = ""
    max_zoom: int = 19


@dataclass(frozen=True)
class MapConfig:
    region: str
    identity_pool_id: str
    guest_role_arn: str
    source_stream: str
    summary_stream: str
    endpoint: str | None = None
    tiles: TileConfig | None = None
    poll_interval_ms: int = 1000

    def __post_init__(self) -> None:
        problems = [name for name, value in (("region", self.region), ("identityPoolId", self.identity_pool_id),
                                             ("guestRoleArn", self.guest_role_arn),
                                             ("streams.source", self.source_stream),
                                             ("streams.summary", self.summary_stream))
                    if not isinstance(value, str) or not value.strip()]
        if self.endpoint is not None and not _URL.match(self.endpoint):
            problems.append("endpoint")
        if self.tiles is not None and not _URL.match(self.tiles.url):
            problems.append("tiles.url")
        if not 200 <= self.poll_interval_ms <= 60_000:
            problems.append("pollIntervalMs (200..60000)")
        if problems:
            raise MapConfigError(f"map config: missing or invalid {', '.join(problems)}")

    def to_json(self) -> dict[str, Any]:
        tiles = None
        if self.tiles:
            tiles = {"url": self.tiles.url, "attribution": self.tiles.attribution, "maxZoom": self.tiles.max_zoom}
        return {
            "region": self.region,
            "identityPoolId": self.identity_pool_id,
            "guestRoleArn": self.guest_role_arn,
            "endpoint": self.endpoint,
            "streams": {"source": self.source_stream, "summary": self.summary_stream},
            "tiles": tiles,
            "pollIntervalMs": self.poll_interval_ms,
        }

    @classmethod
    def from_json(cls, data: Any) -> MapConfig:
        if not isinstance(data, dict):
            raise MapConfigError("map config: not a JSON object")
        streams = data.get("streams") or {}
        tiles = data.get("tiles")
        try:
            return cls(
                region=data.get("region", ""),
                identity_pool_id=data.get("identityPoolId", ""),
                guest_role_arn=data.get("guestRoleArn", ""),
                source_stream=streams.get("source", ""),
                summary_stream=streams.get("summary", ""),
                endpoint=data.get("endpoint"),
                tiles=TileConfig(tiles["url"], tiles.get("attribution", ""), int(tiles.get("maxZoom", 19)))
                if tiles else None,
                poll_interval_ms=int(data.get("pollIntervalMs", 1000)),
            )
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            raise MapConfigError(f"map config: invalid ({error})") from None

    def with_tiles(self, tiles: TileConfig | None) -> MapConfig:
        return MapConfig(self.region, self.identity_pool_id, self.guest_role_arn, self.source_stream,
                         self.summary_stream, self.endpoint, tiles, self.poll_interval_ms)


def from_outputs(outputs: dict[str, Any], endpoint: str | None, region: str | None = None) -> MapConfig:
    """From stack outputs: the ``Outputs`` of a local outputs.json, or what ``wildrydes deploy --aws`` got."""
    needed = ("MapIdentityPoolId", "MapUnauthenticatedRoleArn", "MapStreamName", "SummaryStreamName")
    missing = [key for key in needed if not outputs.get(key)]
    if missing:
        raise MapConfigError(f"the deployed stack has no {', '.join(missing)} output: redeploy with `wildrydes deploy`")
    return MapConfig(
        region=region or outputs.get("Region") or "",
        identity_pool_id=outputs["MapIdentityPoolId"],
        guest_role_arn=outputs["MapUnauthenticatedRoleArn"],
        source_stream=outputs["MapStreamName"],
        summary_stream=outputs["SummaryStreamName"],
        endpoint=endpoint,
    )


def read_config(path: Path) -> MapConfig:
    try:
        return MapConfig.from_json(json.loads(path.read_text()))
    except FileNotFoundError:
        raise MapConfigError(f"{path} does not exist (for AWS, `wildrydes deploy --aws` writes it)") from None
    except ValueError as error:
        raise MapConfigError(f"{path} is not valid JSON: {error}") from None


def write_config(path: Path, config: MapConfig) -> Path:
    """Writes the config atomically (temporary file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(config.to_json(), indent=2) + "\n")
    os.replace(tmp, path)
    return path
